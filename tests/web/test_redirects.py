"""After login and after the language switch the browser goes back to a page of this site, never elsewhere."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from webhooks.safety import safe_target

NASTY = [
    "/\t/evil.com",
    "/\r\n/evil.com",
    "/\r\nSet-Cookie: x=1",
    "/\\evil.com",
    "/\\\\evil.com",
    "\\\\evil.com",
    "//evil.com",
    "///evil.com",
    "https:evil.com",
    "https://evil.com",
    " //evil.com",
    "/\u200b/evil.com",
    "/\u3000/evil.com",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", NASTY)
def test_nasty_targets_fall_back_to_the_default(target):
    assert safe_target(target, "/needs") == "/needs"


@pytest.mark.parametrize("target", ["/needs/new", "/needs?q=a b&sort=urgency", "/minutes/3#items", "/s/abc"])
def test_site_paths_are_kept(target):
    assert safe_target(target, "/needs") == target


@pytest.mark.parametrize("target", NASTY)
def test_login_stays_on_the_site(web_app, make_user, target):
    make_user("cs1", "password1")
    client = web_app.test_client()

    response = client.post(f"/login?next={quote(target, safe='')}", data={"name": "cs1", "password": "password1"})

    assert response.status_code == 302
    assert response.location == "/needs"


@pytest.mark.parametrize("target", NASTY)
def test_language_switch_stays_on_the_site(web_app, target):
    response = web_app.test_client().get(f"/lang/en?next={quote(target, safe='')}")

    assert response.status_code == 302
    assert response.location == "/needs"


def test_tab_encoded_in_the_query_string_stays_on_the_site(web_app, make_user):
    """The probe's own request: ``/%09/evil.com`` used to answer ``Location: //evil.com``."""
    make_user("cs1", "password1")
    client = web_app.test_client()

    assert client.get("/lang/en?next=/%09/evil.com").location == "/needs"
    assert client.post("/login?next=/%09/evil.com", data={"name": "cs1", "password": "password1"}).location == "/needs"
    assert client.get("/lang/en?next=/%0d%0a/evil.com").status_code == 302


def test_language_switch_returns_to_the_page(web_app):
    response = web_app.test_client().get("/lang/en?next=/login%3Fnext%3D/needs")

    assert response.location == "/login?next=/needs"
