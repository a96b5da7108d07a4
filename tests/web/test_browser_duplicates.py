"""In Chromium, in zh-Hant: CS types a need that is already asked for, sees the similar open need appear as
they type, and files the new one attached to it with one click; then merges a need and undoes the merge.

Screenshots of the pages go to ``test-output/`` at the repo root.
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from sync.ledger.store import Need, NeedMerge
from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures


def test_a_near_duplicate_typed_in_zh_hant_is_attached_in_one_click(server, page, make_need, runtime):
    make_need(title="导出的Excel报表中文乱码", description="月报导出后用Excel打开显示乱码", category="reports")
    make_need(title="报表增加按季度统计", description="希望报表可以按季度汇总销售数据", category="reports")
    page.goto(f"{server}/login?next=%2Fneeds%2Fnew")
    submit_login(page)
    page.click("nav.langs >> text=繁體中文")
    expect(page).to_have_url(f"{server}/needs/new")

    box = page.locator("#similar")
    expect(box).to_be_hidden()
    page.select_option("#category", "reports")
    page.select_option("#urgency", "high")
    page.fill("#customer", "acme")
    page.fill("#reporter_name", "陳小姐")
    page.locator("#title").press_sequentially("報表匯出Excel時中文亂碼", delay=20)

    expect(box).to_be_visible()
    items = box.locator(".similar-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("N-0001")
    expect(items.first).to_contain_text("ACME Corp")
    expect(box.locator("h2")).to_have_text("類似的未結需求")
    page.screenshot(path=OUTPUT / "intake-similar-zh_Hant.png", full_page=True)

    items.first.locator("button.attach").click()

    expect(page).to_have_url(f"{server}/needs/N-0003")
    expect(page.locator(".flash-success")).to_contain_text("N-0003")
    with runtime.Session() as session:
        need = session.scalars(select(Need).where(Need.ref == "N-0003")).one()
    assert (need.linked_to, need.customer, need.title) == ("N-0001", "acme", "報表匯出Excel時中文亂碼")


def test_cs_merges_a_need_and_undoes_it(server, page, make_need, runtime):
    make_need(title="Invoices should show the tax number")
    make_need(title="Tax number missing on PDF invoices")
    page.goto(f"{server}/login?next=%2Fneeds%2FN-0002")
    submit_login(page)
    page.click("#merge-need")
    page.click("#merge-suggestions >> text=N-0001")
    expect(page.locator(".merge-side")).to_have_count(2)
    page.screenshot(path=OUTPUT / "merge-confirm.png", full_page=True)
    page.click("#confirm-merge")

    expect(page).to_have_url(f"{server}/needs/N-0002")
    expect(page.locator("#merges li.merged")).to_contain_text("N-0001")
    page.screenshot(path=OUTPUT / "need-merged.png", full_page=True)
    page.click("#merges button")
    expect(page.locator("#merges li.merged")).to_have_count(0)
    with runtime.Session() as session:
        assert session.scalars(select(NeedMerge)).one().undone_by == "cs1"
