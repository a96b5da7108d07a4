"""Delivered means shipped: a released Jira fixVersion or a published GitHub release is recorded on every need
whose issue it ships, and each of their customers is told once, naming the version and its date.

``apply_release`` is the job a ``jira:version_released`` or ``release`` webhook queues (and reconcile runs for
a lost one). The tracker is read again (the payload is a hint), the issues the release ships are matched with
the needs' stored issue links (so only issues Cocreate created or linked count), and for each need not yet
recorded with that version one ``need_releases`` row is written, with the customers' notices in the outbox,
in one transaction. A repeated delivery or reconcile finds the rows and writes nothing more; of two workers
applying the same release at once, the unique (need, version) pair lets one commit and the other retry into
a no-op.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from plugin.base import Release
from plugin.errors import TrackerNotFound
from sync.ledger.report_months import forget_kept_reports
from sync.ledger.store import Need, NeedRelease, Watermark, utcnow
from sync.loop.status import customer_rows

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.releases")

FIRST_LOOKBACK = dt.timedelta(days=7)
OVERLAP = dt.timedelta(days=1)
"""Jira keeps a release date without a time: look back a day further than the watermark."""


def watermark_source(runtime: Runtime) -> str:
    """The reconcile watermark of releases, beside the tracker's own (``jira-releases``, ``github-releases``)."""
    return f"{runtime.settings.tracker.kind}-releases"


def apply_release(runtime: Runtime, source: str, ref: str) -> int:
    """A version or release ``ref`` was released in ``source``: read it and record it on the needs it ships.
    Returns how many needs were newly recorded as shipped."""
    tracker = runtime.settings.tracker
    if tracker is None or tracker.kind != source:
        log.warning("apply_release: %s release %s, but the configured tracker is %s", source, ref,
                    tracker.kind if tracker else "none")
        return 0
    try:
        release = runtime.adapter().get_release(ref)
    except TrackerNotFound:
        log.warning("apply_release: %s release %s is gone or hidden from Cocreate", source, ref)
        return 0
    return record_release(runtime, release)


def record_release(runtime: Runtime, release: Release) -> int:
    """Record ``release`` on the needs whose issues it ships and queue their customers' notices."""
    if not release.released:
        log.info("release %s (%s) is not released yet: nothing shipped", release.ref, release.name)
        return 0
    shipped = {key.lower() for key in runtime.adapter().release_issues(release)}
    if not shipped:
        return 0
    customers = runtime.customers()
    try:
        refs, jobs = _record(runtime, release, shipped, customers)
    except IntegrityError:
        # Another worker recorded this release on these needs a moment ago, with their notices.
        log.info("release %s (%s): recorded meanwhile by another worker", release.ref, release.name)
        return 0
    runtime.queue.send(*jobs)
    if refs:
        log.info("release %s (%s) shipped %s", release.ref, release.name, ", ".join(refs))
    return len(refs)


def _record(runtime: Runtime, release: Release, shipped: set[str], customers) -> tuple[list[str], list]:
    """In one transaction: a ``need_releases`` row for each need ``release`` ships that has none for it yet, and
    the customers' notices; the refs recorded and the ``deliver_outbox`` jobs to send after the commit."""
    with runtime.Session.begin() as session:
        # Compared without case: GitHub's owner/repo is case-insensitive, and the config may spell it otherwise.
        needs = session.scalars(select(Need).where(func.lower(Need.issue_key).in_(sorted(shipped)))
                                .order_by(Need.id)).all()
        recorded = set(session.scalars(select(NeedRelease.need_id).where(
            NeedRelease.version_id == release.ref, NeedRelease.need_id.in_([need.id for need in needs]))))
        new = [need for need in needs if need.id not in recorded]
        session.add_all(NeedRelease(need_id=need.id, version_id=release.ref, version_name=release.name,
                                    released_on=release.released_on, issue_key=need.issue_key) for need in new)
        if new:  # the VOC report's shipped figures of closed months change
            forget_kept_reports(session)
        rows = []
        if new and runtime.settings.notifications.tells_on_release:
            # One notice per customer channel for all that customer's needs in this release; the first need's
            # ref keeps the key unique when the release is applied again with more needs later.
            for key in dict.fromkeys(need.customer for need in new):
                mine = [need for need in new if need.customer == key]
                rows += customer_rows(customers, mine[0].issue_key, mine, "release", f"{release.ref}:{mine[0].ref}",
                                      old=None, new=None, version=release.name,
                                      released_on=release.released_on.isoformat() if release.released_on else None)
            session.add_all(rows)
        session.flush()
        jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=row.need_ref) for row in rows]
        return [need.ref for need in new], jobs


def reconcile_releases(runtime: Runtime) -> dict:
    """Apply every release dated since the releases watermark, as its webhook would have; returns counts."""
    settings = runtime.settings
    if settings.tracker is None:
        return {"releases": 0, "shipped": 0}
    source = watermark_source(runtime)
    started = utcnow()
    with runtime.Session() as session:
        mark = session.get(Watermark, source)
        since = (mark.since - OVERLAP) if mark else started - FIRST_LOOKBACK
    projects = sorted({project for project in map(settings.tracker.section.project_for, settings.categories)
                       if project})
    found = runtime.adapter().released_since(projects, since) if projects else []
    shipped = sum(record_release(runtime, release) for release in found)
    try:
        _move_watermark(runtime, source, started)
    except IntegrityError:
        _move_watermark(runtime, source, started)  # another worker wrote the first watermark a moment ago
    log.info("reconcile %s: %d releases since %s, %d needs shipped", source, len(found), since, shipped)
    return {"releases": len(found), "shipped": shipped}


def _move_watermark(runtime: Runtime, source: str, started: dt.datetime) -> None:
    with runtime.Session.begin() as session:
        mark = session.get(Watermark, source) or Watermark(source=source, since=started)
        mark.since = started
        session.add(mark)
