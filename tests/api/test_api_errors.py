"""Errors under /api/v1 are JSON, whatever HTML error pages the rest of the app registers."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException

import webhooks.api
from tests.factories import need_data


@pytest.fixture
def html_error_pages(app):
    """App-wide HTML pages for the errors the web pages answer (as webhooks/needs.py registers them)."""

    def page(error: HTTPException):
        return f"<h1>{error.code}</h1>", error.code

    for code in (403, 404, 405, 413, 500):
        app.register_error_handler(code, page)
    app.register_error_handler(HTTPException, page)


@pytest.fixture(params=["plain app", "app with HTML error pages"])
def app_variant(request):
    if request.param != "plain app":
        request.getfixturevalue("html_error_pages")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1", "/api/v1/", "/api/v1/needs/", "/api/v1/needs/N-0001/x"])
def test_an_unknown_api_path_is_404_json(api, app_variant, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found",
                                   "message": f"no API endpoint at {path}; see /api/v1/openapi.json"}


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/v1/needs", "GET, POST"),
    ("PUT", "/api/v1/needs/N-0001", "GET, PATCH"),
    ("POST", "/api/v1/openapi.json", "GET"),
    ("PROPFIND", "/api/v1/needs", "GET, POST"),
])
def test_a_method_a_path_does_not_answer_is_405_json_with_allow(api, app_variant, method, path, allowed):
    response = api.call(method, path)

    assert response.status_code == 405
    assert response.get_json() == {"error": "method_not_allowed",
                                   "message": f"{path} answers {allowed}, not {method}; see /api/v1/openapi.json"}
    assert set(response.headers["Allow"].split(", ")) >= set(allowed.split(", "))


def test_errors_raised_in_api_views_stay_json(api, html_error_pages, need_count):
    assert api.get("/api/v1/needs/N-9999").get_json()["error"] == "not_found"
    assert api.post("/api/v1/needs", need_data(description="x" * 2_000_000)).get_json()["error"] == "too_large"
    assert need_count() == 0


def test_an_unexpected_failure_is_500_json_without_its_details(app, client, api_token, html_error_pages,
                                                                 monkeypatch, fits_schema):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(webhooks.api, "create_need", broken)

    response = client.post("/api/v1/needs", json=need_data(), headers={"Authorization": f"Bearer {api_token}"})

    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_error"
    assert "hunter2" not in response.get_data(as_text=True)
    fits_schema("Error", response.get_json())


def test_pages_outside_the_api_keep_their_own_error_pages(client, html_error_pages):
    for path in ("/nope", "/api", "/api/v2/needs", "/api/v1x"):
        response = client.get(path)
        assert (response.status_code, response.mimetype) == (404, "text/html"), path
