"""Too many refused logins for a name, or from an address a trusted proxy names, stop every login for a while;
unknown names cost the same hashing as known ones."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from sync.ledger import accounts, throttle
from sync.ledger.store import LoginFailure, utcnow
from tests.factories import migrated_runtime
from webhooks.app import create_app


def _log_in(client, name: str, password: str, address: str | None = None):
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/login", data={"name": name, "password": password}, headers=headers)


def test_the_right_password_after_too_many_wrong_ones_is_refused(web_app, make_user):
    make_user("cs1", "password1")
    client = web_app.test_client()
    for _ in range(throttle.NAME_LIMIT):
        assert _log_in(client, "cs1", "wrong-password").status_code == 200

    response = _log_in(client, "cs1", "password1")

    assert response.status_code == 429
    assert "Too many failed logins. Wait 15 minutes and try again." in response.text
    assert response.headers["Retry-After"] == "900"
    assert client.get("/needs").status_code == 302


def test_the_name_counts_whatever_its_case_and_spaces(web_app, make_user):
    make_user("cs1", "password1")
    client = web_app.test_client()
    for typed in ("CS1", " cs1", "Cs1 ", "cs1", "CS1"):
        _log_in(client, typed, "wrong-password")

    assert _log_in(client, "cs1", "password1").status_code == 429


def test_the_message_is_in_the_page_language(web_app, make_user):
    make_user("cs1", "password1")
    client = web_app.test_client()
    for _ in range(throttle.NAME_LIMIT):
        _log_in(client, "cs1", "wrong-password")

    response = client.post("/login", data={"name": "cs1", "password": "password1"},
                           headers={"Accept-Language": "zh-TW"})

    assert response.status_code == 429 and "登入失敗次數過多" in response.text


def test_other_names_still_log_in(web_app, make_user):
    """Without a trusted proxy the address is not counted: a proxy's address is everyone's."""
    make_user("cs1", "password1")
    make_user("cs2", "password2")
    client = web_app.test_client()
    for number in range(throttle.ADDRESS_LIMIT + 1):
        _log_in(client, f"someone{number}", "wrong-password", address="203.0.113.9")

    response = _log_in(client, "cs2", "password2", address="203.0.113.9")

    assert response.status_code == 302 and response.location == "/needs"


def test_a_successful_login_resets_the_count_for_its_name(web_app, make_user):
    make_user("cs1", "password1")
    client = web_app.test_client()
    for _ in range(2):
        for _ in range(throttle.NAME_LIMIT - 1):
            _log_in(client, "cs1", "wrong-password")
        assert _log_in(client, "cs1", "password1").status_code == 302
        client.post("/logout")


def test_failures_older_than_the_window_no_longer_count(web_app, make_user, runtime):
    make_user("cs1", "password1")
    with runtime.Session.begin() as session:
        for _ in range(throttle.NAME_LIMIT * 2):
            session.add(LoginFailure(name="cs1", at=utcnow() - throttle.WINDOW - dt.timedelta(minutes=1)))

    assert _log_in(web_app.test_client(), "cs1", "password1").status_code == 302


@pytest.fixture
def proxied_app(settings, tmp_path, migrated_store):
    """The app behind one trusted reverse proxy (``server.trusted_proxies: 1``)."""
    proxied = settings.model_copy(update={"server": settings.server.model_copy(update={"trusted_proxies": 1})})
    rt = migrated_runtime(proxied, tmp_path / "proxied", migrated_store)
    with rt.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    yield create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=rt)
    rt.close()


def test_behind_a_trusted_proxy_an_address_trying_many_names_is_stopped(proxied_app):
    client = proxied_app.test_client()
    for number in range(throttle.ADDRESS_LIMIT):
        _log_in(client, f"someone{number}", "wrong-password", address="203.0.113.9")

    assert _log_in(client, "cs1", "password1", address="203.0.113.9").status_code == 429
    assert _log_in(client, "cs1", "password1", address="198.51.100.7").status_code == 302


def test_unknown_and_known_names_cost_the_same_hashing(runtime, make_user, monkeypatch):
    """An unknown name used to be hashed twice (a fresh hash, then its check): login answered slower for it."""
    make_user("cs1", "password1")
    calls = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(*args, **kwargs):
        calls.append(1)
        return real_scrypt(*args, **kwargs)

    with runtime.Session() as session:
        accounts.authenticate(session, "warm-up", "x")  # the dummy hash may be made once per process
        monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
        counts = {}
        for name in ("cs1", "nobody"):
            calls.clear()
            assert accounts.authenticate(session, name, "wrong-password") is None
            counts[name] = len(calls)

    assert counts == {"cs1": 1, "nobody": 1}
