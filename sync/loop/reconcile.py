"""Reconcile: ask the tracker what changed since the last watermark and apply it like a webhook (and, when
customers hear of releases, what was released: ``sync.loop.releases``).

A lost or expired webhook therefore delays a status change by one reconcile period, never loses it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.ledger.store import ActionItem, Need, Watermark, utcnow
from sync.loop.inbound import apply_state
from sync.loop.releases import reconcile_releases

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.reconcile")

FIRST_LOOKBACK = dt.timedelta(days=7)
# Trackers keep "updated" at minute precision in JQL and index a little late: look back further.
OVERLAP = dt.timedelta(minutes=2)


def reconcile(runtime: Runtime) -> dict:
    """Apply every issue updated since the watermark that belongs to a need or an action item; returns counts."""
    settings = runtime.settings
    if settings.tracker is None:
        return {"checked": 0, "changed": 0}
    source = settings.tracker.kind
    started = utcnow()
    with runtime.Session() as session:
        mark = session.get(Watermark, source)
        since = (mark.since - OVERLAP) if mark else started - FIRST_LOOKBACK
    projects = sorted({project for project in map(settings.tracker.section.project_for, settings.categories)
                       if project})
    states = runtime.adapter().updated_since(projects, since)
    with runtime.Session() as session:
        keys = [s.key for s in states]
        known = set(session.scalars(select(Need.issue_key).where(Need.issue_key.in_(keys))))
        known |= set(session.scalars(select(ActionItem.issue_key).where(ActionItem.issue_key.in_(keys))))
    changed = 0
    for state in states:
        if state.key in known and apply_state(runtime, state, actor="reconcile"):
            changed += 1
    newest = max((s.updated_at for s in states if s.updated_at), default=None)
    try:
        _move_watermark(runtime, source, since, started, newest)
    except IntegrityError:
        # Every worker schedules a reconcile; another one wrote the first watermark a moment ago.
        _move_watermark(runtime, source, since, started, newest)
    log.info("reconcile %s: %d issues updated since %s, %d changed status", source, len(states), since, changed)
    result = {"checked": len(states), "changed": changed, "since": since.isoformat()}
    if settings.notifications.tells_on_release:
        # Only when customers hear of releases: the default (``done``) asks the tracker nothing more than before.
        result.update(reconcile_releases(runtime))
    return result


def _move_watermark(runtime: Runtime, source: str, since: dt.datetime, started: dt.datetime,
                    newest: dt.datetime | None) -> None:
    with runtime.Session.begin() as session:
        mark = session.get(Watermark, source) or Watermark(source=source, since=started)
        # Never move past the time this run started: an update during the run is seen next time.
        mark.since = min(newest, started) if newest else max(mark.since, since + OVERLAP)
        session.add(mark)
