"""The need page and the customer's status page say which version shipped a need, in the reader's language."""

import datetime as dt

import pytest

from plugin.loading import parse_settings
from sync.ledger.customers import issue_status_token
from sync.ledger.store import Need, NeedRelease
from tests.factories import DEFAULT_YAML


@pytest.fixture
def settings():
    return parse_settings(DEFAULT_YAML.replace("    locale: en\n", "    locale: zh-Hant\n", 1), "test.yaml")


def ship(runtime, ref, version, day):
    with runtime.Session.begin() as session:
        need = session.query(Need).filter_by(ref=ref).one()
        session.add(NeedRelease(need_id=need.id, version_id=f"1000{len(version)}", version_name=version,
                                released_on=day, issue_key="CS-1"))


def test_status_page_says_shipped_in_the_customers_language(runtime, client, make_need):
    make_need(title="Tax number on invoices")
    make_need(title="Not shipped yet")
    ship(runtime, "N-0001", "v5.2", dt.date(2027, 1, 14))
    html = client.get(f"/s/{issue_status_token(runtime, 'acme')}").get_data(as_text=True)
    row = html[html.index('<tr id="N-0001"'):]
    row = row[:row.index("</tr>")]
    assert '<p class="shipped" data-version="v5.2">已於 2027-01-14 在 v5.2 中發布</p>' in row
    assert html.count('class="shipped"') == 1  # N-0002 shipped nothing


def test_need_page_says_shipped_in_the_readers_language(runtime, cs_client, make_need):
    make_need()
    ship(runtime, "N-0001", "v5.2", dt.date(2027, 1, 14))
    ship(runtime, "N-0001", "v5.3-hotfix", None)
    english = cs_client.get("/needs/N-0001", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "shipped in v5.2 on 2027-01-14" in english and "shipped in v5.3-hotfix<" in english
    chinese = cs_client.get("/needs/N-0001", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已于 2027-01-14 在 v5.2 中发布" in chinese and "已在 v5.3-hotfix 中发布" in chinese
