"""Action items -> tracker issues, on request: created exactly once (``create_issue_once``), assigned to the
owner through the people directory, due date carried over, linked back to the minutes; and marked done by a
person (closing an item's issue marks it done as well: ``sync.loop.inbound.apply_action_items``)."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from sqlalchemy import (
    select,
)

from plugin.base import IssueSpec
from plugin.customer import CustomerBook
from plugin.errors import TrackerError
from plugin.people import PeopleBook
from plugin.settings import Settings
from sync.jobs.leases import leased
from sync.ledger.store import ActionItem, MeetingMinutes, utcnow
from sync.loop import mapping
from sync.loop.issues import RetryLater, create_issue_once
from sync.loop.links import minutes_link
from sync.minutes.files import label
from sync.minutes.records import load_minutes

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.minutes")


# Action items -> issues ---------------------------------------------------------------------------


def action_item_project(settings: Settings, minutes: MeetingMinutes) -> str:
    """Where an action item's issue goes: the project of the first linked need's category, else of the
    first configured category."""
    needs = [link.need for link in minutes.need_links]
    category = needs[0].category if needs else settings.categories[0].key
    return mapping.project_for(settings, category)


def action_item_spec(settings: Settings, item: ActionItem, minutes: MeetingMinutes,
                     project: str, customers: CustomerBook = CustomerBook(),
                     people: PeopleBook = PeopleBook()) -> mapping.MappedIssue:
    """The issue an action item should have. GitHub has no due-date field: the due date is a line of the
    body, and the issue joins a milestone due that day when the repository has one (set by the job);
    Jira gets it in ``duedate`` as well."""
    locale = settings.locale
    assignment = mapping.assignee_for(settings, people, item.owner)
    customer_name = customers.name(minutes.customer)
    link = minutes_link(settings, minutes)
    owner = item.owner + (f" ({assignment.note.split(': ', 1)[1]})" if assignment.note else "")
    rows: list[tuple[str, tuple[mapping.Inline, ...]]] = [
        (mapping.label("minutes", locale), (link.link,)),
        (mapping.label("customer", locale), (customer_name,)),
        (label("date", locale), (minutes.meeting_date.isoformat(),)),
        (label("owner", locale), (owner,)),
    ]
    if item.due_date:
        rows.append((label("due_date", locale), (item.due_date.isoformat(),)))
    needs = [link.need for link in minutes.need_links]
    if needs:
        inlines: list[mapping.Inline] = []
        for index, need in enumerate(needs):
            inlines += ([", "] if index else []) + [mapping.Link(need.ref, mapping.need_url(settings, need.ref))]
        rows.append((label("needs", locale), tuple(inlines)))
    blocks = [mapping.Block("paragraph", inlines=(item.text,)),
              mapping.Block("heading", text=label("action_item", locale) + " · Cocreate"),
              mapping.Block("fields", rows=tuple(rows))]
    first_line = item.text.strip().splitlines()[0] if item.text.strip() else item.ref
    spec = IssueSpec(
        project=project,
        title=f"[{customer_name}] {first_line}"[:250],
        body=mapping.issue_body(settings, blocks),
        marker=mapping.marker_label(item.ref),
        labels=frozenset({"cocreate", "cocreate-action-item", mapping.marker_label(item.ref)}),
        assignee=assignment.assignee,
        due_date=item.due_date,
        issue_type=settings.tracker.section.issue_type,
    )
    return mapping.MappedIssue(spec=spec, assignment=assignment)


def request_issues(runtime: Runtime, minutes_id: int, item_ids: list[int] | None = None) -> list[int]:
    """Queue issue creation for the action items ``item_ids`` of the minutes (all without an issue when
    None); returns the ids queued. Items that already have an issue are skipped; asking again for an item
    whose request is still pending is harmless (the job is idempotent) and recovers one whose worker died."""
    if runtime.settings.tracker is None:
        raise RuntimeError("no tracker is connected")
    with runtime.Session.begin() as session:
        query = select(ActionItem).where(ActionItem.minutes_id == minutes_id, ActionItem.issue_key.is_(None))
        if item_ids is not None:
            query = query.where(ActionItem.id.in_(item_ids))
        items = list(session.scalars(query.order_by(ActionItem.position)))
        for item in items:
            item.sync_state, item.sync_error = "pending", None
        queued = [item.id for item in items]
        jobs = [runtime.queue.record(session, "create_action_item_issue", item_id, ref=f"A-{item_id}")
                for item_id in queued]
    runtime.queue.send(*jobs)
    return queued


def create_action_item_issue(runtime: Runtime, item_id: int) -> None:
    """Create the tracker issue of action item ``item_id`` (once, whatever crashes or repeats happen) and
    link it back to its minutes."""

    with leased(runtime, ActionItem, ActionItem.id == item_id) as owner:
        if owner is None:
            with runtime.Session() as session:
                if session.get(ActionItem, item_id) is None:
                    log.warning("create_action_item_issue: no action item %s", item_id)
                    return
            raise RetryLater(f"A-{item_id} is being handled by another worker")
        try:
            _create_issue(runtime, item_id)
        except TrackerError as exc:
            with runtime.Session.begin() as session:
                item = session.get(ActionItem, item_id)
                item.sync_state = "retrying" if exc.retryable else "failed"
                item.sync_error = str(exc)
            raise


def _create_issue(runtime: Runtime, item_id: int) -> None:
    settings = runtime.settings
    with runtime.Session() as session:
        item = session.get(ActionItem, item_id)
        if settings.tracker is None:
            item.sync_state, item.sync_error = "failed", "no tracker is connected"
            session.commit()
            return
        adapter = runtime.adapter()
        minutes = load_minutes(session, item.minutes_id)
        if item.issue_key is None:
            project = item.issue_project or action_item_project(settings, minutes)

            def prepare(spec: IssueSpec) -> IssueSpec:
                if item.due_date is not None:  # GitHub: a milestone due that day, when one exists
                    spec = dataclasses.replace(spec, milestone=adapter.milestone_due(project, item.due_date))
                item.issue_project = project  # committed with the intent
                return spec

            spec = action_item_spec(settings, item, minutes, project, runtime.customers(),
                                    runtime.people()).spec
            state, created = create_issue_once(session, adapter, item, spec, prepare)
            if not created:
                log.info("action item %s: found issue %s by its marker; not creating another", item.ref, state.key)
        if not adapter.links_in_body:
            link = minutes_link(settings, minutes)
            adapter.set_link(item.issue_key, link.global_id, link.link.url, link.title)
        item.sync_state, item.sync_error, item.synced_at = "synced", None, utcnow()
        session.commit()



# Done ---------------------------------------------------------------------------------------------


def mark_done(runtime: Runtime, minutes_id: int, item_id: int, done: bool, actor: str) -> bool:
    """Mark action item ``item_id`` of the minutes done (or not done) as ``actor``, keeping who and when;
    returns False when it already was so. Raises LookupError when the minutes hold no such item."""
    with runtime.Session.begin() as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.minutes_id != minutes_id:
            raise LookupError(f"no action item {item_id} in minutes {minutes_id}")
        if (item.done_at is not None) == done:
            return False
        item.done_at, item.done_by = (utcnow(), actor) if done else (None, None)
        item.done_by_tracker = False
    return True
