"""In Chromium, in Traditional Chinese: file a need, edit two fields and add a screenshot, see the field history;
then an edit from a stale copy shows the other person's change beside what was typed.

Screenshots of the pages go to ``test-output/`` at the repo root.
"""

from __future__ import annotations

from playwright.sync_api import expect

from plugin.need import validate_need
from sync.intake import update_need
from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures
from tests.factories import need_data
from tests.images import png_bytes


def test_cs_edits_a_need_in_traditional_chinese(server, page, runtime):
    page.goto(f"{server}/login")
    submit_login(page)
    page.click("nav.langs >> text=繁體中文")
    page.goto(f"{server}/needs/new")
    page.select_option("#category", "billing")
    page.select_option("#urgency", "high")
    page.fill("#title", "發票需顯示統一編號")
    page.fill("#description", "客戶的財務部門需要在每張 PDF 發票上看到統一編號。")
    page.fill("#customer", "acme")
    page.fill("#reporter_name", "林小姐")
    page.fill("#reporter_email", "lin@acme.example")
    page.fill("#reported_at", "2026-11-20T09:30")
    page.fill("#owner", "Wang Wei")
    page.click("button.primary")
    expect(page).to_have_url(f"{server}/needs/N-0001")
    expect(page.locator("#field-history")).to_contain_text("登記後尚未修改過任何欄位。")

    page.click("#edit-need")
    expect(page).to_have_url(f"{server}/needs/N-0001/edit")
    expect(page.locator("h1")).to_have_text("編輯 N-0001")
    expect(page.locator("#title")).to_have_value("發票需顯示統一編號")
    page.fill("#title", "發票需顯示統一編號與地址")
    page.select_option("#urgency", "critical")
    page.set_input_files("#screenshots", files=[
        {"name": "invoice.png", "mimeType": "image/png", "buffer": png_bytes(320, 200, (40, 110, 190))}])
    page.screenshot(path=OUTPUT / "need-edit-zh_Hant.png", full_page=True)
    page.click("button.primary")

    expect(page).to_have_url(f"{server}/needs/N-0001")
    expect(page.locator(".flash-success")).to_have_text("需求 N-0001 已儲存")
    expect(page.locator("h1")).to_contain_text("發票需顯示統一編號與地址")
    expect(page.locator("#screenshots img")).to_have_count(1)
    rows = page.locator("#field-history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["問題截圖", "緊急程度", "標題"])
    expect(rows.nth(1)).to_contain_text("高")
    expect(rows.nth(1)).to_contain_text("緊急")
    expect(rows.nth(2)).to_contain_text("發票需顯示統一編號與地址")
    expect(rows.nth(0)).to_contain_text("新增 invoice.png")
    expect(page.locator("#customer-status")).to_contain_text("設定狀態")
    page.screenshot(path=OUTPUT / "need-field-history-zh_Hant.png", full_page=True)

    # Someone else saves while this form is open: saving it shows their change and keeps what was typed.
    page.click("#edit-need")
    update_need(runtime, "N-0001", validate_need(need_data(
        title="同事改過的標題", urgency="critical", customer="acme", reporter_name="林小姐",
        reporter_email="lin@acme.example", reported_at="2026-11-20T09:30:00+00:00", owner="Wang Wei",
        description="客戶的財務部門需要在每張 PDF 發票上看到統一編號。", stage=None), runtime.settings),
        "wang.wei", version=2)
    page.fill("#title", "我打的標題")
    page.click("button.primary")
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("未儲存任何內容：在你開啟後，有人儲存了這筆需求。")
    expect(conflict.locator("tbody tr")).to_have_count(1)
    expect(conflict.locator("tbody tr")).to_contain_text("同事改過的標題")
    expect(conflict.locator("tbody tr")).to_contain_text("我打的標題")
    expect(page.locator("#title")).to_have_value("我打的標題")
    expect(page.locator("#title-error")).to_have_text("wang.wei 在你開啟表單後修改了此欄位。")
    page.screenshot(path=OUTPUT / "need-edit-conflict-zh_Hant.png", full_page=True)
