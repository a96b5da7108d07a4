"""/demand in Chromium, in Traditional Chinese: reached from the nav, the ranking in score order, the filters kept
in the download link, and no script or style the page's Content-Security-Policy refuses."""

from __future__ import annotations

import pytest

from plugin.loading import parse_settings
from tests.browser import OUTPUT, chromium, server, submit_login  # noqa: F401  the app fixture
from tests.demand.ranking_data import YAML, seed


@pytest.fixture
def settings():
    return parse_settings(YAML, "test.yaml")


def test_the_demand_page_from_the_nav_ranks_and_filters(server, runtime, make_need):
    seed(runtime, make_need)
    with chromium() as open_page:
        page = open_page("zh-TW")
        page.goto(f"{server}/login")
        submit_login(page)
        page.click("nav.mainnav >> text=需求度")
        page.wait_for_url(f"{server}/demand")
        assert page.locator("h1").inner_text() == "客戶需求度"
        ranked = page.locator("tr[data-issue]").evaluate_all("rows => rows.map(row => row.dataset.issue)")
        assert ranked[0] == "CS-1" and sorted(ranked) == ["CS-1", "CS-2", "CS-3", "CS-4", "CS-5"]
        page.screenshot(path=OUTPUT / "demand-zh-Hant.png")
        page.select_option("select[name=customer]", "acme")
        page.click(".filters button[type=submit]")
        page.wait_for_url(f"{server}/demand?category=&customer=acme")
        assert page.locator("tr[data-issue]").evaluate_all("rows => rows.map(row => row.dataset.issue)") == [
            "CS-1", "CS-3"]
        assert page.get_attribute("#demand-export", "href") == "/demand/export.csv?customer=acme"
        with page.expect_download() as download:
            page.click("#demand-export")
        assert download.value.suggested_filename.startswith("cocreate-demand-")
