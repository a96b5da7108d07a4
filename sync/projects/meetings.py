"""The regular meeting of a co-creation project: new minutes that start from the last meeting, and action items
carried on from one meeting to the next.

"New minutes" for a project (:func:`seed`) starts with the last meeting's attendees and open questions, and with
the project's unfinished action items as rows, each naming the item it carries on (``carried``). Saved, a
carried row becomes an action item of the new minutes with ``carried_from_id`` set and the original's issue
(:func:`carry`): an item that already has an issue keeps it, and asking for issues creates none for it. The
original stays on its minutes as it was; once carried on it is no longer counted as open (:func:`unfinished`),
so the next meeting carries the newer row only. Checking a carried row (:func:`check_carried`): the item exists,
is of minutes of the same customer, is not done, and its due date is not moved into the past.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, selectinload

from plugin.need import N_, FieldError
from sync.ledger.projects import open_action_items
from sync.ledger.store import ActionItem, MeetingMinutes


def last_meeting(session: Session, project_id: int) -> MeetingMinutes | None:
    """The project's newest meeting (by date, then by when the minutes were written)."""
    return session.scalars(select(MeetingMinutes).where(MeetingMinutes.project_id == project_id)
                           .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc()).limit(1)).first()


def unfinished(session: Session, project_id: int) -> list[ActionItem]:
    """Action items of the project's minutes not done and not carried on into later minutes (by link, or typed
    again with the same text and owner: ``sync.ledger.projects.open_action_items``), earliest due first (no due
    date last), each with its minutes loaded."""
    later = aliased(ActionItem)
    carried_on = set(session.scalars(select(ActionItem.id).join(later, later.carried_from_id == ActionItem.id)
                                     .join(MeetingMinutes, MeetingMinutes.id == ActionItem.minutes_id)
                                     .where(MeetingMinutes.project_id == project_id)))
    return [item for item in open_action_items(session, project_id) if item.id not in carried_on]


@dataclass
class Seed:
    """What "new minutes" for a project starts with: form values and action-item rows."""

    values: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    last: MeetingMinutes | None = None


def seed(session: Session, project_id: int) -> Seed:
    """The last meeting's attendees and open questions, and the unfinished action items as carried rows."""
    last = last_meeting(session, project_id)
    result = Seed(last=last)
    if last is not None:
        result.values = {"attendees": "\n".join(last.attendees or []), "open_questions": last.open_questions or ""}
    result.rows = [{"carried": str(item.id), "text": item.text, "owner": item.owner,
                    "due_date": item.due_date.isoformat() if item.due_date else "",
                    "carried_issue": item.issue_key or ""}
                   for item in unfinished(session, project_id)]
    return result


def carried_id(value) -> int | None:
    """A row's ``carried`` field as an item id (None: not carried; -1: not a number)."""
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else -1


def check_carried(session: Session, items: Sequence, customer: str, today: dt.date,
                  errors: list[FieldError]) -> None:
    """Check the carried rows among ``items`` (``ActionItemInput`` s, numbered from 1 as in the form)."""
    wanted = {item.carried_from for item in items if item.carried_from is not None}
    if not wanted:
        return
    found = {item.id: item for item in session.scalars(
        select(ActionItem).where(ActionItem.id.in_(wanted)).options(selectinload(ActionItem.minutes)))}
    seen: set[int] = set()
    for number, item in enumerate(items, start=1):
        if item.carried_from is None:
            continue
        prefix = f"action_items.{number}"
        original = found.get(item.carried_from)
        if original is None or original.minutes.customer != customer:
            errors.append(FieldError(prefix, N_("The action item this row carries on is not one of this "
                                                "customer's.")))
            continue
        if original.done_at is not None:
            errors.append(FieldError(prefix, N_("%(ref)s is done already: there is nothing to carry on."),
                                     {"ref": original.ref}))
        if item.carried_from in seen:
            errors.append(FieldError(prefix, N_("%(ref)s is carried on twice."), {"ref": original.ref}))
        seen.add(item.carried_from)
        if item.due_date is not None and item.due_date < today and item.due_date != original.due_date:
            errors.append(FieldError(f"{prefix}.due_date", N_("%(value)s is in the past."),
                                     {"value": item.due_date.isoformat()}))


def carry(session: Session, item: ActionItem, carried_from: int | None) -> None:
    """Make the new ``item`` carry on the action item ``carried_from``: linked to it, and with its issue."""
    if carried_from is None:
        return
    original = session.get(ActionItem, carried_from)
    item.carried_from_id = carried_from
    if original is not None and original.issue_key:
        item.issue_project, item.issue_key, item.issue_url = (original.issue_project, original.issue_key,
                                                              original.issue_url)
        item.sync_state, item.synced_at = "synced", original.synced_at
