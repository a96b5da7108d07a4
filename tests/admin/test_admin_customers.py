"""/admin/customers and /setup: admins add and edit customers (secrets masked, the file's fields read-only),
link needs whose customer matches no record, merge two customers; CS users get 403; the first admin is created
once, on a fresh install."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.ledger.customers import issue_status_token
from sync.ledger.store import Counter, Customer, Need, NeedEdit, User
from tests.web.pages import csrf_token_of

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123456789abcdef"


def counter(runtime) -> int:
    with runtime.Session() as session:
        return session.scalar(select(Counter.value).where(Counter.name == "customers"))


def stored(runtime, key):
    with runtime.Session() as session:
        return session.scalars(select(Customer).where(Customer.key == key)).one_or_none()


def new_form(**overrides):
    data = {"key": "goodthings", "name": "台灣好物股份有限公司", "aliases": "好物, GT", "locale": "zh_Hant",
            "tier": "gold", "annual_revenue": "1,200,000", "contacts": "Chen Mei, mei@gt.example, 0912",
            "channel_rows": "1", "channel-0-kind": "wecom", "channel-0-url": WECOM}
    return data | overrides


def test_an_admin_adds_a_customer_and_every_process_is_told(admin_client, runtime):
    before = counter(runtime)
    response = admin_client.post("/admin/customers/new", data=new_form())
    assert response.status_code == 302
    row = stored(runtime, "goodthings")
    assert row.aliases == ["好物", "GT"] and row.locale == "zh_Hant" and row.annual_revenue == 1200000
    assert row.channels == [{"kind": "wecom", "url": WECOM}]
    assert row.contacts == [{"name": "Chen Mei", "email": "mei@gt.example", "phone": "0912"}]
    assert counter(runtime) > before
    listing = admin_client.get("/admin/customers").text
    assert "台灣好物股份有限公司" in listing and "好物, GT" in listing


def test_the_edit_page_masks_the_url_and_an_unchanged_mask_keeps_it(admin_client, runtime):
    admin_client.post("/admin/customers/new", data=new_form())
    page = admin_client.get("/admin/customers/goodthings").text
    assert "0123456789abcdef" not in page
    assert "https://qyapi.weixin.qq.com/••••ef" in page
    response = admin_client.post("/admin/customers/goodthings", data=new_form(
        key=None, name="台灣好物", **{"channel-0-index": "0", "channel-0-url": "https://qyapi.weixin.qq.com/••••ef"}))
    assert response.status_code == 302
    row = stored(runtime, "goodthings")
    assert row.name == "台灣好物" and row.channels == [{"kind": "wecom", "url": WECOM}]


def test_a_name_already_used_by_another_customer_is_refused_and_nothing_written(admin_client, runtime):
    before = counter(runtime)
    response = admin_client.post("/admin/customers/new", data=new_form(aliases="ACME Corp"))
    assert response.status_code == 400
    assert "ACME Corp is already a name of customer ACME Corp." in response.text
    assert stored(runtime, "goodthings") is None and counter(runtime) == before


def test_errors_are_in_the_page_language(admin_client, runtime):
    admin_client.get("/lang/zh_Hans")
    response = admin_client.post("/admin/customers/new", data=new_form(name="", annual_revenue="lots"))
    assert response.status_code == 400
    assert "此项为必填项" in response.text or "必填" in response.text
    assert stored(runtime, "goodthings") is None


def test_the_customer_pages_name_the_customer_not_a_user_in_traditional_chinese(admin_client, runtime):
    admin_client.get("/lang/zh_Hant")
    for path in ("/admin/customers", "/admin/customers/new"):
        page = admin_client.get(path).text
        assert "客戶名稱" in page and "使用者名稱" not in page  # the login form's "Name" is the user's


def test_fields_set_in_the_config_file_are_read_only(admin_client, runtime):
    page = admin_client.get("/admin/customers/acme").text
    assert 'id="name" name="name" value="ACME Corp" disabled' in page
    assert "change it there" in page
    response = admin_client.post("/admin/customers/acme", data={"name": "Renamed", "tier": "gold",
                                                                 "channel_rows": "0"})
    assert response.status_code == 302
    row = stored(runtime, "acme")
    assert row.name == "ACME Corp" and row.tier == "gold"


def test_a_new_status_link_and_its_revocation(admin_client, runtime):
    response = admin_client.post("/admin/customers/acme/link", follow_redirects=True)
    assert "/s/" in response.text
    assert stored(runtime, "acme").status_token_nonce
    admin_client.post("/admin/customers/acme/link", data={"revoke": "1"})
    assert stored(runtime, "acme").status_token_nonce is None


def test_needs_naming_no_record_are_linked_with_a_history_entry(admin_client, runtime, make_need):
    need = make_need()
    with runtime.Session.begin() as session:
        session.get(Need, need.id).customer = "ACME Ltd (old sheet)"
    assert "ACME Ltd (old sheet)" in admin_client.get("/admin/customers").text
    admin_client.post("/admin/customers/relink", data={"text": "ACME Ltd (old sheet)", "key": "acme"})
    with runtime.Session() as session:
        assert session.get(Need, need.id).customer == "acme"
        edit = session.scalars(select(NeedEdit).where(NeedEdit.need_id == need.id)).one()
        assert (edit.field, edit.old, edit.new, edit.actor) == ("customer", "ACME Ltd (old sheet)", "acme", "root")


def test_merging_moves_the_needs_and_the_old_link_opens_the_new_page(admin_client, runtime, make_need):
    admin_client.post("/admin/customers/new", data=new_form(key="acme2", name="Acme Two", aliases=""))
    need = make_need(customer="acme2")
    old_link = issue_status_token(runtime, "acme2")
    confirm = admin_client.get("/admin/customers/merge?source=acme2&target=acme")
    assert "Merge Acme Two into ACME Corp?" in confirm.text
    with runtime.Session() as session:
        assert session.get(Need, need.id).customer == "acme2"  # nothing moves before the confirmation
    admin_client.post("/admin/customers/merge", data={"source": "acme2", "target": "acme", "confirm": "1"})
    with runtime.Session() as session:
        assert session.get(Need, need.id).customer == "acme"
    assert stored(runtime, "acme2").merged_into == "acme"
    page = admin_client.get(f"/s/{old_link}")
    assert page.status_code == 200 and "ACME Corp" in page.text


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/customers"), ("get", "/admin/customers/new"), ("post", "/admin/customers/new"),
    ("get", "/admin/customers/acme"), ("post", "/admin/customers/acme"), ("post", "/admin/customers/acme/link"),
    ("post", "/admin/customers/relink"), ("get", "/admin/customers/merge"), ("post", "/admin/customers/merge")])
def test_a_cs_user_gets_403_on_every_admin_route(cs_client, runtime, method, path):
    before = counter(runtime)
    response = getattr(cs_client, method)(path, data=new_form() if method == "post" else None)
    assert response.status_code == 403
    assert counter(runtime) == before


def test_setup_creates_the_first_admin_once(app, runtime):
    client = app.test_client()
    login = client.get("/login").text
    assert 'href="/setup"' in login
    page = client.get("/setup")
    assert page.status_code == 200
    token = csrf_token_of(page.text)
    refused = client.post("/setup", data={"name": "root", "password": "password1", "again": "password2",
                                          "csrf_token": token})
    assert refused.status_code == 400
    assert client.post("/setup", data={"name": "root", "password": "password1", "again": "password1"}
                       ).status_code == 400  # no CSRF token
    with runtime.Session() as session:
        assert session.scalars(select(User)).all() == []
    response = client.post("/setup", data={"name": "root", "password": "password1", "again": "password1",
                                           "csrf_token": token})
    assert response.status_code == 302
    with runtime.Session() as session:
        assert [(user.name, user.role) for user in session.scalars(select(User))] == [("root", "admin")]
    assert client.get("/setup").status_code == 404
    assert 'href="/setup"' not in app.test_client().get("/login").text
