"""The VOC report as the database computes it: the same figures as the definitions need by need (see
``report_data``), and edge cases by hand: an empty month, one need, an even count, needs without history,
other months, the time-zone boundary, microseconds, history written after the cut-off."""

from __future__ import annotations

import datetime as dt
import random
import statistics

import pytest

from sync.ledger.store import Need, StatusChange
from sync.report.figures import Durations, durations, order_statistics, voc_report
from sync.sla import FIRST_RESPONSE, RESOLUTION, overdue_needs
from tests.table.report_data import CASES, fill_needs, reference_overdue, reference_report
from tests.table.sheets import add_need, at

HOURS = dt.timedelta(hours=1)
NOW = at("12-15 00:00")


@pytest.mark.parametrize("count", [*range(1, 23), 99, 100, 1001])
def test_order_statistics_interpolate_as_statistics_does(count):
    rng = random.Random(count)
    values = [dt.timedelta(microseconds=rng.randrange(10**12)) for _ in range(count)]
    seconds = sorted(value.total_seconds() for value in values)
    p90 = seconds[0] if count == 1 else statistics.quantiles(seconds, n=10, method="inclusive")[8]
    expected = Durations(count, dt.timedelta(seconds=statistics.median(seconds)), dt.timedelta(seconds=p90))
    assert durations(values) == expected
    ordered = sorted(values)
    asked = set()

    def at_rank(rank):
        asked.add(rank)
        return ordered[rank]

    assert order_statistics(count, at_rank) == expected
    j = 9 * (count - 1) // 10
    assert asked <= {(count - 1) // 2, count // 2, j, j + 1}


def test_the_figures_are_those_of_the_definitions_need_by_need(runtime):
    fill_needs(runtime)
    for month, zone, now in CASES:
        assert voc_report(runtime, month, timezone=zone, now=now) == reference_report(
            runtime, month, timezone=zone, now=now), (month, zone, now)


def test_overdue_needs_are_those_past_a_target_need_by_need(runtime):
    fill_needs(runtime)
    for now in (at("10-01 00:00"), at("12-20 12:00"), at("2027-02-01 00:00")):
        assert [(need.ref, state) for need, state in overdue_needs(runtime, now)] == reference_overdue(runtime, now)


def test_an_empty_month(runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical", issue_key="CS-1")
    report = voc_report(runtime, "2026-09", now=NOW)
    assert (report.total, report.delivered_share, report.breaches, report.top_issues) == (0, None, (), ())
    assert report.by_status[0] == ("new", 0) and (report.all_needs, report.north_star) == (0, None)
    assert dict(report.to_acceptance)["critical"] == Durations(0, None, None)


def test_one_need(runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs"), ("accepted", "10-01 03:00", "cs"),
                                                ("done", "10-03 00:00", "tracker")], urgency="critical")
    report = voc_report(runtime, "2026-10", now=NOW)
    assert (report.total, report.delivered, report.all_delivered) == (1, 1, 1)
    assert dict(report.to_acceptance)["critical"] == Durations(1, 3 * HOURS, 3 * HOURS)
    assert dict(report.to_resolution)["critical"] == Durations(1, 48 * HOURS, 48 * HOURS)
    assert report.breaches == ()


def test_an_even_count_takes_the_mean_of_the_middle_two(runtime):
    for number, hours in enumerate((1, 2, 4, 10), start=1):
        add_need(runtime, f"N-000{number}", "10-01 00:00",
                 [("new", "10-01 00:00", "cs"), ("accepted", f"10-01 {hours:02d}:00", "tracker")], urgency="low")
    # 1, 2, 4, 10 h: median (2 + 4) / 2; p90 at rank 0.9 * 3 = 2.7: 4 + 0.7 * (10 - 4) = 8.2 h
    assert dict(voc_report(runtime, "2026-10", now=NOW).to_acceptance)["low"] == Durations(4, 3 * HOURS, 8.2 * HOURS)


def test_needs_without_history_count_by_their_status_and_are_never_timed(runtime):
    with runtime.Session.begin() as session:
        session.add(Need(ref="N-0001", category="billing", title="Old", description="", urgency="critical",
                         reporter_name="Li Na", reported_at=at("10-05 00:00"), status="done", customer="acme"))
    report = voc_report(runtime, "2026-10", now=NOW)
    assert (report.total, report.delivered, report.all_delivered) == (1, 1, 1)
    assert dict(report.by_status)["done"] == 1 and dict(report.to_resolution)["critical"].count == 0
    # Without history its timers never stopped: both are breaches, still open.
    assert [(breach.sla, breach.late_by, breach.still_open) for breach in report.breaches] == [
        (FIRST_RESPONSE, 27 * 24 * HOURS - 4 * HOURS, True), (RESOLUTION, 24 * 24 * HOURS, True)]


def test_needs_of_other_months_are_left_out_of_the_months_figures(runtime):
    add_need(runtime, "N-0001", "09-30 23:59", [("new", "09-30 23:59", "cs")], urgency="low", issue_key="CS-1")
    add_need(runtime, "N-0002", "10-15 00:00", [("new", "10-15 00:00", "cs")], urgency="low", issue_key="CS-1")
    add_need(runtime, "N-0003", "11-01 00:00", [("new", "11-01 00:00", "cs")], urgency="low", issue_key="CS-1")
    report = voc_report(runtime, "2026-10", now=NOW)
    assert (report.total, report.all_needs) == (1, 2)  # N-0003 came after the cut-off
    assert [(issue.needs, issue.new_in_month) for issue in report.top_issues] == [(2, 1)]


def test_the_month_is_the_reports_time_zone_s(runtime):
    # 2026-10-31 16:30 UTC is 2026-11-01 00:30 in Shanghai; 2026-10-01 00:30 UTC still 09-30 in Los Angeles.
    add_need(runtime, "N-0001", "10-31 16:30", [("new", "10-31 16:30", "cs")], urgency="low")
    add_need(runtime, "N-0002", "10-01 00:30", [("new", "10-01 00:30", "cs")], urgency="low")
    assert voc_report(runtime, "2026-10", timezone="UTC", now=NOW).total == 2
    assert voc_report(runtime, "2026-10", timezone="Asia/Shanghai", now=NOW).total == 1
    assert voc_report(runtime, "2026-11", timezone="Asia/Shanghai", now=NOW).total == 1
    assert voc_report(runtime, "2026-09", timezone="America/Los_Angeles", now=NOW).total == 1


def test_durations_keep_their_microseconds(runtime):
    reported = dt.datetime(2026, 10, 1, 0, 0, 0, 999_999, tzinfo=dt.UTC)
    with runtime.Session.begin() as session:
        need = Need(ref="N-0001", category="billing", title="Exact", description="", urgency="high",
                    reporter_name="Li Na", reported_at=reported, status="accepted", customer="acme")
        accepted = reported + dt.timedelta(hours=1, microseconds=2)  # SQLite's date functions would round both
        need.history = [StatusChange(status="new", source="cs", at=reported),
                        StatusChange(status="accepted", source="cs", at=accepted)]
        session.add(need)
    stats = dict(voc_report(runtime, "2026-10", now=NOW).to_acceptance)["high"]
    assert stats.median == stats.p90 == dt.timedelta(hours=1, microseconds=2)


def test_the_status_at_the_cut_off_comes_from_history_written_since(runtime):
    # Done in November: at October's cut-off it was accepted, and its resolution timer still running.
    add_need(runtime, "N-0001", "10-20 00:00", [("new", "10-20 00:00", "cs"), ("accepted", "10-20 01:00", "cs"),
                                                ("done", "11-02 00:00", "tracker")], urgency="critical")
    # Raised in October, first seen by Cocreate in November (an old sheet): its first entry stands.
    add_need(runtime, "N-0002", "10-20 00:00", [("done", "11-10 00:00", "import")], urgency="low")
    report = voc_report(runtime, "2026-10", now=NOW)
    assert (dict(report.by_status)["accepted"], dict(report.by_status)["done"]) == (1, 1)
    assert (report.delivered, report.all_delivered) == (1, 1)
    assert dict(report.to_resolution)["critical"].count == 0
    assert [(breach.ref, breach.sla, breach.still_open) for breach in report.breaches] == [
        ("N-0001", RESOLUTION, True)]
