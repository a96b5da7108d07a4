"""End to end in Chromium: log in, file a need with a screenshot through the real form, find it in the table.

Runs the real app on waitress with CSRF checks on. Screenshots of the pages go to ``test-output/`` at the repo root.
Chromium comes from the system (CI installs it); a missing browser fails this test rather than skipping it.
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from sync.ledger.store import Need
from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures
from tests.images import png_bytes


def test_cs_files_a_need_with_a_screenshot_in_the_browser(server, page, runtime):
    page.goto(f"{server}/needs/new")
    expect(page).to_have_url(f"{server}/login?next=%2Fneeds%2Fnew")
    page.screenshot(path=OUTPUT / "login.png")
    submit_login(page)
    expect(page).to_have_url(f"{server}/needs/new")
    page.screenshot(path=OUTPUT / "intake-form.png", full_page=True)

    page.select_option("#category", "billing")
    page.select_option("#urgency", "critical")
    page.fill("#description", "The PDF invoice lacks the customer's tax number.\nFinance cannot file it.")
    page.fill("#customer", "acme")
    page.select_option("#stage", "acceptance")
    page.fill("#reporter_name", "Li Na")
    page.fill("#reporter_email", "li.na@acme.example")
    page.fill("#reporter_channel", "WeCom")
    page.fill("#reported_at", "2026-11-20T09:30")
    page.fill("#owner", "Wang Wei")
    page.fill("#remarks", "Promised an answer by Friday.")
    page.click("button.primary")

    expect(page.locator("#title-error")).to_have_text("This field is required.")
    expect(page.locator(".alert-error")).to_contain_text("Nothing was saved.")
    expect(page.locator("#customer")).to_have_value("acme")
    page.screenshot(path=OUTPUT / "intake-form-error.png", full_page=True)
    with runtime.Session() as session:
        assert session.scalars(select(Need)).all() == []

    page.fill("#title", "Invoices should show the tax number")
    page.set_input_files("#screenshots", files=[
        {"name": "invoice.png", "mimeType": "image/png", "buffer": png_bytes(320, 200, (40, 110, 190))}])
    page.click("button.primary")

    expect(page).to_have_url(f"{server}/needs/N-0001")
    expect(page.locator(".flash-success")).to_have_text("Need N-0001 filed")
    expect(page.locator("h1")).to_contain_text("Invoices should show the tax number")
    screenshot = page.locator("#screenshots img")
    expect(screenshot).to_have_count(1)
    assert screenshot.evaluate("img => img.naturalWidth") == 320
    page.screenshot(path=OUTPUT / "need-page.png", full_page=True)

    page.click("nav.mainnav >> text=Needs")
    expect(page).to_have_url(f"{server}/needs")
    row = page.locator("table.needs tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".col-ref")).to_have_text("N-0001")
    expect(row.locator(".col-title")).to_have_text("Invoices should show the tax number")
    expect(row.locator(".col-urgency")).to_have_text("Critical")
    expect(row.locator(".col-customer")).to_have_text("ACME Corp")
    expect(row.locator(".col-issue")).to_contain_text("waiting for tracker")
    expect(row.locator(".col-screenshots img")).to_have_count(1)
    page.screenshot(path=OUTPUT / "needs-table.png", full_page=True)

    page.click("nav.langs >> text=繁體中文")
    expect(page).to_have_url(f"{server}/needs")
    headers = page.locator("table.needs thead th")
    expect(headers).to_contain_text(["序號", "產品類別", "問題詳細描述", "問題截圖", "緊急程度", "反饋人", "反饋時間",
                                     "跟進人", "狀態", "說明", "客戶", "研發工單"])
    expect(row.locator(".col-urgency")).to_have_text("緊急")
    expect(row.locator(".col-category")).to_have_text("計費")
    page.screenshot(path=OUTPUT / "needs-table-zh_Hant.png", full_page=True)

    page.click("nav.mainnav >> text=登記需求")
    expect(page.locator("label[for=title]")).to_contain_text("標題")
    page.click("button.primary")
    expect(page.locator("#title-error")).to_have_text("此欄位為必填。")
    page.screenshot(path=OUTPUT / "intake-form-error-zh_Hant.png", full_page=True)

    page.click("form.logout button")
    expect(page).to_have_url(f"{server}/login")
