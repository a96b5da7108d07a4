"""Risk flags of a co-creation project: a table of dates and states, each row the flags (kinds) it must give,
and the sentences in English and zh-Hant with their numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from plugin.catalogs import catalog
from sync.projects.risk import (
    GO_LIVE_SOON_DAYS,
    MEETING_GRACE_DAYS,
    RiskInput,
    meeting_overdue_since,
    risk_flags,
)

TODAY = dt.date(2026, 6, 15)
START = dt.date(2026, 3, 1)


def facts(**changes) -> RiskInput:
    base = {"status": "building", "go_live": TODAY + dt.timedelta(days=60), "cadence": "weekly",
            "last_meeting": TODAY - dt.timedelta(days=2), "started": START}
    return RiskInput(**(base | changes))


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


CASES = [
    ("all well", facts(), []),
    ("go-live soon, critical needs open", facts(go_live=days(9), open_urgent=2), ["go_live_urgent_open"]),
    ("go-live soon, nothing urgent", facts(go_live=days(9)), []),
    ("go-live far, critical needs open", facts(go_live=days(GO_LIVE_SOON_DAYS + 1), open_urgent=3), []),
    ("go-live on the threshold", facts(go_live=days(GO_LIVE_SOON_DAYS), open_urgent=1), ["go_live_urgent_open"]),
    ("go-live today", facts(go_live=TODAY, open_urgent=1), ["go_live_urgent_open"]),
    ("go-live passed, not closed", facts(go_live=days(-3)), ["go_live_passed"]),
    ("go-live passed, closed", facts(go_live=days(-3), status="closed", cadence=None), []),
    ("criteria open near go-live", facts(go_live=days(5), criteria_states=["met", "open", "open"]),
     ["criteria_unmet"]),
    ("criteria open far from go-live", facts(criteria_states=["open", "open"]), []),
    ("criteria open after go-live", facts(go_live=days(-1), criteria_states=["open"]), ["criteria_unmet"]),
    ("criteria met after go-live, not closed", facts(go_live=days(-1), criteria_states=["met"]), ["go_live_passed"]),
    ("a criterion failed", facts(criteria_states=["not_met", "met"]), ["criteria_failed"]),
    ("weekly, last meeting within grace", facts(last_meeting=days(-7 - MEETING_GRACE_DAYS + 1)), []),
    ("weekly, last meeting past grace", facts(last_meeting=days(-21)), ["meeting_overdue"]),
    ("monthly, three weeks", facts(cadence="monthly", last_meeting=days(-21)), []),
    ("fortnightly, three weeks", facts(cadence="fortnightly", last_meeting=days(-21)), ["meeting_overdue"]),
    ("no cadence, long silence", facts(cadence=None, last_meeting=days(-90)), []),
    ("no meeting yet, started long ago", facts(last_meeting=None), ["meeting_overdue"]),
    ("no meeting yet, just started", facts(last_meeting=None, started=days(-2)), []),
    ("closed project, no meeting", facts(status="closed", last_meeting=days(-90)), []),
    ("criterion with no need", facts(criteria_without_need=["報表 3 秒內開啟"]), ["criterion_without_need"]),
    ("SLA breaches", facts(sla_breaches=2), ["sla_breaches"]),
    ("late action items", facts(late_action_items=1), ["action_items_late"]),
    ("no go-live date", facts(go_live=None), ["no_go_live"]),
    ("everything at once", facts(go_live=days(9), open_urgent=2, criteria_states=["not_met"], last_meeting=days(-21),
                                 criteria_without_need=["x"], sla_breaches=1, late_action_items=3),
     ["go_live_urgent_open", "criteria_unmet", "criteria_failed", "meeting_overdue", "criterion_without_need",
      "sla_breaches", "action_items_late"]),
]


@pytest.mark.parametrize(("name", "given", "kinds"), CASES, ids=[case[0] for case in CASES])
def test_flags_by_dates_and_states(name, given, kinds):
    assert [flag.kind for flag in risk_flags(given, TODAY, catalog("en"))] == kinds


SENTENCES = [
    (facts(go_live=days(9), open_urgent=2), "en", "Go-live in 9 days with 2 critical or high needs open."),
    (facts(go_live=days(1), open_urgent=1), "en", "Go-live in 1 day with 1 critical or high need open."),
    (facts(last_meeting=days(-21)), "en", "No meeting for 21 days although the cadence is weekly."),
    (facts(criteria_without_need=["Report opens in 3 s"]), "en", "Criterion “Report opens in 3 s” has no need behind it."),
    (facts(go_live=days(-3)), "en", "Go-live was 3 days ago and the project is not closed."),
    (facts(go_live=days(5), criteria_states=["open"]), "en", "5 days to go-live and 1 criteria are not met yet."),
    (facts(go_live=days(9), open_urgent=2), "zh_Hant", "距上線還有 9 天，仍有 2 筆緊急或高優先需求未完成。"),
    (facts(last_meeting=days(-21)), "zh_Hant", "已 21 天沒有開會，但會議頻率是每週。"),
    (facts(criteria_without_need=["報表 3 秒內開啟"]), "zh_Hant", "驗收標準「報表 3 秒內開啟」沒有對應的需求。"),
    (facts(last_meeting=days(-21)), "zh_Hans", "已 21 天没有开会，但会议频率是每周。"),
]


@pytest.mark.parametrize(("given", "locale", "sentence"), SENTENCES)
def test_sentences_carry_their_numbers(given, locale, sentence):
    assert sentence in [flag.text for flag in risk_flags(given, TODAY, catalog(locale))]


def test_meeting_overdue_since_is_due_date_plus_grace():
    last = dt.date(2026, 6, 1)
    assert meeting_overdue_since("weekly", last, START, dt.date(2026, 6, 10)) is None
    assert meeting_overdue_since("weekly", last, START, dt.date(2026, 6, 11)) == dt.date(2026, 6, 11)
    assert meeting_overdue_since(None, last, START, dt.date(2027, 1, 1)) is None
    assert meeting_overdue_since("bogus", last, START, dt.date(2027, 1, 1)) is None
