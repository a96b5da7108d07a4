"""The search box on /needs: found needs with the words marked (and escaped), combined with the filters, the
sort and the pages, an empty result said in the page's language, and the download of what was found."""

from __future__ import annotations

import csv
import io

import pytest

from tests.search_cases import NEEDS
from tests.web.pages import table_refs


@pytest.fixture
def searched(make_need):
    for overrides in NEEDS:
        make_need(**overrides)


def test_the_box_finds_chinese_and_english_and_keeps_its_value(cs_client, searched):
    html = cs_client.get("/needs?q=報表").text

    assert table_refs(html) == ["N-0001"]
    assert '<input type="search" name="q" value="報表"' in html
    assert table_refs(cs_client.get("/needs?q=Invoice").text) == ["N-0002"]
    assert table_refs(cs_client.get("/needs?q=+").text) == ["N-0004", "N-0003", "N-0002", "N-0001"]


def test_found_words_are_marked_in_the_cells_and_the_description(cs_client, searched):
    html = cs_client.get("/needs?q=匯出").text

    assert "<mark>匯出</mark>很慢" in html
    assert '<div class="snippet">客戶每天都要<mark>匯出</mark>報表。</div>' in html
    assert "<mark>N-0003</mark>" in cs_client.get("/needs?q=n-0003").text
    assert table_refs(cs_client.get("/needs?q=0003").text) == ["N-0003"]
    assert "<mark>ACME</mark> <mark>Corp</mark>" in cs_client.get("/needs?q=acme+corp").text


def test_marking_escapes_the_need_text_and_the_query(cs_client, make_need):
    make_need(title="<script>alert(1)</script> 報表", description='<img src=x onerror="alert(2)"> 報表')

    html = cs_client.get("/needs?q=script").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; 報表" in html

    html = cs_client.get("/needs", query_string={"q": "<script>"}).text
    assert "<mark>&lt;script&gt;</mark>alert(1)" in html
    assert 'value="&lt;script&gt;"' in html

    html = cs_client.get("/needs", query_string={"q": "onerror"}).text
    assert '&lt;img src=x <mark>onerror</mark>=&#34;alert(2)&#34;&gt; 報表' in html

    empty = cs_client.get("/needs", query_string={"q": "<b>nothing</b>"}).text
    assert "No need matches “&lt;b&gt;nothing&lt;/b&gt;”." in empty and "<b>nothing" not in empty


def test_search_combines_with_a_filter_and_a_sort(cs_client, make_need):
    make_need(title="報表一", category="reports", reported_at="2026-11-20T09:00:00+00:00")
    make_need(title="報表二", category="billing", reported_at="2026-11-21T09:00:00+00:00")
    make_need(title="報表三", category="reports", reported_at="2026-11-19T09:00:00+00:00")
    make_need(title="發票", category="reports", reported_at="2026-11-18T09:00:00+00:00")

    html = cs_client.get("/needs?q=報表&category=reports&sort=reported_at&dir=asc").text

    assert table_refs(html) == ["N-0003", "N-0001"]
    assert "2 needs" in html
    assert 'href="/needs?category=reports&amp;q=%E5%A0%B1%E8%A1%A8&amp;sort=reported_at&amp;dir=desc"' in html
    assert table_refs(cs_client.get("/needs?q=報表&sort=title&dir=asc").text) == ["N-0001", "N-0003", "N-0002"]


def test_pages_of_a_search_keep_the_words(cs_client, make_need):
    for number in range(53):
        make_need(title=f"報表 {number}")
    make_need(title="發票")

    first = cs_client.get("/needs?q=報表").text
    past_the_end = cs_client.get("/needs?q=報表&page=7").text

    assert "53 needs" in first and len(table_refs(first)) == 50 and "N-0054" not in table_refs(first)
    assert 'href="/needs?page=2&amp;q=%E5%A0%B1%E8%A1%A8"' in first
    assert "Page 2 of 2" in past_the_end and table_refs(past_the_end) == ["N-0003", "N-0002", "N-0001"]


@pytest.mark.parametrize(("accept_language", "message"), [
    ("en", "No need matches “麒麟”."),
    ("zh-TW", "沒有需求符合「麒麟」。"),
    ("zh-CN", "没有需求符合“麒麟”。"),
])
def test_an_empty_result_says_so_in_the_page_language(cs_client, searched, accept_language, message):
    html = cs_client.get("/needs?q=麒麟", headers={"Accept-Language": accept_language}).text

    assert table_refs(html) == [] and message in html


def test_an_empty_result_with_filters_says_both(cs_client, searched):
    html = cs_client.get("/needs?q=報表&category=billing").text

    assert "No need matches “報表” with these filters." in html and "Clear filters" in html


def test_the_download_holds_what_the_search_found(cs_client, searched):
    assert 'href="/needs/export?q=%E5%A0%B1%E8%A1%A8"' in cs_client.get("/needs?q=報表").text

    response = cs_client.get("/needs/export?format=csv&q=報表")

    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["N-0001"]
