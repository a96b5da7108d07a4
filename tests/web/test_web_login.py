"""Logging in and out of the CS pages, and which pages need a login."""

from __future__ import annotations

import pytest

from tests.factories import need_data
from tests.web.pages import csrf_token_of, log_in, need_count

PROTECTED = ["/", "/needs", "/needs/new", "/needs/N-0001", "/needs/N-0001/attachments/1"]


@pytest.mark.parametrize("path", PROTECTED)
def test_pages_send_strangers_to_the_login_page(web_app, path):
    response = web_app.test_client().get(path)

    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_posting_a_need_without_login_stores_nothing(web_app, runtime):
    response = web_app.test_client().post("/needs/new", data=need_data())

    assert response.status_code == 302 and response.location.startswith("/login")
    assert need_count(runtime) == 0


def test_root_goes_to_the_table(cs_client):
    response = cs_client.get("/")

    assert response.status_code == 302
    assert response.location == "/needs"


def test_login_page_has_the_form_and_the_language_switch(web_app):
    response = web_app.test_client().get("/login")

    assert response.status_code == 200
    assert 'name="name"' in response.text and 'name="password"' in response.text
    for code in ("zh_Hans", "zh_Hant", "en"):
        assert f'href="/lang/{code}?next=/login"' in response.text


def test_wrong_password_is_refused_with_a_message(web_app, make_user):
    make_user("cs1", "password1")

    client = web_app.test_client()
    response = client.post("/login", data={"name": "cs1", "password": "wrong-password"})

    assert "Wrong name or password." in response.text
    assert client.get("/needs").status_code == 302


def test_login_returns_to_the_page_asked_for(web_app, make_user):
    make_user("cs1", "password1")
    client = web_app.test_client()

    response = client.post("/login?next=/needs/new", data={"name": "cs1", "password": "password1"})

    assert response.location == "/needs/new"
    assert client.get("/needs/new").status_code == 200


def test_logout_ends_the_session(cs_client):
    page = cs_client.get("/needs")
    assert 'action="/logout"' in page.text and "cs1" in page.text

    response = cs_client.post("/logout")

    assert response.status_code == 302
    assert cs_client.get("/needs").status_code == 302


def test_logout_needs_the_csrf_token_when_checks_are_on(app, make_user):
    """With CSRF checks on (the default), a forged logout is refused and the real one works."""
    make_user("cs1", "password1")
    client = app.test_client()
    log_in(client, csrf_token=csrf_token_of(client.get("/login").text))
    page = client.get("/needs")

    assert client.post("/logout").status_code == 400
    assert client.get("/needs").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token_of(page.text)}).status_code == 302
    assert client.get("/needs").status_code == 302
