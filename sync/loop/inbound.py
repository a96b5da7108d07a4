"""Inbound sync: the job a tracker webhook (or reconcile) queues once its delivery is stored in the inbox.

The payload is only a hint: the job reads the issue's current state, so repeated and out-of-order
deliveries end in the same state, and applies status, owner and urgency as configured, and marks the action
items whose issue was closed done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.base import IssueState
from plugin.errors import TrackerNotFound
from sync.ledger.edits import change_fields
from sync.ledger.store import ActionItem, Need, utcnow
from sync.loop.status import apply_issue_state
from sync.loop.thread import forward_customer_comments

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.jobs")


def linked_needs(session: Session, issue_key: str) -> list[Need]:
    """The needs whose tracker issue is ``issue_key``, oldest first (one issue can serve many customers' needs)."""
    return list(session.scalars(select(Need).where(Need.issue_key == issue_key).order_by(Need.id)))


def apply_issue_fields(runtime: Runtime, state: IssueState, actor: str | None = None) -> list[str]:
    """Assignee -> owner and priority/label -> urgency on the needs that created the issue, where the
    config asks for it, kept in each need's field history as the tracker's (``actor``: who changed the issue).
    What is taken over is recorded as synced, so it is not written back (no loop)."""
    settings = runtime.settings
    inbound = settings.sync.inbound
    tracker = settings.tracker.section
    people = runtime.people()
    changed = []
    with runtime.Session.begin() as session:
        for need in linked_needs(session, state.key):
            if need.linked_to:
                continue
            last = dict(need.synced_fields or {})
            values = {}
            if inbound.owner and state.assignee != last.get("assignee"):
                person = people.with_identity(tracker.person_field, state.assignee)
                if person is not None and person.name != need.owner:
                    values["owner"] = person.name
                    last["assignee"] = state.assignee
            if inbound.urgency:
                urgency = tracker.urgency_of(state, settings.urgencies)
                if urgency is not None and urgency.key != need.urgency:
                    values["urgency"] = urgency.key
                    last["priority"] = state.priority
                    last["labels"] = sorted(state.labels)
            fields = change_fields(session, need, values, source="tracker", actor=actor)
            changed += [f"{need.ref}.{name}" for name in fields]
            need.synced_fields = last
    return changed


def apply_action_items(runtime: Runtime, state: IssueState) -> list[str]:
    """Mark the action items whose issue is ``state`` done once it is closed (Jira: its status is in the
    ``done`` category, whatever it is called; GitHub: closed, for whatever reason), recorded as done by the
    tracker; a reopened issue takes back that mark, never one a person set. Returns the refs changed."""
    closed = state.status_category == "done"
    source = runtime.settings.tracker.kind
    changed = []
    with runtime.Session.begin() as session:
        for item in session.scalars(select(ActionItem).where(ActionItem.issue_key == state.key)):
            if closed and item.done_at is None:
                item.done_at, item.done_by, item.done_by_tracker = utcnow(), source, True
            elif not closed and item.done_by_tracker:
                item.done_at, item.done_by, item.done_by_tracker = None, None, False
            else:
                continue
            changed.append(item.ref)
    if changed:
        log.info("%s %s: action items %s %s", source, state.key, ", ".join(changed),
                 "done" if closed else "open again")
    return changed


def apply_state(runtime: Runtime, state: IssueState, actor: str) -> bool:
    """Apply an issue's current state to its needs as configured: owner and urgency, the status when
    ``sync.inbound.status`` is on, then the comments marked for customers; and to its action items (done when
    closed). Returns whether the status changed."""
    apply_action_items(runtime, state)
    apply_issue_fields(runtime, state, actor)
    changed = runtime.settings.sync.inbound.status and apply_issue_state(runtime, state, actor=actor)
    forward_customer_comments(runtime, state)
    return bool(changed)


def apply_issue_change(runtime: Runtime, source: str, issue_key: str) -> None:
    """A change to ``issue_key`` arrived from ``source`` (``github`` or ``jira``): apply the issue's current state."""
    with runtime.Session() as session:
        refs = [need.ref for need in linked_needs(session, issue_key)]
        refs += [f"A-{item_id}" for item_id in session.scalars(
            select(ActionItem.id).where(ActionItem.issue_key == issue_key).order_by(ActionItem.id))]
    if not refs:
        log.info("apply_issue_change: %s issue %s changed; no need or action item is linked to it", source,
                 issue_key)
        return
    tracker = runtime.settings.tracker
    if tracker is None or tracker.kind != source:
        log.warning("apply_issue_change: %s event for %s, but the configured tracker is %s",
                    source, issue_key, tracker.kind if tracker else "none")
        return
    try:
        state = runtime.adapter().get_issue(issue_key)
    except TrackerNotFound:
        log.warning("apply_issue_change: %s is gone or hidden from Cocreate; %s keep their status",
                    issue_key, ", ".join(refs))
        return
    apply_state(runtime, state, actor=source)
