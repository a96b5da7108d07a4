"""In Chromium: import a sheet through the upload page (dry run, then confirm), then read the monthly report.

Runs the real app on waitress with CSRF checks on. Screenshots go to ``test-output/`` at the repo root:
``import-dry-run.png``, ``reports.png`` and the printable report as ``reports.pdf``. A missing Chromium
fails this test rather than skipping it.
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from tests.browser import OUTPUT, page, server, submit_login  # noqa: F401  the browser and app fixtures
from tests.table.sheets import SEED_HEADERS, add_need, write_xlsx


def last_month() -> dt.datetime:
    today = dt.datetime.now(dt.UTC)
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def fill_last_month(runtime) -> str:
    """A month of needs with answers, resolutions, breaches and shared issues; returns ``YYYY-MM``."""
    start = last_month()

    def when(days: float) -> str:
        return (start + dt.timedelta(days=days)).isoformat(timespec="minutes").removesuffix("+00:00")

    plan = [  # ref, day raised, urgency, category, customer, issue, [(status, days after raised)]
        ("N-0101", 0, "critical", "billing", "acme", "CS-1", [("accepted", 0.1), ("done", 1)]),
        ("N-0102", 1, "critical", "billing", "globex", "CS-1", [("accepted", 0.3), ("done", 4)]),
        ("N-0103", 2, "high", "reports", "acme", "CS-2", [("accepted", 0.5), ("in_progress", 3)]),
        ("N-0104", 3, "high", "reports", "globex", "CS-2", [("accepted", 2)]),
        ("N-0105", 5, "medium", "billing", "initech", "CS-3", [("scheduled", 1), ("done", 9)]),
        ("N-0106", 8, "low", "billing", "acme", None, [("declined", 2)]),
        ("N-0107", 12, "critical", "reports", "acme", "CS-1", [("accepted", 0.05), ("done", 2)]),
        ("N-0108", 15, "high", "billing", "acme", None, []),
    ]
    for ref, raised, urgency, category, customer, issue, moves in plan:
        history = [("new", when(raised), "cs")] + [(status, when(raised + after), "tracker") for status, after in moves]
        add_need(runtime, ref, when(raised), history, urgency=urgency, category=category, customer=customer,
                 issue_key=issue, title=f"Customer request {ref[-3:]}")
    return f"{start:%Y-%m}"


def test_import_then_the_monthly_report_in_the_browser(server, page, runtime, tmp_path):
    month = fill_last_month(runtime)
    header = SEED_HEADERS["zh_Hant"] + ["客戶"]
    today = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}"  # this month: the imported need is not in last month's report
    sheet = write_xlsx(tmp_path / "需求收集表.xlsx", [
        header,
        ["1", "計費", "發票要顯示稅號", "", "高", "Li Na", today, "Wang Wei", "", "", "acme"],
        ["2", "報表", "", "", "中", "Li Na", today, "", "", "", "acme"],
        ["3", "報表", "報表匯出 PDF", "", "超急", "Li Na", "下週二", "", "", "", "acme"],
    ])

    page.goto(f"{server}/login?next=/needs/import")
    submit_login(page)
    expect(page).to_have_url(f"{server}/needs/import")
    page.set_input_files("#file", str(sheet))
    page.click("#check-import")
    problems = page.locator("table.import-problems.problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text("問題詳細描述")
    expect(page.locator("#confirm-import")).to_have_text("Import 1 row")
    page.screenshot(path=OUTPUT / "import-dry-run.png", full_page=True)
    page.click("#confirm-import")
    expect(page.locator(".flash-error")).to_contain_text("1 new, 0 updated, 0 unchanged, 2 refused")

    page.goto(f"{server}/reports?month={month}")
    expect(page.locator(".voc h1")).to_have_text(f"Voice of the customer, {month}")
    expect(page.locator(".figure-needs .value")).to_have_text("8")
    charts = page.locator("img.chart")
    expect(charts).to_have_count(6)
    for index in range(6):
        assert charts.nth(index).evaluate("img => img.complete && img.naturalWidth > 0"), f"chart {index} is blank"
    expect(page.locator(".voc-breaches tbody tr").first).to_be_visible()
    page.screenshot(path=OUTPUT / "reports.png", full_page=True)

    page.goto(f"{server}/reports/voc-{month}.html")
    expect(page.locator("h1")).to_have_text(f"Voice of the customer, {month}")
    page.pdf(path=str(OUTPUT / "reports.pdf"), format="A4", print_background=True)
    assert (OUTPUT / "reports.pdf").read_bytes().startswith(b"%PDF")
