"""A need's field history: changing fields so that every change is kept (who, when, field, old -> new).

Every writer of need fields (the CS edit, the JSON API, the table import, the tracker taking over owner and
urgency) goes through :func:`change_fields`, so the history is complete whoever changed what, and the need's
version moves on with each save that changed something.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.ledger.store import Need, NeedEdit, utcnow

SCREENSHOTS = "screenshots"
"""The field name of history rows that record a screenshot added (``new``) or removed (``old``)."""


def as_text(value: object) -> str | None:
    """A field's value as the history keeps it: times in UTC ISO 8601, empty text as None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def changed_fields(need: Need, values: Mapping[str, object]) -> list[str]:
    """The names among ``values`` whose value differs from the need's (compared as the history keeps them)."""
    return [name for name, value in values.items() if as_text(getattr(need, name)) != as_text(value)]


def change_fields(session: Session, need: Need, values: Mapping[str, object], *, source: str,
                  actor: str | None, at: dt.datetime | None = None,
                  screenshots: tuple[list[str], list[str]] = ([], [])) -> list[str]:
    """Set the fields of ``values`` that differ, record each in the field history and count a new version;
    ``screenshots`` names the files added and removed in the same save. Returns the changed field names.

    The rows are added to ``session`` rather than to ``need.edits``: appending to the relationship would load
    every earlier entry first, which a table import of many needs cannot afford."""
    changed = changed_fields(need, values)
    added, removed = screenshots
    if not changed and not added and not removed:
        return []
    at = at or utcnow()
    need.version = (need.version or 1) + 1
    rows = [NeedEdit(field=name, old=as_text(getattr(need, name)), new=as_text(values[name])) for name in changed]
    rows += [NeedEdit(field=SCREENSHOTS, old=None, new=name) for name in added]
    rows += [NeedEdit(field=SCREENSHOTS, old=name, new=None) for name in removed]
    for row in rows:
        row.need_id, row.version, row.source, row.actor, row.at = need.id, need.version, source, actor, at
    session.add_all(rows)
    for name in changed:
        setattr(need, name, values[name])
    return changed + ([SCREENSHOTS] if added or removed else [])


@dataclass(frozen=True)
class FieldChange:
    """One entry of the field history as plain values, usable once its session (perhaps rolled back) is gone."""

    field: str
    old: str | None
    new: str | None
    source: str
    actor: str | None
    at: dt.datetime


def edits_since(session: Session, need_id: int, version: int) -> list[FieldChange]:
    """The changes saved after ``version`` of the need, oldest first: what a stale editor has not seen."""
    rows = session.scalars(select(NeedEdit).where(NeedEdit.need_id == need_id, NeedEdit.version > version)
                           .order_by(NeedEdit.id))
    return [FieldChange(row.field, row.old, row.new, row.source, row.actor, row.at) for row in rows]
