"""In Chromium at 1440x900, in Traditional Chinese, with long text beside them: people's names stay on one line,
the reports toolbar and the minutes form's columns line up, the status page's minutes stand clear of its table.

Screenshots of the pages go to ``test-output/`` at the repo root.
"""

from __future__ import annotations

import pytest

from sync.ledger.customers import issue_status_token
from tests.browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT, server, submit_login  # noqa: F401  the app fixture
from tests.minutes.helpers import file_minutes

LONG = "客戶在十一月的例會上再次提到這個問題，希望在年底結帳前能修好，否則會影響他們的稽核作業與發票開立流程。"


@pytest.fixture
def zh_page():
    """A Chromium page, 1440x900, that asks for Traditional Chinese."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"Chromium is needed at {CHROMIUM}"
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-TW")
        yield context.new_page()
        context.close()
        browser.close()


def log_in(page, server):
    page.goto(f"{server}/login")
    submit_login(page)


def lines(page, selector: str) -> list[int]:
    """How many lines the text of each element matching ``selector`` is drawn on."""
    return page.eval_on_selector_all(selector, """cells => cells.map(cell => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size;
    })""")


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_three_character_names_stay_on_one_line_in_the_table_and_on_the_need_page(server, zh_page, make_need):
    for _ in range(3):
        make_need(title=LONG, description=LONG, remarks=LONG, reporter_name="洪俊傑", owner="洪俊傑",
                  linked_to="N-0001")
    log_in(zh_page, server)

    zh_page.goto(f"{server}/needs")
    zh_page.screenshot(path=OUTPUT / "layout-needs-zh-Hant.png")
    assert lines(zh_page, "td.col-owner") == [1, 1, 1]
    assert lines(zh_page, "td.col-reporter .person") == [1, 1, 1]

    zh_page.goto(f"{server}/needs/N-0001")
    assert lines(zh_page, "dd.person") == [1, 1]


def test_the_reports_toolbar_lines_up(server, zh_page):
    log_in(zh_page, server)
    zh_page.goto(f"{server}/reports")
    zh_page.screenshot(path=OUTPUT / "layout-reports-zh-Hant.png")
    show = box(zh_page, ".report-month button")
    for link in zh_page.locator(".report-actions .button").all():
        assert link.bounding_box()["y"] == pytest.approx(show["y"], abs=1)
        assert link.bounding_box()["height"] == pytest.approx(show["height"], abs=1)


def test_the_minutes_forms_issue_column_lines_up(server, zh_page):
    log_in(zh_page, server)
    zh_page.goto(f"{server}/minutes/new")
    headings = zh_page.eval_on_selector_all(".action-rows thead th", """cells => cells.map(cell => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return Math.round(range.getBoundingClientRect().top);
    })""")
    assert len(set(headings)) == 1, headings


def test_the_status_pages_minutes_heading_stands_clear_of_the_table(server, zh_page, runtime, make_need):
    make_need(title=LONG, reporter_name="洪俊傑")
    file_minutes(runtime, topic="十二月例會", visibility="shared")
    zh_page.goto(f"{server}/s/{issue_status_token(runtime, 'acme')}")
    zh_page.screenshot(path=OUTPUT / "layout-status-zh-Hant.png", full_page=True)
    table, heading = box(zh_page, ".table-wrap"), box(zh_page, "h2.section-title")
    assert heading["y"] - (table["y"] + table["height"]) >= 16
    assert lines(zh_page, "td.col-reporter") == [1]
