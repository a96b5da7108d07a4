"""Fixtures for the JSON API tests: the OpenAPI document and a client that checks every answer against it."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest
from openapi_schema_validator import OAS31Validator
from sqlalchemy import func, select

from sync.ledger import accounts
from sync.ledger.store import Need, User

_TOKEN = object()


@pytest.fixture(scope="session")
def openapi_document() -> dict:
    """webhooks/openapi.json as the package ships it."""
    return json.loads(resources.files("webhooks").joinpath("openapi.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def openapi(openapi_document) -> OpenAPI:
    return OpenAPI.from_dict(openapi_document)


def schema_check(document: dict, name: str, instance: object) -> None:
    """Validate ``instance`` against ``#/components/schemas/<name>`` of ``document``."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    OAS31Validator(schema).validate(instance)


class Api:
    """Calls /api/v1 through the Flask test client and checks every answer against webhooks/openapi.json.

    An answer for an operation the document has (any status) must fit that operation; the only answers
    allowed outside the document are the JSON 404 of an unknown path and the JSON 405 of a wrong method.
    """

    def __init__(self, client, openapi: OpenAPI, document: dict, token: str):
        self.client = client
        self.openapi = openapi
        self.document = document
        self.token = token

    def call(self, method: str, path: str, *, token=_TOKEN, headers: dict | None = None, **kwargs):
        headers = dict(headers or {})
        token = self.token if token is _TOKEN else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        self.check(response)
        return response

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: object, **kwargs):
        """POST ``body`` serialised as JSON (a ``str`` or ``bytes`` body is sent as it is)."""
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs.setdefault("content_type", "application/json")
        return self.call("POST", path, data=data, **kwargs)

    def patch(self, path: str, body: object, *, etag: str | None, **kwargs):
        """PATCH ``body`` as JSON with ``If-Match: etag`` (none when ``etag`` is None)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if etag is not None:
            headers["If-Match"] = etag
        kwargs.setdefault("content_type", "application/json")
        return self.call("PATCH", path, data=json.dumps(body), headers=headers, **kwargs)

    def check(self, response) -> None:
        assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
        sent = response.request
        request = MockRequest("http://localhost/", sent.method, sent.path, args=sent.args,
                              headers=dict(sent.headers))
        try:
            self.openapi.validate_response(request, WerkzeugOpenAPIResponse(response))
        except (PathNotFound, OperationNotFound):
            assert response.status_code in (404, 405), f"{sent.method} {sent.path} is not in the document"
            schema_check(self.document, "Error", response.get_json())


@pytest.fixture
def api_token(runtime) -> str:
    """A token of user ``api-user``, as the shared fixture makes, minus the password.

    These tests never log in; hashing a password (scrypt) would cost a quarter of a second per test.
    """
    with runtime.Session.begin() as session:
        session.add(User(name="api-user", password_hash="!", role="cs"))
    with runtime.Session.begin() as session:
        return accounts.create_token(session, "api-user")


@pytest.fixture
def api(client, openapi, openapi_document, api_token) -> Api:
    return Api(client, openapi, openapi_document, api_token)


@pytest.fixture
def need_count(runtime):
    """``need_count()``: how many needs the store holds now."""

    def count() -> int:
        with runtime.Session() as session:
            return session.scalar(select(func.count()).select_from(Need))

    return count


@pytest.fixture
def fits_schema(openapi_document):
    """``fits_schema("Need", value)`` raises unless ``value`` fits that schema of the document."""

    def check(name: str, instance: object) -> None:
        schema_check(openapi_document, name, instance)

    return check
