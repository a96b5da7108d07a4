"""The regular meeting on the web: "new minutes" for a project (``/minutes/new?project=KEY``) starts from the
project's last meeting (``sync.projects.meetings.seed``): its attendees, its open questions, and the project's
unfinished action items, carried on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import flash
from flask_babel import ngettext
from sqlalchemy import select

from sync.ledger.project_tables import Project
from sync.ledger.store import MeetingMinutes, utcnow
from sync.projects.meetings import last_meeting, seed
from sync.projects.risk import meeting_overdue_since, next_meeting_due
from webhooks.context import runtime


def seeded(values: dict[str, str]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The new-minutes form's ``values`` with the project's last meeting put in, and its carried rows; a form
    of no project (or of an unknown one) is left as it is."""
    key = (values.get("project") or "").strip()
    if not key:
        return values, []
    with runtime().Session() as session:
        project = session.scalars(select(Project).where(Project.key == key)).one_or_none()
        if project is None:
            return values, []
        found = seed(session, project.id)
    values = dict(values) | {name: text for name, text in found.values.items() if text}
    values["customer"] = values.get("customer") or project.customer
    if found.last is not None:
        flash(ngettext("Started from the minutes of %(date)s (%(topic)s): their open questions, attendees and "
                       "%(num)d unfinished action item.",
                       "Started from the minutes of %(date)s (%(topic)s): their open questions, attendees and "
                       "%(num)d unfinished action items.", len(found.rows),
                       date=found.last.meeting_date.isoformat(), topic=found.last.topic), "info")
    return values, found.rows


@dataclass(frozen=True)
class MeetingState:
    """The project page's line on its regular meeting: the last one, when the next is due, whether it is late."""

    last: MeetingMinutes | None
    next_due: dt.date | None
    overdue: bool


def meeting_of(project: Project) -> MeetingState:
    """Where the project's regular meeting stands today (UTC), for its page."""
    today = utcnow().date()
    with runtime().Session() as session:
        last = last_meeting(session, project.id)
    last_date = last.meeting_date if last else None
    started = project.created_at.date()
    overdue = project.status != "closed" and meeting_overdue_since(project.cadence, last_date, started, today)
    return MeetingState(last, next_meeting_due(project.cadence, last_date, started), bool(overdue))
