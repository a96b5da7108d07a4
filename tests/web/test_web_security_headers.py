"""Security headers on every answer, Secure cookies behind https, and the admin guard on ``/admin/``."""

from __future__ import annotations

import re

import pytest

from plugin.settings import Settings
from sync.runtime import build_runtime
from tests.web.pages import log_in
from webhooks.app import create_app
from webhooks.auth import admin_required


def test_pages_forbid_framing_sniffing_and_foreign_referrers(cs_client):
    response = cs_client.get("/needs")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain http: HSTS would mean nothing


def test_the_content_security_policy_allows_only_scripts_and_styles_with_the_nonce(cs_client):
    response = cs_client.get("/minutes/new")
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)

    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert f'<script nonce="{nonce}">' in response.text and f'<style nonce="{nonce}">' in response.text
    assert cs_client.get("/minutes/new").headers["Content-Security-Policy"] != policy  # a new nonce each time


def test_no_page_template_has_inline_style_or_event_attributes():
    """The policy refuses ``style="..."`` and ``onclick="..."``; the browser tests would show it, this says where."""
    from pathlib import Path

    templates = Path(__file__).resolve().parents[2] / "webhooks" / "templates"
    found = [f"{path.relative_to(templates)}: {match.group(0)}" for path in sorted(templates.rglob("*.html"))
             for match in re.finditer(r"\s(style|on[a-z]+)=\"", path.read_text())]
    assert found == []


@pytest.fixture
def https_app(tmp_path):
    settings = Settings(base_url="https://cocreate.example.com")
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path / "data")})
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime), runtime


def test_cookies_are_secure_and_hsts_is_sent_behind_https(https_app):
    from sync.ledger import accounts

    app, runtime = https_app
    with runtime.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = app.test_client()

    login = log_in(client)
    language = client.get("/lang/en?next=/needs")

    assert "; Secure" in login.headers["Set-Cookie"]
    assert "; Secure" in language.headers["Set-Cookie"]
    assert login.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_cookies_are_not_secure_on_plain_http(web_app, make_user):
    make_user("cs1", "password1")

    login = log_in(web_app.test_client())

    assert "Secure" not in login.headers["Set-Cookie"]


@pytest.fixture
def admin_probe_app(runtime, make_user):
    """The app with one more page under /admin/ whose view forgets ``admin_required``."""
    make_user("cs1", "password1", "cs")
    make_user("boss", "password1", "admin")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime)
    app.add_url_rule("/admin/probe", "admin_probe", lambda: "probe page")
    return app


def test_admin_pages_are_for_admins_even_when_the_view_forgets(admin_probe_app):
    anonymous = admin_probe_app.test_client()
    cs, admin = admin_probe_app.test_client(), admin_probe_app.test_client()
    log_in(cs)
    log_in(admin, name="boss")

    response = anonymous.get("/admin/probe")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert cs.get("/admin/probe").status_code == 403
    assert admin.get("/admin/probe").text == "probe page"


def test_every_admin_route_is_held(admin_probe_app):
    """Every rule under /admin/ (today's and any added later) refuses a CS user and strangers."""
    cs = admin_probe_app.test_client()
    log_in(cs)
    anonymous = admin_probe_app.test_client()
    rules = [rule for rule in admin_probe_app.url_map.iter_rules() if rule.rule.startswith("/admin/")]
    assert rules  # at least the probe
    for rule in rules:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert cs.open(path, method=method).status_code == 403, (rule.rule, method)
            assert anonymous.open(path, method=method).status_code in (302, 401), (rule.rule, method)


def test_admin_required_refuses_cs_users(web_app, make_user):
    make_user("cs1", "password1", "cs")
    make_user("boss", "password1", "admin")
    web_app.add_url_rule("/team-settings", "team_settings", admin_required(lambda: "settings"))
    cs, admin = web_app.test_client(), web_app.test_client()
    log_in(cs)
    log_in(admin, name="boss")

    assert cs.get("/team-settings").status_code == 403
    assert admin.get("/team-settings").text == "settings"
