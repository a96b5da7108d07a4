"""The VOC report's north star as ``notifications.delivered_on`` says: done, shipped or either, unweighted and
weighted by the customers' annual revenue, with the median time from report to shipped; held against the
need-by-need reference and against hand-counted figures."""

from __future__ import annotations

import datetime as dt

import pytest

from plugin.loading import parse_settings
from sync.ledger.store import Need, NeedRelease
from sync.report.figures import voc_report
from sync.report.render import render_report, summary_lines
from tests.table.helpers import TABLE_YAML
from tests.table.report_data import reference_delivered
from tests.table.sheets import add_need, at

REVENUE = {"acme": 3_000_000, "globex": 1_000_000}


def settings_for(rule: str):
    yaml = TABLE_YAML.replace("  - {key: acme, name: ACME Corp, locale: en}",
                              f"  - {{key: acme, name: ACME Corp, locale: en, annual_revenue: {REVENUE['acme']}}}")
    yaml = yaml.replace("  - {key: globex, name: Globex, locale: zh-Hant}",
                        f"  - {{key: globex, name: Globex, locale: zh-Hant, annual_revenue: {REVENUE['globex']}}}")
    yaml = yaml.replace("  escalation_contacts: [cs-lead@example.com]",
                        f"  escalation_contacts: [cs-lead@example.com]\n  delivered_on: {rule}")
    return parse_settings(yaml, "table.yaml")


@pytest.fixture(params=["done", "release", "both"])
def settings(request):
    return settings_for(request.param)


def ship(runtime, ref: str, version: str, day: dt.date | None, recorded: str = "11-20 00:00") -> None:
    with runtime.Session.begin() as session:
        need = session.query(Need).filter_by(ref=ref).one()
        session.add(NeedRelease(need_id=need.id, version_id=version, version_name=version, released_on=day,
                                issue_key=need.issue_key or "CS-9", recorded_at=at(recorded)))


def fill(runtime) -> None:
    """N-1 acme: done, shipped 11-10; N-2 globex: done, not shipped; N-3 acme: in progress but shipped 11-12
    (a fix released before the issue was closed); N-4 globex: new; N-5 acme: shipped only after the cut-off."""
    add_need(runtime, "N-1", "10-01 00:00", [("new", "10-01 00:00", "cs"), ("done", "11-01 00:00", "tracker")],
             issue_key="CS-1")
    add_need(runtime, "N-2", "10-02 00:00", [("new", "10-02 00:00", "cs"), ("done", "11-02 00:00", "tracker")],
             customer="globex", issue_key="CS-2")
    add_need(runtime, "N-3", "10-03 00:00", [("new", "10-03 00:00", "cs"), ("in_progress", "10-20 00:00", "tracker")],
             issue_key="CS-3")
    add_need(runtime, "N-4", "10-04 00:00", [("new", "10-04 00:00", "cs")], customer="globex")
    add_need(runtime, "N-5", "10-05 00:00", [("new", "10-05 00:00", "cs")], issue_key="CS-5")
    ship(runtime, "N-1", "v5.2", dt.date(2026, 11, 10))
    ship(runtime, "N-1", "v5.3", dt.date(2026, 11, 20))  # shipped again: its first release counts
    ship(runtime, "N-3", "v5.2-hotfix", None, recorded="11-12 00:00")
    ship(runtime, "N-5", "v6.0", dt.date(2026, 12, 20))


EXPECTED = {  # delivered needs, delivered revenue, of 5 needs and 11,000,000 of revenue
    "done": ({"N-1", "N-2"}, 4_000_000),
    "release": ({"N-1", "N-3"}, 6_000_000),
    "both": ({"N-1", "N-2", "N-3"}, 7_000_000),
}


def test_delivered_share_by_the_rule_weighted_and_unweighted(runtime, settings):
    fill(runtime)
    report = voc_report(runtime, "2026-11", now=at("12-15 00:00"))
    figures = report.delivered_figures
    needs, revenue = EXPECTED[settings.notifications.delivered_on]
    assert (figures.needs, figures.delivered, figures.revenue) == (5, len(needs), 11_000_000)
    assert figures.delivered_revenue == revenue
    assert figures.share == len(needs) / 5 and figures.weighted_share == revenue / 11_000_000
    assert (report.all_needs, report.all_delivered) == (5, len(needs))  # the north star itself
    # N-1: 10-01 -> 11-10 (40 days); N-3: 10-03 -> 11-12 (40 days); N-5 ships after the cut-off.
    assert (figures.shipped, figures.median_to_shipped) == (2, dt.timedelta(days=40))
    with runtime.Session() as session:
        needs_then = session.query(Need).filter(Need.reported_at < report.cutoff).all()
        for need in needs_then:
            need.history  # noqa: B018 - loaded while the session is open
    assert figures == reference_delivered(runtime, needs_then, report.cutoff)


def test_the_month_in_progress_reads_each_need_s_status_and_gives_the_same_figures(runtime, settings):
    """Asked live (no ``now``: the cut-off is now), no history is read; the figures are those from the history."""
    from sync.ledger.store import utcnow
    from sync.report.shipped import delivered_figures

    fill(runtime)
    now = utcnow()
    with runtime.Session() as session:
        live = delivered_figures(session, settings, now, live=True)
        assert live == delivered_figures(session, settings, now)
    assert live.needs == 5
    month = now.strftime("%Y-%m")
    assert voc_report(runtime, month).delivered_figures == live


def test_the_report_shows_the_weighted_share_and_the_time_to_shipped(runtime, settings):
    fill(runtime)
    report = voc_report(runtime, "2026-11", now=at("12-15 00:00"))
    html = render_report(report, runtime.settings, "en")
    assert "Delivered, weighted by revenue" in html and "Median time from report to shipped" in html
    assert "40 days" in html and "needs shipped: 2" in html
    assert "已交付占比（依年營收加權）" in render_report(report, runtime.settings, "zh_Hant")
    lines = summary_lines(report, runtime.settings, "zh_Hans")
    assert any(line.startswith("从反馈到发布的中位用时: 40 天") for line in lines), lines


def test_no_needs_and_no_revenue_give_no_share(runtime, settings):
    report = voc_report(runtime, "2026-11", now=at("12-15 00:00"))
    figures = report.delivered_figures
    assert (figures.needs, figures.share, figures.weighted_share, figures.median_to_shipped) == (0, None, None, None)
