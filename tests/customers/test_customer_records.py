"""Customer records in the store: a need names one (name, other name, any width or case), the file's customers
are applied at start, a change reaches another process's runtime without a restart, and import resolves the
sheet's customer column as the form does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.customers import (
    InvalidCustomer,
    add_customer,
    edit_customer,
    issue_status_token,
)
from sync.ledger.store import Need
from sync.runtime import build_runtime
from sync.table.importer import import_table
from tests.factories import DEFAULT_YAML
from tests.table.sheets import SEED_HEADERS, write_xlsx
from tests.web.test_needs_intake import form_data

GOODTHINGS_YAML = DEFAULT_YAML.replace("""customers:
  - key: acme
    name: ACME Corp
    locale: en
""", """customers:
  - key: acme
    name: ACME Corp
    locale: en
  - key: goodthings
    name: 台灣好物股份有限公司
    aliases: [好物]
    locale: zh-Hant
""")


@pytest.fixture
def settings():
    return parse_settings(GOODTHINGS_YAML, "test.yaml")


def stored_customers(runtime) -> list[str]:
    with runtime.Session() as session:
        return list(session.scalars(select(Need.customer).order_by(Need.id)))


def test_a_need_filed_for_the_configured_name_names_the_customer_key(cs_client, runtime):
    # The bug: the name typed in the form was kept as a second spelling, so the status page showed 共 0 項需求.
    response = cs_client.post("/needs/new", data=form_data(customer="台灣好物股份有限公司"))

    assert response.status_code == 302
    assert stored_customers(runtime) == ["goodthings"]
    page = cs_client.get("/s/" + issue_status_token(runtime, "goodthings"))
    assert "Invoices should show the tax number" in page.text


@pytest.mark.parametrize("typed", ["好物", "goodthings", "ＧＯＯＤＴＨＩＮＧＳ", " 台灣好物股份有限公司 ", "acme corp"])
def test_names_aliases_and_full_width_spellings_resolve(cs_client, runtime, typed):
    assert cs_client.post("/needs/new", data=form_data(customer=typed)).status_code == 302
    assert stored_customers(runtime) in (["goodthings"], ["acme"])


def test_an_unknown_customer_is_refused_with_a_clear_message(cs_client, runtime):
    response = cs_client.post("/needs/new", data=form_data(customer="好物公司"))

    assert response.status_code == 400
    assert "No customer is called 好物公司" in response.text
    assert "Add 好物公司 as a new customer" not in response.text  # only an admin may add one
    assert stored_customers(runtime) == []


def test_an_admin_adds_the_unknown_customer_with_one_confirmed_click(web_app, make_user, runtime):
    from tests.web.pages import log_in

    make_user("boss", "password1", "admin")
    client = web_app.test_client()
    log_in(client, "boss", "password1")
    offered = client.post("/needs/new", data=form_data(customer="Initech Ltd"))
    assert offered.status_code == 400 and 'name="create_customer" value="Initech Ltd"' in offered.text
    assert stored_customers(runtime) == []

    filed = client.post("/needs/new", data={**form_data(customer="Initech Ltd"), "create_customer": "Initech Ltd"})

    assert filed.status_code == 302
    assert stored_customers(runtime) == ["initech-ltd"]
    assert runtime.customers().get("initech-ltd").name == "Initech Ltd"


def test_two_customers_never_share_a_spelling(runtime):
    with pytest.raises(InvalidCustomer) as refused:
        add_customer(runtime, {"key": "goods", "name": "Good Things", "aliases": ["好物"]})
    assert refused.value.by_field() == {"aliases": ["好物 is already a name of customer 台灣好物股份有限公司."]}


def test_the_files_fields_are_refused_elsewhere_and_the_others_editable(runtime):
    with pytest.raises(InvalidCustomer) as refused:
        edit_customer(runtime, "goodthings", {"name": "Good Things"})
    assert "name" in refused.value.by_field()

    edited = edit_customer(runtime, "goodthings", {"tier": "A", "annual_revenue": "1,200,000",
                                                   "channels": [{"kind": "wecom", "url": "https://wecom.example/k"}]})

    assert (edited.tier, edited.annual_revenue, edited.channels[0].kind) == ("A", 1_200_000, "wecom")
    assert "https://wecom.example/k" not in repr(edited.channels[0])  # the bot URL carries its key


def test_a_change_in_one_process_is_read_by_another_without_a_restart(runtime, settings):
    other = build_runtime(settings, {"COCREATE_HOME": str(runtime.home)}, immediate=True, migrate=False)
    try:
        assert other.customers().get("goodthings").channels == ()
        edit_customer(runtime, "goodthings", {"channels": [{"kind": "slack", "url": "https://slack.example/x"}]})

        assert [channel.kind for channel in other.customers().get("goodthings").channels] == ["slack"]
    finally:
        other.close()


def test_import_resolves_names_and_aliases_and_the_dry_run_names_unknown_rows(runtime, tmp_path):
    header = SEED_HEADERS["zh_Hant"] + ["客戶"]

    def sheet_row(ref, customer):
        return [ref, "計費", "發票要顯示稅號", "", "高", "Li Na", "2026/11/20 09:30", "", "", "", customer]

    sheet = write_xlsx(tmp_path / "mixed.xlsx", [header, sheet_row("1", "台灣好物股份有限公司"),
                                                  sheet_row("2", "好物"), sheet_row("3", "Unknown Co"),
                                                  sheet_row("4", "Unknown Co")])

    report = import_table(runtime, sheet, dry_run=True)

    assert report.refused_rows == [4, 5]
    assert {problem.render() for problem in report.problems} == {
        f"row {number}, 客戶 (K): No customer is called Unknown Co: pick one from the list (names and other names "
        f"are known), or ask an admin to add it." for number in (4, 5)}
    assert report.created == 2
