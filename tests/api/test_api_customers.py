"""GET/POST /api/v1/customers and PATCH /api/v1/customers/<key>: admin tokens only, secrets masked in every
answer, an unchanged channel kept by its index, bad input refused with nothing written. Every answer is checked
against webhooks/openapi.json by the ``api`` fixture."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import Customer, User
from tests.api.conftest import Api

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123456789abcdef"


@pytest.fixture
def admin_api(client, openapi, openapi_document, runtime) -> Api:
    with runtime.Session.begin() as session:
        session.add(User(name="api-admin", password_hash="!", role="admin"))
    with runtime.Session.begin() as session:
        token = accounts.create_token(session, "api-admin")
    return Api(client, openapi, openapi_document, token)


def stored(runtime, key):
    with runtime.Session() as session:
        return session.scalars(select(Customer).where(Customer.key == key)).one_or_none()


def test_add_list_and_edit_with_secrets_masked(admin_api, runtime):
    response = admin_api.post("/api/v1/customers", {
        "key": "goodthings", "name": "台灣好物", "aliases": ["好物"], "locale": "zh_Hant",
        "channels": [{"kind": "wecom", "url": WECOM}, {"kind": "dingtalk", "url": WECOM, "secret": "SECabcdef"}]})
    assert response.status_code == 201
    assert "0123456789abcdef" not in response.text and "SECabcdef" not in response.text
    listed = admin_api.get("/api/v1/customers").json["items"]
    assert {item["key"] for item in listed} == {"acme", "goodthings"}
    assert "0123456789abcdef" not in str(listed)
    response = admin_api.call("PATCH", "/api/v1/customers/goodthings", content_type="application/json",
                              json={"tier": "gold", "channels": [{"kind": "wecom", "index": 0}]})
    assert response.status_code == 200, response.text
    row = stored(runtime, "goodthings")
    assert row.tier == "gold" and row.channels == [{"kind": "wecom", "url": WECOM}]


def test_bad_input_is_refused_and_nothing_written(admin_api, runtime):
    response = admin_api.post("/api/v1/customers", {"key": "Bad Key", "name": "", "aliases": ["ACME Corp"]})
    assert response.status_code == 422
    assert set(response.json["fields"]) >= {"key", "name", "aliases"}
    assert admin_api.call("PATCH", "/api/v1/customers/acme", json={"name": "Renamed"}).status_code == 422
    assert stored(runtime, "acme").name == "ACME Corp"
    assert admin_api.call("PATCH", "/api/v1/customers/nobody", json={"tier": "x"}).status_code == 404


def test_a_cs_token_is_refused(api, runtime):
    assert api.get("/api/v1/customers").status_code == 403
    assert api.post("/api/v1/customers", {"key": "x", "name": "X"}).status_code == 403
    assert api.call("PATCH", "/api/v1/customers/acme", json={"tier": "gold"}).status_code == 403
    assert stored(runtime, "x") is None and stored(runtime, "acme").tier is None
    assert api.get("/api/v1/customers", token=None).status_code == 401
