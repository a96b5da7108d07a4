"""The VOC report's figures against a small data set computed by hand (see the table in ``october``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from sync.report.figures import Durations, durations, month_bounds, voc_report
from sync.report.render import render_document, share_gauge, text_width
from sync.sla import FIRST_RESPONSE, RESOLUTION
from tests.table.sheets import add_need, at

HOURS = dt.timedelta(hours=1)
NOW = at("11-05 00:00")


@pytest.fixture
def october(runtime):
    """Needs around October 2026 (UTC). Targets: critical 4 h / 3 d, high 1 d / 7 d, medium and low none.

    ref     raised  urgency   customer  issue  history (source)                                   at the cut-off
    N-0001  10-01   critical  acme      CS-1   new, accepted +2 h, done +1 d                        done
    N-0002  10-02   critical  globex    CS-1   new, accepted +6 h (late 2 h), done +4 d (late 1 d)  done
    N-0003  10-03   high      acme      CS-2   new, accepted +1 d (just in time), done 11-03         accepted
    N-0004  10-10   high      acme      -      new                                                new
    N-0005  10-15   medium    globex    CS-1   new, accepted +12 h, declined +5 d                  declined
    N-0006  10-20   low       acme      CS-3   done, set by an import (time unknown)              done
    N-0007  09-28   critical  acme      CS-2   new, accepted +1 h, done 10-03 (due 10-01: late 2 d) done
    N-0008  11-02   high      globex    -      raised after the cut-off: left out
    N-0009  10-05   critical  initech   CS-4   new, accepted +1 h, done +12 h                      done
    """
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs"), ("accepted", "10-01 02:00", "tracker"),
                                                ("done", "10-02 00:00", "tracker")], urgency="critical",
             issue_key="CS-1")
    add_need(runtime, "N-0002", "10-02 00:00", [("new", "10-02 00:00", "cs"), ("accepted", "10-02 06:00", "tracker"),
                                                ("done", "10-06 00:00", "tracker")], urgency="critical",
             customer="globex", issue_key="CS-1")
    add_need(runtime, "N-0003", "10-03 00:00", [("new", "10-03 00:00", "cs"), ("accepted", "10-04 00:00", "tracker"),
                                                ("done", "11-03 00:00", "tracker")], category="reports",
             issue_key="CS-2")
    add_need(runtime, "N-0004", "10-10 00:00", [("new", "10-10 00:00", "cs")], category="reports")
    add_need(runtime, "N-0005", "10-15 00:00", [("new", "10-15 00:00", "cs"), ("accepted", "10-15 12:00", "tracker"),
                                                ("declined", "10-20 00:00", "tracker")], urgency="medium",
             customer="globex", issue_key="CS-1")
    add_need(runtime, "N-0006", "10-20 00:00", [("done", "10-25 00:00", "import")], urgency="low", issue_key="CS-3")
    add_need(runtime, "N-0007", "09-28 00:00", [("new", "09-28 00:00", "cs"), ("accepted", "09-28 01:00", "tracker"),
                                                ("done", "10-03 00:00", "tracker")], urgency="critical",
             issue_key="CS-2")
    add_need(runtime, "N-0008", "11-02 00:00", [("new", "11-02 00:00", "cs")], customer="globex")
    add_need(runtime, "N-0009", "10-05 00:00", [("new", "10-05 00:00", "cs"), ("accepted", "10-05 01:00", "tracker"),
                                                ("done", "10-05 12:00", "tracker")], urgency="critical",
             customer="initech", issue_key="CS-4")
    return voc_report(runtime, "2026-10", timezone="UTC", now=NOW)


def test_counts_by_category_urgency_and_status(october):
    assert october.total == 7  # N-0001..6 and N-0009
    assert october.cutoff == at("11-01 00:00")
    assert october.by_category == (("billing", 5), ("reports", 2))
    assert october.by_urgency == (("critical", 3), ("high", 2), ("medium", 1), ("low", 1))
    # N-0003 was done only on 11-03: at the cut-off it was still accepted.
    assert october.by_status == (("new", 1), ("accepted", 1), ("scheduled", 0), ("in_progress", 0), ("done", 4),
                                 ("declined", 1))


def test_time_to_acceptance_and_resolution_median_and_p90(october):
    acceptance = dict(october.to_acceptance)
    # critical: 1 h, 2 h, 6 h -> median 2 h; p90 at rank 0.9 * (3 - 1) = 1.8: 2 + 0.8 * (6 - 2) = 5.2 h
    assert acceptance["critical"] == Durations(3, 2 * HOURS, 5.2 * HOURS)
    assert acceptance["high"] == Durations(1, 24 * HOURS, 24 * HOURS)  # N-0004 not accepted yet: not timed
    assert acceptance["medium"] == Durations(1, 12 * HOURS, 12 * HOURS)
    assert acceptance["low"] == Durations(0, None, None)  # accepted by an import: time unknown

    resolution = dict(october.to_resolution)
    # critical: 12 h, 24 h, 96 h -> median 24 h; p90: 24 + 0.8 * (96 - 24) = 81.6 h
    assert resolution["critical"] == Durations(3, 24 * HOURS, 81.6 * HOURS)
    assert resolution["high"] == Durations(0, None, None)  # N-0003 done after the cut-off, N-0004 open
    assert resolution["medium"] == Durations(1, 120 * HOURS, 120 * HOURS)  # declined counts as resolved
    assert resolution["low"] == Durations(0, None, None)


def test_sla_breaches_due_in_the_month(october):
    assert [(breach.ref, breach.sla, breach.due_at, breach.late_by, breach.still_open)
            for breach in october.breaches] == [
        ("N-0007", RESOLUTION, at("10-01 00:00"), 48 * HOURS, False),  # raised in September, due in October
        ("N-0002", FIRST_RESPONSE, at("10-02 04:00"), 2 * HOURS, False),
        ("N-0002", RESOLUTION, at("10-05 00:00"), 24 * HOURS, False),
        ("N-0003", RESOLUTION, at("10-10 00:00"), 22 * 24 * HOURS, True),  # open at the cut-off
        ("N-0004", FIRST_RESPONSE, at("10-11 00:00"), 21 * 24 * HOURS, True),
        ("N-0004", RESOLUTION, at("10-17 00:00"), 15 * 24 * HOURS, True),
    ]
    assert october.breach_count("critical", FIRST_RESPONSE) == 1 and october.breach_count("high", RESOLUTION) == 2


def test_most_requested_issues_and_delivered_share(october):
    assert [(issue.issue_key, issue.customers, issue.needs, issue.new_in_month) for issue in october.top_issues] == [
        ("CS-1", ("acme", "globex"), 3, 3),
        ("CS-2", ("acme",), 2, 1),
        ("CS-3", ("acme",), 1, 1),
        ("CS-4", ("initech",), 1, 1),
    ]
    assert october.top_issues[0].issue_url == "https://jira.example/browse/CS-1"
    # The month's needs: N-0001, 2, 6, 9 delivered of 7. All needs to the cut-off: those and N-0007, of 8.
    assert (october.delivered, october.total, october.delivered_share) == (4, 7, 4 / 7)
    assert (october.all_delivered, october.all_needs, october.north_star) == (5, 8, 0.625)


def test_the_document_shows_the_figures_with_charts_as_images(october, settings):
    page = render_document(october, settings, "zh_Hant")
    assert page.startswith("<!doctype html>") and "客戶之聲月報（2026-10）" in page
    assert "62.5%" in page and "57.1%" in page and "@media print" in page
    assert len(re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,', page)) == 6
    assert 'href="https://jira.example/browse/CS-1"' in page


def test_month_bounds_and_durations_edge_cases():
    assert month_bounds("2026-12", "Asia/Shanghai") == (at("11-30 16:00"), at("2026-12-31 16:00"))
    with pytest.raises(ValueError, match="not a month"):
        month_bounds("2026-13", "UTC")
    for month in ("0001-01", "9999-12"):  # no instant before year 1 or after 9999 in every zone
        with pytest.raises(ValueError, match="outside the months"):
            month_bounds(month, "Asia/Shanghai")
    assert durations([]) == Durations(0, None, None)
    assert durations([HOURS, 3 * HOURS]) == Durations(2, 2 * HOURS, 2.8 * HOURS)


def test_the_month_in_progress_is_cut_off_now(runtime, october):
    current = voc_report(runtime, "2026-11", now=NOW)
    assert current.cutoff == NOW and current.total == 1  # N-0008
    assert current.by_status[0] == ("new", 1)


@pytest.mark.parametrize("caption", [
    "今年提出的 12 個需求中已交付 1 個",
    "至今提出的 123456 個需求中已交付 12345 個，含已合併與已發布的需求",
    "12,345 of the 123,456 needs raised so far delivered, merged ones included",
])
def test_the_delivered_ring_is_drawn_wide_enough_for_its_caption(caption):
    svg = share_gauge(0.5, caption)
    width = float(re.search(r'<svg [^>]*width="([0-9.]+)"', svg).group(1))
    caption_at = float(re.search(r'<text x="([0-9.]+)"[^>]*>[^<]*' + re.escape(caption[:4]), svg).group(1))

    assert caption_at == width / 2  # centred on the drawing, which is as wide as the caption at most drawn
    assert width >= text_width(caption, 12) + 20
    assert text_width("今年", 12) == 24 and text_width("12", 12) < 16
