"""Inbound sync: the job a tracker webhook queues once its delivery is stored in the inbox."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.jobs import job
from sync.store import Need

log = logging.getLogger("cocreate.jobs")


def linked_needs(session: Session, issue_key: str) -> list[Need]:
    """The needs whose tracker issue is ``issue_key``, oldest first (one issue can serve many customers' needs)."""
    return list(session.scalars(select(Need).where(Need.issue_key == issue_key).order_by(Need.id)))


@job
def apply_issue_change(runtime, source: str, issue_key: str) -> None:
    """A change to ``issue_key`` arrived from ``source`` (``github`` or ``jira``); find the needs it concerns."""
    with runtime.Session() as session:
        refs = [need.ref for need in linked_needs(session, issue_key)]
    if not refs:
        log.info("apply_issue_change: %s issue %s changed; no need is linked to it", source, issue_key)
        return
    log.info("apply_issue_change: %s issue %s changed; linked needs %s", source, issue_key, ", ".join(refs))
