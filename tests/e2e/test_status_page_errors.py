"""What a customer sees when something under /s/ fails: a bad or revoked link, a page that is not there, an
error. A customer's page in their language (the customer's, else the browser's), with no word or link of the
staff app, even for someone logged in to it."""

from __future__ import annotations

import re

import pytest

from plugin.loading import parse_settings
from sync.ledger.customers import issue_status_token, revoke_status_token
from tests.factories import DEFAULT_YAML
from webhooks import status_page
from webhooks.app import create_app

STAFF_WORDS = ("N-0042", "Back to the needs", "返回需求列表", 'href="/needs', 'href="/minutes',
               'href="/reports', 'class="mainnav"', "Log out", "登出")


@pytest.fixture
def settings():
    """ACME reads Traditional Chinese, Globex English."""
    return parse_settings(DEFAULT_YAML.replace("""    locale: en
""", """    locale: zh-Hant
  - {key: globex, name: Globex, locale: en}
""", 1), "test.yaml")


def assert_for_customers(response, code: int):
    html = response.get_data(as_text=True)
    assert response.status_code == code and response.mimetype == "text/html"
    for word in STAFF_WORDS:
        assert word not in html, word
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    return html


def heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


@pytest.mark.parametrize(("accept", "lang", "words"), [
    ("zh-TW,zh;q=0.9", "zh-Hant", ("這個連結無法使用", "向您的客戶成功窗口索取")),
    ("en-US,en;q=0.9", "en", ("This link does not work", "Ask your customer success contact")),
])
def test_a_bad_link_gets_a_customer_page_in_the_browsers_language(cs_client, accept, lang, words):
    # cs_client is logged in to the staff app: the page shows none of it all the same.
    response = cs_client.get("/s/not-a-link", headers={"Accept-Language": accept})

    html = assert_for_customers(response, 404)
    assert f'<html lang="{lang}">' in html and heading(html) == words[0] and words[1] in html
    assert '<span class="brand">Cocreate</span>' in html and "/s/not-a-link" not in html.split("</header>")[1]


def test_a_revoked_link_reads_as_a_bad_one(client, runtime):
    token = issue_status_token(runtime, "acme")
    revoke_status_token(runtime, "acme")

    html = assert_for_customers(client.get(f"/s/{token}", headers={"Accept-Language": "en"}), 404)
    assert heading(html) == "This link does not work"


@pytest.mark.parametrize(("customer", "words"), [
    ("acme", ("找不到頁面", "您的狀態頁沒有這個頁面。", "回到您的狀態頁")),
    ("globex", ("Page not found", "Your status page has no such page.", "Back to your status page")),
])
def test_a_missing_page_under_a_good_link_speaks_the_customers_language(client, runtime, customer, words):
    token = issue_status_token(runtime, customer)

    # The browser asks for Simplified Chinese: the customer's own language wins.
    html = assert_for_customers(client.get(f"/s/{token}/report/2026-13", headers={"Accept-Language": "zh-CN"}), 404)
    assert heading(html) == words[0] and words[1] in html
    assert f'<a class="button" href="/s/{token}">{words[2]}</a>' in html


def test_the_status_page_itself_is_in_the_customers_language_without_the_staff_app(cs_client, runtime, make_need):
    make_need(title="發票上沒有統一編號")
    html = assert_for_customers(cs_client.get(f"/s/{issue_status_token(runtime, 'acme')}",
                                              headers={"Accept-Language": "en"}), 200)
    assert '<html lang="zh-Hant">' in html and "發票上沒有統一編號" in html


def test_an_error_under_s_is_a_customer_page_and_tells_nothing_of_the_cause(runtime, monkeypatch):
    token = issue_status_token(runtime, "globex")

    def broken(session, key):
        raise RuntimeError("minutes table is locked: /var/lib/cocreate")

    monkeypatch.setattr(status_page, "shared_minutes_for_customer", broken)
    client = create_app({"TESTING": False}, runtime=runtime).test_client()

    html = assert_for_customers(client.get(f"/s/{token}", headers={"Accept-Language": "zh-TW"}), 500)
    assert '<html lang="en">' in html and heading(html) == "Something went wrong"
    assert "locked" not in html and "/var/lib" not in html


def test_a_wrong_method_under_s_is_a_customer_page(client, runtime):
    token = issue_status_token(runtime, "globex")

    response = client.post(f"/s/{token}")
    html = assert_for_customers(response, 405)
    assert heading(html) == "This page is not available" and response.headers["Allow"]


def test_staff_pages_keep_their_own_not_found_page(cs_client):
    html = cs_client.get("/needs/N-9999", headers={"Accept-Language": "en"}).get_data(as_text=True)

    assert "Back to the needs" in html and 'class="mainnav"' in html
