"""SLA timers per urgency: states from the status history, overdue needs for the table, and exactly one
escalation notice per breach and recipient, written to the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from sync.ledger.store import Need, OutboxMessage
from sync.sla import (
    FIRST_RESPONSE,
    RESOLUTION,
    escalate_breaches,
    history_until,
    live_state,
    overdue_needs,
    timers,
)
from tests.table.sheets import add_need, at


def need_and_history(runtime, ref):
    with runtime.Session() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        return need, list(need.history)


def states(runtime, ref, now):
    need, history = need_and_history(runtime, ref)
    known = history_until(history, at(now))
    return {timer.sla: timer.state(at(now)) for timer in timers(runtime.settings, need, known)}


def test_timer_states_follow_the_history(runtime):
    # critical: first response 4 h, resolution 3 d
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs"), ("accepted", "10-01 02:00", "tracker"),
                                                ("done", "10-02 00:00", "tracker")], urgency="critical")
    add_need(runtime, "N-0002", "10-01 00:00", [("new", "10-01 00:00", "cs"), ("accepted", "10-01 06:00", "tracker")],
             urgency="critical")
    add_need(runtime, "N-0003", "10-01 00:00", [("done", "10-01 08:00", "import")], urgency="critical")
    add_need(runtime, "N-0004", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="low")

    assert states(runtime, "N-0001", "10-05 00:00") == {FIRST_RESPONSE: "met", RESOLUTION: "met"}
    assert states(runtime, "N-0002", "10-01 03:00") == {FIRST_RESPONSE: "running", RESOLUTION: "running"}
    assert states(runtime, "N-0002", "10-01 05:00") == {FIRST_RESPONSE: "overdue", RESOLUTION: "running"}
    assert states(runtime, "N-0002", "10-05 00:00") == {FIRST_RESPONSE: "breached", RESOLUTION: "overdue"}
    # A status set by an import has no known time: neither met nor breached.
    assert states(runtime, "N-0003", "10-05 00:00") == {FIRST_RESPONSE: "unknown", RESOLUTION: "unknown"}
    assert states(runtime, "N-0004", "12-01 00:00") == {}  # no targets for low


def test_live_state_marks_overdue_needs_for_the_table(runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical")
    add_need(runtime, "N-0002", "10-01 00:00", [("accepted", "10-01 01:00", "cs")], urgency="high")
    add_need(runtime, "N-0003", "10-01 00:00", [("done", "10-01 01:00", "cs")], urgency="critical")
    need, _history = need_and_history(runtime, "N-0001")

    early = live_state(runtime.settings, need, at("10-01 01:00"))
    assert (early.overdue, early.sla, early.css_class) == (False, FIRST_RESPONSE, "sla-running")
    late = live_state(runtime.settings, need, at("10-01 10:00"))
    assert (late.overdue, late.sla, late.due_at, late.late_by) == (
        True, FIRST_RESPONSE, at("10-01 04:00"), dt.timedelta(hours=6))
    assert late.css_class == "sla-overdue"

    overdue = overdue_needs(runtime, at("10-09 00:00"))
    assert [(need.ref, state.sla) for need, state in overdue] == [("N-0001", FIRST_RESPONSE), ("N-0002", RESOLUTION)]


def test_one_escalation_per_breach_to_owner_and_escalation_contact(runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical",
             issue_key="CS-1")
    add_need(runtime, "N-0002", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="high", owner="Chen Jie")
    add_need(runtime, "N-0003", "10-01 00:00", [("done", "10-01 08:00", "tracker")], urgency="critical")

    first = escalate_breaches(runtime, at("10-01 05:00"))
    again = escalate_breaches(runtime, at("10-01 06:00"))

    assert len(first) == 2 and again == []
    with runtime.Session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(row.kind, row.need_ref, row.channel, row.target, row.payload["recipient"]) for row in rows] == [
        ("escalation", "N-0001", "email", "wang.wei@example.com", "owner"),
        ("escalation", "N-0001", "email", "cs-lead@example.com", "escalation_contact"),
    ]
    notice = rows[0].payload["notice"]
    assert rows[0].issue_key == "CS-1" and notice["sla"] == FIRST_RESPONSE
    assert (notice["due_at"], notice["overdue_by"]) == ("2026-10-01T04:00:00+00:00", 3600)
    assert (notice["need_ref"], notice["urgency_label"], notice["status_label"], notice["owner_name"]) == (
        "N-0001", "Critical", "Received", "Wang Wei")
    assert notice["need_url"] == "http://localhost:8080/needs/N-0001" and notice["customer_name"] == "ACME Corp"
    assert runtime.queue.named("deliver_outbox") == [(row.id,) for row in rows]

    # Later the resolution target of N-0001 and both targets of N-0002 pass: each is told once more.
    later = escalate_breaches(runtime, at("10-09 00:00"))
    with runtime.Session() as session:
        told = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(later))).all()
    assert sorted((row.need_ref, row.payload["notice"]["sla"], row.target) for row in told) == [
        ("N-0001", RESOLUTION, "cs-lead@example.com"), ("N-0001", RESOLUTION, "wang.wei@example.com"),
        # Chen Jie has no e-mail in the people directory: only the escalation contact hears of N-0002.
        ("N-0002", FIRST_RESPONSE, "cs-lead@example.com"), ("N-0002", RESOLUTION, "cs-lead@example.com"),
    ]
    assert escalate_breaches(runtime, at("10-10 00:00")) == []


def test_breaches_older_than_the_need_in_cocreate_are_not_escalated(runtime):
    # Raised in September, imported in October: already late when Cocreate first saw it.
    add_need(runtime, "7", "09-01 00:00", [("new", "10-01 00:00", "import")], urgency="critical")

    assert escalate_breaches(runtime, at("10-02 00:00")) == []
    assert [need.ref for need, _state in overdue_needs(runtime, at("10-02 00:00"))] == ["7"]


def test_no_targets_no_timers(runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="medium")
    assert escalate_breaches(runtime, at("12-01 00:00")) == []
    assert overdue_needs(runtime, at("12-01 00:00")) == []


def test_an_escalation_row_is_what_the_outbox_sends(runtime):
    from sync.loop.outbox import build_notice
    from sync.notify import render

    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical",
             title="Invoices lack the tax number")
    [outbox_id] = escalate_breaches(runtime, at("10-01 05:00"))[:1]
    with runtime.Session() as session:
        row = session.get(OutboxMessage, outbox_id)

    message = render(build_notice(runtime, row, runtime.customers()))

    assert message.subject == "[SLA breach] N-0001 “Invoices lack the tax number” missed its first response target"
    assert "is 1 hour past its first response target (due 2026-10-01 04:00 UTC)" in message.text


def test_an_owner_typed_as_an_email_or_in_other_case_is_escalated_to(runtime):
    # The same person the issue is assigned to (by name or e-mail, ignoring case) hears of the breach.
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical",
             owner="WANG.WEI@example.com")
    add_need(runtime, "N-0002", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical", owner=" wang wei ")
    escalate_breaches(runtime, at("10-01 05:00"))
    with runtime.Session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.payload["recipient"].as_string() == "owner")
                               .order_by(OutboxMessage.id)).all()
    assert [(row.need_ref, row.target) for row in rows] == [
        ("N-0001", "wang.wei@example.com"), ("N-0002", "wang.wei@example.com")]
