"""The project page's figures at a glance and its risk flags in words: SLA breaches from the SLA targets, days to
go-live, criteria not met, late action items of the project's minutes, no go-live date."""

from __future__ import annotations

import datetime as dt

import pytest

from plugin.loading import parse_settings
from sync.ledger.projects import add_project, get_project, set_criterion_state, set_minutes_project, set_need_project
from sync.ledger.store import ActionItem, MeetingMinutes
from tests.factories import DEFAULT_YAML, file_need
from webhooks.project_view import summarise

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


SLA_YAML = DEFAULT_YAML + """urgencies:
  - {key: critical, name: {zh-Hans: 紧急, zh-Hant: 緊急, en: Critical}, sla: {first_response: 4h, resolution: 3d}}
  - {key: high, name: {zh-Hans: 高, zh-Hant: 高, en: High}}
  - {key: low, name: {zh-Hans: 低, zh-Hant: 低, en: Low}}
"""


@pytest.fixture
def settings():
    return parse_settings(SLA_YAML, "test.yaml")


def _summary(app, runtime, key="erp", now=NOW):
    with app.test_request_context(), runtime.Session() as session:
        return summarise(runtime.settings, session, get_project(session, key), now)


def test_breaches_days_and_flags(web_app, runtime):
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP", "go_live": "2026-12-11"},
                criteria=[{"what": "Invoices printed"}, {"what": "Login time"}, {"what": "Export"}])
    late = file_need(runtime, urgency="critical", reported_at="2026-11-20T09:30:00+00:00")
    calm = file_need(runtime, urgency="low")
    for need in (late, calm):
        set_need_project(runtime, need.ref, "erp")
    with runtime.Session.begin() as session:
        minutes = MeetingMinutes(customer="acme", topic="Weekly", meeting_date=dt.date(2026, 11, 24))
        minutes.action_items = [ActionItem(text="Send the sample", owner="Wang Wei", due_date=dt.date(2026, 11, 28))]
        session.add(minutes)
        session.flush()
        minutes_id = minutes.id
    set_minutes_project(runtime, minutes_id, "erp")
    with runtime.Session() as session:
        criteria = get_project(session, "erp").criteria
    set_criterion_state(runtime, "erp", criteria[0].id, "cs1", "met")
    set_criterion_state(runtime, "erp", criteria[1].id, "cs1", "not_met")

    summary = _summary(web_app, runtime)
    assert summary.days_to_go_live == 10
    assert [breach.need.ref for breach in summary.breaches] == [late.ref]
    assert [item.text for item in summary.open_action_items] == ["Send the sample"]
    assert [str(flag) for flag in summary.risk_flags] == [
        "Go-live in 10 days with 1 critical or high need open.",
        "10 days to go-live and 2 criteria are not met yet.",
        "1 criterion was found not met.",
        "Criterion “Login time” has no need behind it.",
        "Criterion “Export” has no need behind it.",
        "1 need is past its SLA target.",
        "1 action item is past its due date.",
    ]
    after = _summary(web_app, runtime, now=NOW + dt.timedelta(days=12))
    assert str(after.risk_flags[0]) == "Go-live was 2 days ago and 2 criteria are not met."


def test_far_from_go_live_only_a_criterion_without_need_is_flagged_and_no_date_says_so(web_app, runtime):
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP", "go_live": "2027-06-01"},
                criteria=[{"what": "Invoices printed"}])
    assert [str(flag) for flag in _summary(web_app, runtime).risk_flags] == [
        "Criterion “Invoices printed” has no need behind it."]
    add_project(runtime, {"key": "bi", "customer": "acme", "name": "BI"})
    summary = _summary(web_app, runtime, "bi")
    assert summary.days_to_go_live is None and [str(flag) for flag in summary.risk_flags] == ["No go-live date is set."]
