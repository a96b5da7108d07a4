"""The regular meeting on the web: "new minutes" for a project (``/minutes/new?project=KEY``) starts from the
project's last meeting (``sync.projects.meetings.seed``): its attendees, its open questions, and the project's
unfinished action items, carried on."""

from __future__ import annotations

from flask import flash
from flask_babel import ngettext
from sqlalchemy import select

from sync.ledger.project_tables import Project
from sync.projects.meetings import seed
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
