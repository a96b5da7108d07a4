"""The OpenAPI document: valid, served as shipped, in step with the routes, its examples true to its schemas."""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from tests.factories import need_data

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _deref(document: dict, node: dict) -> dict:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _media_examples(document: dict):
    """Every (where, schema, example value) of the request bodies and responses of every operation."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, response) for status, response in operation["responses"].items()]
            for what, body in bodies:
                for media_type, media in _deref(document, body).get("content", {}).items():
                    for name, example in media.get("examples", {}).items():
                        where = f"{method.upper()} {path} {what} {media_type} {name}"
                        yield where, media["schema"], _deref(document, example)["value"]


def test_document_is_valid_openapi_3_1(openapi_document):
    assert openapi_document["openapi"].startswith("3.1.")
    validate_spec(openapi_document)


def test_document_is_served_without_a_token_as_shipped(api, openapi_document):
    response = api.get("/api/v1/openapi.json", token=None)

    assert response.status_code == 200
    assert response.get_json() == openapi_document


def test_every_api_route_is_documented_and_every_documented_operation_routed(app, openapi_document):
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("api", "api_customers", "api_demand", "api_projects"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routed |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {
        (path, method) for path, item in openapi_document["paths"].items() for method in item if method in HTTP_METHODS
    }

    assert routed == documented


def test_every_operation_but_the_document_needs_a_token_and_documents_401(openapi_document):
    assert openapi_document["security"] == [{"bearerAuth": []}]
    scheme = openapi_document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, item in openapi_document["paths"].items():
        for method, operation in item.items():
            public = operation.get("security") == []
            assert public == (path == "/openapi.json"), f"{method} {path}"
            assert public or "401" in operation["responses"], f"{method} {path} does not document 401"


@pytest.mark.parametrize("schema_name", ["Need", "NeedPage", "Error", "InvalidNeed", "NeedCreated", "BulkAction",
                                         "BulkFilter", "BulkReport", "BulkUnknownRefs"])
def test_schemas_are_valid_json_schema(openapi_document, schema_name):
    OAS31Validator.check_schema(openapi_document["components"]["schemas"][schema_name])


def test_every_example_fits_its_schema(openapi_document):
    examples = list(_media_examples(openapi_document))
    assert len(examples) >= 10
    for where, schema, value in examples:
        validator = OAS31Validator({**schema, "components": openapi_document["components"]})
        errors = [error.message for error in validator.iter_errors(value)]
        assert not errors, f"{where}: {errors}"


def test_the_shared_need_example_fits_the_need_schema(openapi_document, fits_schema):
    fits_schema("Need", openapi_document["components"]["examples"]["Need"]["value"])


def test_the_test_suites_valid_need_fits_the_request_schema(fits_schema):
    fits_schema("NeedFields", need_data())
