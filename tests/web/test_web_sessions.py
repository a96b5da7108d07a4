"""Sessions end on the server: logout, a password change and deactivation end every copy of a session cookie;
API tokens can be revoked; the cookies are Secure behind https."""

from __future__ import annotations

from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import User
from tests.web.pages import log_in


def _copy_session(source, target) -> None:
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain=cookie.domain)


def _user_id(runtime, name: str) -> int:
    with runtime.Session() as session:
        return session.scalars(select(User.id).where(User.name == name)).one()


def test_a_cookie_copied_before_logout_stops_working(web_app, make_user):
    make_user("cs1", "password1")
    browser = web_app.test_client()
    log_in(browser)
    thief = web_app.test_client()
    _copy_session(browser, thief)
    assert thief.get("/needs").status_code == 200

    browser.post("/logout")

    response = thief.get("/needs")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_logout_ends_the_sessions_of_the_user_in_other_browsers(web_app, make_user):
    make_user("cs1", "password1")
    laptop, phone = web_app.test_client(), web_app.test_client()
    log_in(laptop)
    log_in(phone)

    laptop.post("/logout")

    assert phone.get("/needs").status_code == 302
    log_in(phone)
    assert phone.get("/needs").status_code == 200


def test_a_password_change_ends_the_sessions_and_the_new_password_works(web_app, runtime, make_user):
    make_user("cs1", "password1")
    browser = web_app.test_client()
    log_in(browser)

    with runtime.Session.begin() as session:
        accounts.set_password(session, _user_id(runtime, "cs1"), "new-password")

    assert browser.get("/needs").status_code == 302
    assert browser.post("/login", data={"name": "cs1", "password": "password1"}).status_code != 302
    log_in(browser, password="new-password")
    assert browser.get("/needs").status_code == 200


def test_deactivation_ends_the_sessions_and_the_login(web_app, runtime, make_user):
    make_user("cs1", "password1")
    browser = web_app.test_client()
    log_in(browser)
    user_id = _user_id(runtime, "cs1")

    with runtime.Session.begin() as session:
        accounts.deactivate(session, user_id)

    assert browser.get("/needs").status_code == 302
    assert browser.post("/login", data={"name": "cs1", "password": "password1"}).status_code != 302
    with runtime.Session.begin() as session:
        accounts.enable(session, user_id)
    log_in(browser)
    assert browser.get("/needs").status_code == 200


def test_a_cookie_without_the_session_epoch_is_refused(web_app, make_user):
    """A cookie signed before epochs (user id only) no longer logs anyone in."""
    make_user("cs1", "password1")
    client = web_app.test_client()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = "1"
        flask_session["_fresh"] = True

    assert client.get("/needs").status_code == 302


def test_a_revoked_token_gets_401(client, runtime, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    assert client.get("/api/v1/needs", headers=headers).status_code == 200
    with runtime.Session.begin() as session:
        (row,) = accounts.list_tokens(session)
        assert accounts.revoke_token(session, row.id) is True
        assert accounts.revoke_token(session, row.id) is False

    response = client.get("/api/v1/needs", headers=headers)

    assert response.status_code == 401
    assert response.json["message"] == "the API token is unknown or revoked"


def test_a_disabled_users_token_gets_401(client, runtime, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    with runtime.Session.begin() as session:
        (row,) = accounts.list_tokens(session)
        accounts.deactivate(session, row.user_id)

    assert client.get("/api/v1/needs", headers=headers).status_code == 401
