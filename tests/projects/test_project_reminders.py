"""The overdue regular meeting: the project's lead is reminded by e-mail (a real aiosmtpd server) once per overdue
period, whatever the number of checks; a meeting held, a closed project or a lead without e-mail: no reminder."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.projects import add_project, edit_project
from sync.ledger.store import MeetingMinutes, OutboxMessage, utcnow
from sync.projects.reminders import (
    check_meetings,
    overdue_period,
    remind_overdue_meetings,
)
from sync.projects.risk import MEETING_GRACE_DAYS
from tests.factories import DEFAULT_YAML, migrated_runtime

TODAY = utcnow().date()


@pytest.fixture
def meetings(tmp_path, migrated_store, smtp_server):
    text = DEFAULT_YAML + (f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
                           "sender: 'Cocreate <cocreate@example.com>'}\n")
    runtime = migrated_runtime(parse_settings(text, "test.yaml"), tmp_path / "home", migrated_store)
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout", "cadence": "weekly",
                          "lead": "Wang Wei", "status": "building"})
    yield runtime
    runtime.close()


def hold_meeting(runtime, day: dt.date):
    from sync.ledger.project_tables import Project

    with runtime.Session.begin() as session:
        project_id = session.scalars(select(Project.id).where(Project.key == "erp")).one()
        session.add(MeetingMinutes(customer="acme", project_id=project_id, topic="Weekly", meeting_date=day))


def reminders(runtime):
    with runtime.Session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "meeting")
                               .order_by(OutboxMessage.id)).all()


def test_the_lead_is_reminded_once_per_overdue_period(meetings, smtp_server):
    hold_meeting(meetings, TODAY - dt.timedelta(days=21))
    assert len(remind_overdue_meetings(meetings, TODAY)) == 1
    assert remind_overdue_meetings(meetings, TODAY) == []  # a second check the same day
    assert remind_overdue_meetings(meetings, TODAY + dt.timedelta(days=2)) == []  # same period
    [row] = reminders(meetings)
    assert row.target == "wang.wei@example.com" and row.state == "sent"
    [mail] = smtp_server.messages
    assert mail.message["Subject"] == "[Cocreate] ERP rollout: the regular meeting is overdue"
    body = mail.message.get_body(("plain",)).get_content()
    assert "meets weekly, and its last meeting was on" in body and "21 days ago" in body
    assert "/minutes/new?project=erp&customer=acme" in body
    # Still no meeting a cadence later: a new period, a new reminder.
    assert len(remind_overdue_meetings(meetings, TODAY + dt.timedelta(days=7))) == 1
    assert len(smtp_server.messages) == 2


def test_no_reminder_while_the_meeting_is_not_overdue(meetings, smtp_server):
    hold_meeting(meetings, TODAY - dt.timedelta(days=7 + MEETING_GRACE_DAYS - 1))
    assert remind_overdue_meetings(meetings, TODAY) == []
    hold_meeting(meetings, TODAY - dt.timedelta(days=1))
    assert remind_overdue_meetings(meetings, TODAY + dt.timedelta(days=5)) == []
    assert smtp_server.messages == []


def test_a_project_without_meetings_counts_from_its_start(meetings, smtp_server):
    assert remind_overdue_meetings(meetings, TODAY + dt.timedelta(days=2)) == []
    assert len(remind_overdue_meetings(meetings, TODAY + dt.timedelta(days=7 + MEETING_GRACE_DAYS))) == 1
    assert "has had no meeting in the 10 days since it started" in (
        smtp_server.last.message.get_body(("plain",)).get_content())


@pytest.mark.parametrize("change", [{"status": "closed"}, {"cadence": ""}, {"lead": "Chen Jie"}])
def test_closed_projects_no_cadence_or_a_lead_without_email_get_none(meetings, smtp_server, change):
    edit_project(meetings, "erp", change)
    hold_meeting(meetings, TODAY - dt.timedelta(days=60))
    check_meetings(meetings)
    assert remind_overdue_meetings(meetings, TODAY) == [] and smtp_server.messages == []


def test_overdue_periods_step_by_the_cadence():
    since = dt.date(2026, 6, 1)
    assert overdue_period("weekly", since, since) == since
    assert overdue_period("weekly", since, dt.date(2026, 6, 7)) == since
    assert overdue_period("weekly", since, dt.date(2026, 6, 8)) == dt.date(2026, 6, 8)
    assert overdue_period("monthly", since, dt.date(2026, 7, 2)) == dt.date(2026, 7, 1)
