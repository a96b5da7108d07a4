"""In Chromium: CS types words in the search box on /needs and sees the needs that hold them, the words marked.

Screenshots of the pages go to ``test-output/`` at the repo root.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures


def test_cs_searches_the_table_and_sees_the_words_marked(server, page, make_need):
    make_need(title="報表匯出很慢", description="客戶每天都要匯出報表。", category="reports")
    make_need(title="<b>Invoices</b> should show the tax number")
    make_need(title="Dark mode")
    page.goto(f"{server}/login?next=%2Fneeds")
    submit_login(page)
    rows = page.locator("table.needs tbody tr")
    expect(rows).to_have_count(3)

    page.fill("input[name=q]", "匯出")
    page.press("input[name=q]", "Enter")

    expect(rows).to_have_count(1)
    expect(rows.locator(".col-title a mark")).to_have_text("匯出")
    expect(rows.locator(".col-title .snippet mark")).to_have_text("匯出")
    expect(page.locator("input[name=q]")).to_have_value("匯出")
    page.screenshot(path=OUTPUT / "needs-search.png", full_page=True)

    page.fill("input[name=q]", "invoices")
    page.press("input[name=q]", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.locator(".col-title a")).to_have_text("<b>Invoices</b> should show the tax number")
    expect(rows.locator(".col-title a mark")).to_have_text("Invoices")

    page.fill("input[name=q]", "麒麟")
    page.press("input[name=q]", "Enter")
    expect(rows).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("No need matches “麒麟”.")
