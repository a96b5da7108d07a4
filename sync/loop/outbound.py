"""Outbound sync: make a need's tracker issue match the need, writing only what differs.

Level-triggered and safe to repeat. Creation is crash-safe: the intent is committed before the create
call, the issue carries a marker label, and any later try looks for the marker before creating, so a
crash or a duplicate job never makes a second issue. A short lease on the need row keeps two workers
from syncing the same need at once; the worker's heartbeat renews it, so a killed worker's lease runs out
within ``sync.jobs.queue.JOB_LEASE`` and the need's job, queued again, can take it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from sqlalchemy import select

from plugin.base import IssueState
from plugin.demand import format_score
from plugin.errors import TrackerError, TrackerInvalidField
from sync.jobs.leases import leased
from sync.ledger.store import Job, Need, utcnow
from sync.loop import demand as issue_demand
from sync.loop import mapping
from sync.loop.issues import RetryLater, create_issue_once
from sync.loop.links import MinutesLink, attachment_url, link_global_id, links_for_needs
from sync.loop.mapping import need_url

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.sync")

_REF = re.compile(r"^N-\d+$", re.I)

RESUME_STATES = ("pending", "waiting_for_tracker")
"""Needs whose sync never started: the process stopped between intake and the job, or no tracker was set."""
RESUME_CHUNK = 200
"""Needs one ``resume_syncs`` job syncs (with the bulk create) before it queues the next chunk."""


def sync_state_at_intake(runtime: Runtime) -> str:
    """A new or changed need's sync state: ``pending`` (its sync job follows) or, while no tracker is configured,
    ``waiting_for_tracker`` at once, so that no job is queued that could only record that. ``resume_syncs`` picks
    such needs up once a tracker is configured."""
    return "pending" if runtime.settings.tracker is not None else "waiting_for_tracker"


# Jobs --------------------------------------------------------------------------------------------


def sync_need(runtime: Runtime, ref: str) -> None:
    """Bring the tracker issue of need ``ref`` in line with the need (level-triggered, safe to repeat)."""
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is None:
            log.warning("sync_need: no need %s", ref)
            return
        if runtime.settings.tracker is None:
            need.sync_state = "waiting_for_tracker"
            need.sync_error = None
            need.synced_at = utcnow()
            return
    sync_need_to_tracker(runtime, ref)


def sync_needs(runtime: Runtime, refs: list[str]) -> None:
    """Sync many needs together (after an import): new issues are created in bulk where the tracker can."""
    if runtime.settings.tracker is None:
        for ref in refs:
            sync_need(runtime, ref)  # records "waiting for tracker"
        return
    outcomes = sync_needs_bulk(runtime, refs)
    failed = {ref: outcome for ref, outcome in outcomes.items() if outcome not in ("synced", "busy")}
    for ref, outcome in outcomes.items():
        if outcome == "busy":
            # Another worker syncs it now, perhaps from what it read before the change this job is for: the
            # need's own job syncs it again once that lease is let go (it waits, as for any busy need).
            log.info("sync_needs: %s busy elsewhere; queued on its own", ref)
            runtime.queue.enqueue("sync_need", ref, ref=ref)
    if failed:
        log.warning("sync_needs: %d of %d failed: %s", len(failed), len(refs), failed)


def sync_now(runtime: Runtime, ref: str) -> str:
    """Queue need ``ref``'s sync because a person asked (the need page's "sync now"); returns ``queued``,
    ``no_tracker`` (nothing could be done: the need waits for one) or ``already_queued`` (its ``sync_need`` job is
    queued or running: a second would do the same work). Raises LookupError for an unknown need."""
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is None:
            raise LookupError(ref)
        if runtime.settings.tracker is None:
            return "no_tracker"
        if session.scalar(select(Job.id).where(Job.ref == ref, Job.name == "sync_need",
                                               Job.state.in_(("queued", "running"))).limit(1)) is not None:
            return "already_queued"
        need.sync_state, need.sync_error = "pending", None
        job = runtime.queue.record(session, "sync_need", ref, ref=ref)
    runtime.queue.send(job)
    return "queued"


def queue_resume(runtime: Runtime) -> bool:
    """At start-up (``cocreate serve`` and ``cocreate worker``): queue the first ``resume_syncs`` job when a
    tracker is configured, a need waits and no ``resume_syncs`` job is queued or running already (two indexed
    queries, whatever the number of needs); True when queued.

    A chain in the ledger goes on by itself (a lost one is sent again by the heartbeat sweep), so a restart, or a
    worker starting beside the server, adds no second one working through the same needs."""
    if runtime.settings.tracker is None:
        return False
    with runtime.Session() as session:
        waiting = session.scalar(select(Need.id).where(Need.sync_state.in_(RESUME_STATES)).limit(1))
        resuming = session.scalar(select(Job.id).where(
            Job.state.in_(("queued", "running")), Job.name == "resume_syncs").limit(1))
    if waiting is None or resuming is not None:
        return False
    runtime.queue.enqueue("resume_syncs", 0)
    return True


def resume_syncs(runtime: Runtime, after_id: int = 0) -> None:
    """Sync the needs whose sync never started (:data:`RESUME_STATES`), :data:`RESUME_CHUNK` at a time in id
    order, beginning after ``after_id``. Each job queues the next chunk when it is done, so recovery after a
    restart takes one worker at a time and never delays live work or the start of the web server; with no
    tracker configured there is nothing to do."""
    if runtime.settings.tracker is None:
        return
    with runtime.Session() as session:
        rows = session.execute(select(Need.id, Need.ref).where(
            Need.sync_state.in_(RESUME_STATES), Need.id > after_id).order_by(Need.id).limit(RESUME_CHUNK)).all()
    if not rows:
        return
    log.info("resume_syncs: %d needs after id %d", len(rows), after_id)
    sync_needs(runtime, [row.ref for row in rows])
    if len(rows) == RESUME_CHUNK:
        runtime.queue.enqueue("resume_syncs", rows[-1].id)


def sync_need_to_tracker(runtime: Runtime, ref: str) -> None:
    """Sync one need; raises TrackerError (recorded on the need and the job) or RetryLater."""
    with leased(runtime, Need, Need.ref == ref) as owner:
        if owner is None:
            raise RetryLater(f"{ref} is being synced by another worker")
        try:
            _sync(runtime, ref)
        except TrackerError as exc:
            _record_failure(runtime, ref, exc)
            raise


def _record_failure(runtime: Runtime, ref: str, exc: TrackerError) -> None:
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        need.sync_state = "retrying" if exc.retryable else "failed"
        need.sync_error = str(exc)


def _view(runtime: Runtime, need: Need) -> mapping.NeedView:
    screenshots = ()
    if runtime.adapter().links_in_body:
        screenshots = tuple(mapping.Link(a.filename, attachment_url(runtime, a)) for a in need.attachments)
    return mapping.NeedView(
        ref=need.ref, category=need.category, title=need.title, description=need.description,
        urgency=need.urgency, reporter_name=need.reporter_name, reported_at=need.reported_at,
        customer=need.customer, owner=need.owner, remarks=need.remarks, stage=need.stage,
        url=need_url(runtime.settings, need.ref), screenshots=screenshots,
    )


def _sync(runtime: Runtime, ref: str) -> None:
    settings = runtime.settings
    adapter = runtime.adapter()
    with runtime.Session() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        if need.linked_to:
            _link_to_existing(runtime, session, need)
            return
        on_issue = issue_demand.needs_of_issue(session, need)  # the needs the issue serves, this one included
        asking = [mapping.Asking(other.ref, other.customer, other.urgency) for other in on_issue]
        minutes = _minutes_links(session, settings, need, on_issue)
        customers = runtime.customers()
        mapped = mapping.map_need(settings, _view(runtime, need), asking, [item.link for item in minutes],
                                  customers, runtime.people(), issue_demand.demand_of(settings, on_issue, customers))
        spec = mapped.spec
        created = False
        if need.issue_key is None:
            state, created = create_issue_once(session, adapter, need, spec)
            if not created:
                log.info("sync %s: found issue %s by its marker; not creating another", ref, state.key)
        else:
            state = adapter.get_issue(need.issue_key)
        _complete(runtime, session, need, mapped, state, created, minutes)


def _minutes_links(session, settings, need: Need,
                   on_issue: list[Need] | None = None) -> list[MinutesLink]:
    """Links to the minutes of every need the issue serves: the body lists them, Jira also gets remote links.
    ``on_issue``: those needs, when the caller has loaded them."""
    need_ids = [need.id]
    if need.issue_key:
        need_ids = ([other.id for other in on_issue] if on_issue is not None else
                    list(session.scalars(select(Need.id).where(Need.issue_key == need.issue_key))))
    return links_for_needs(session, settings, need_ids)


def _complete(runtime: Runtime, session, need: Need, mapped: mapping.MappedIssue, state: IssueState, created: bool,
              minutes: list[MinutesLink] = ()) -> None:
    """Write what differs (nothing right after a create), the links and attachments where the tracker takes
    them; record the sync."""
    settings = runtime.settings
    adapter = runtime.adapter()
    spec = mapped.spec
    last = dict(need.synced_fields or {})
    changes = {} if created else _changes(settings, spec, mapped.managed_labels, state, last)
    if not created:  # the demand field goes in the same edit as the body it is shown in
        changes.update(issue_demand.field_changes(settings, session, state.key, mapped.demand))
    if changes:
        adapter.update_issue(state.key, changes)
    if not adapter.links_in_body:
        url = need_url(settings, need.ref)
        if last.get("link") != url:
            adapter.set_link(state.key, link_global_id(settings, need.ref), url, f"{need.ref} · {spec.title}")
        for attachment in need.attachments:
            if attachment.tracker_id is None:
                data = (runtime.uploads / attachment.stored_name).read_bytes()
                attachment.tracker_id = adapter.add_attachment(
                    state.key, attachment.filename, data, attachment.content_type) or ""
                session.commit()
        last["link"] = url
        wanted = {item.global_id: [item.link.url, item.title] for item in minutes}
        written = last.get("minutes_links") or {}
        for global_id, (link_url, title) in wanted.items():
            if written.get(global_id) != [link_url, title]:
                adapter.set_link(state.key, global_id, link_url, title)
        for global_id in sorted(set(written) - set(wanted)):  # minutes unlinked since the last sync
            adapter.remove_link(state.key, global_id)
        last["minutes_links"] = wanted
    last.update(
        title=spec.title, body=mapping.fingerprint(spec.body), labels=sorted(spec.labels),
        priority=spec.priority, assignee=spec.assignee, assignee_note=mapped.assignment.note,
    )
    need.synced_fields = last
    issue_demand.record(session, state.key, mapped.demand, mapped.demand_label)
    need.sync_state, need.sync_error, need.synced_at = "synced", None, utcnow()
    session.commit()


def sync_needs_bulk(runtime: Runtime, refs: list[str]) -> dict[str, str]:
    """Sync many needs at once: those never synced are created together (Jira: 50 per bulk call), the
    rest one by one. Returns ref -> outcome (``synced``, ``busy`` or the error). Crash-safe like
    ``sync_need_to_tracker``: every intent is committed before the bulk call."""
    outcomes: dict[str, str] = {}
    with leased(runtime, Need, Need.ref.in_(refs)) as owner:
        mine: set[str] = set()
        if owner is not None:
            with runtime.Session() as session:
                mine = set(session.scalars(select(Need.ref).where(Need.ref.in_(refs),
                                                                  Need.sync_lease_owner == owner)))
        outcomes.update({ref: "busy" for ref in refs if ref not in mine})
        with runtime.Session() as session:
            fresh = session.scalars(select(Need).where(
                Need.ref.in_(mine), Need.issue_key.is_(None), Need.sync_intent_at.is_(None),
                Need.linked_to.is_(None)).order_by(Need.id)).all()
            minutes = [_minutes_links(session, runtime.settings, need) for need in fresh]
            customers, people = runtime.customers(), runtime.people()
            mapped = [_mapped_fresh(runtime, session, need, links, customers, people)
                      for need, links in zip(fresh, minutes, strict=True)]
            for need in fresh:
                need.sync_intent_at = utcnow()
            session.commit()  # every intent is durable before the bulk create
            if fresh:
                states = runtime.adapter().create_issues([item.spec for item in mapped])
                for need, state in zip(fresh, states, strict=True):
                    need.issue_key, need.issue_url = state.key, state.url
                session.commit()
                for need, item, state, links in zip(fresh, mapped, states, minutes, strict=True):
                    _complete(runtime, session, need, item, state, True, links)
                    outcomes[need.ref] = "synced"
        for ref in sorted(mine - set(outcomes)):
            try:
                _sync(runtime, ref)
                outcomes[ref] = "synced"
            except TrackerError as exc:
                _record_failure(runtime, ref, exc)
                outcomes[ref] = str(exc)
    return outcomes


def _mapped_fresh(runtime: Runtime, session, need: Need, minutes: list[MinutesLink], customers,
                  people) -> mapping.MappedIssue:
    """The issue a need never synced should get: with the customers of the needs linked to it already."""
    on_issue = issue_demand.needs_of_issue(session, need)
    asking = [mapping.Asking(other.ref, other.customer, other.urgency) for other in on_issue]
    return mapping.map_need(runtime.settings, _view(runtime, need), asking, [item.link for item in minutes],
                            customers, people, issue_demand.demand_of(runtime.settings, on_issue, customers))


def _changes(settings, spec, managed: frozenset[str], state: IssueState, last: dict) -> dict:
    """Fields whose desired value changed since Cocreate last wrote them and that the tracker lacks.

    A field CS did not change is left as R&D set it in the tracker: no tug of war.
    """
    changes: dict = {}
    if spec.title != last.get("title") and state.title != spec.title:
        changes["title"] = spec.title
    if mapping.fingerprint(spec.body) != last.get("body"):
        if settings.tracker.section.body_section:
            body = mapping.splice_github_section(state.body, spec.body)
            if body != (state.body or ""):
                changes["body"] = body
        else:
            changes["body"] = spec.body
    if sorted(spec.labels) != last.get("labels"):
        previous = frozenset(last.get("labels") or ())
        labels = mapping.merge_labels(state.labels, spec.labels, managed | previous)
        if not mapping.same_labels(labels, state.labels):
            changes["labels"] = labels
    if spec.priority != last.get("priority") and spec.priority and state.priority != spec.priority:
        changes["priority"] = spec.priority
    if spec.assignee != last.get("assignee") and state.assignee != spec.assignee:
        changes["assignee"] = spec.assignee
    return changes


def _link_to_existing(runtime: Runtime, session, need: Need) -> None:
    """Attach ``need`` to an existing issue (key, URL) or to another need's issue instead of creating one."""
    settings = runtime.settings
    adapter = runtime.adapter()
    target = need.linked_to.strip()
    primary: Need | None = None
    if _REF.match(target):
        primary = session.scalars(select(Need).where(Need.ref == target.upper())).one_or_none()
        if primary is None:
            raise TrackerInvalidField(f"linked need {target} does not exist")
        if primary.issue_key is None:
            raise RetryLater(f"{target} has no issue yet")
        key = primary.issue_key
    else:
        key = adapter.parse_issue_reference(target)
        if key is None:
            raise TrackerInvalidField(f"{target!r} is not an issue key or URL of this {settings.tracker.kind}")
    state = adapter.get_issue(key)
    if primary is None:  # the need that created the issue, found by the key typed or the tracker's own for it
        primary = session.scalars(select(Need).where(
            Need.issue_key.in_({key, state.key}), Need.linked_to.is_(None))).first()
    # From here on the issue goes by the name the needs already on it use, else by the tracker's own (the text
    # typed may differ from it in case), so that every need of the issue is found under one key.
    key = primary.issue_key if primary is not None else state.key
    need.issue_key, need.issue_url = key, primary.issue_url if primary is not None else state.url
    need.synced_fields = {**(need.synced_fields or {}), "linked_to": need.linked_to}
    need.sync_state, need.sync_error, need.synced_at = "synced", None, utcnow()
    session.commit()
    if primary is not None and primary.ref != need.ref:
        # The need that created the issue owns its body: re-sync it so the issue lists every customer.
        runtime.queue.enqueue("sync_need", primary.ref, ref=primary.ref)
        return
    minutes = _minutes_links(session, settings, need)
    on_issue = list(session.scalars(select(Need).where(Need.issue_key == key).order_by(Need.id)))
    demand = issue_demand.demand_of(settings, on_issue, runtime.customers())
    changes = issue_demand.field_changes(settings, session, key, demand)
    band = settings.demand.band(demand.score) if settings.tracker.section.demand_labels else None
    if band is not None:
        labels = mapping.merge_labels(state.labels, frozenset({band}), settings.demand.band_labels)
        if not mapping.same_labels(labels, state.labels):
            changes["labels"] = labels
    if not adapter.links_in_body:
        adapter.set_link(key, link_global_id(settings, need.ref), need_url(settings, need.ref),
                         f"{need.ref} · {need.customer} · {need.urgency}")
        for item in minutes:
            adapter.set_link(key, item.global_id, item.link.url, item.title)
    else:
        asking = [mapping.Asking(other.ref, other.customer, other.urgency) for other in on_issue]
        blocks = [mapping.Block("bullets", items=tuple(
            (mapping.Link(f"{a.ref} · {a.customer} · {a.urgency}", need_url(settings, a.ref)),) for a in asking))]
        if minutes:
            blocks += [mapping.Block("heading", text=mapping.label("minutes", settings.locale)),
                       mapping.Block("bullets", items=tuple((item.link,) for item in minutes))]
        blocks.append(mapping.Block("paragraph", inlines=(
            f"{mapping.label('demand', settings.locale)}: {format_score(demand.score)}",)))
        section = (f"{mapping.GITHUB_SECTION_START}\n### {mapping.label('asking', settings.locale)} "
                   f"({len(asking)})\n\n{mapping.render_markdown(blocks)}\n{mapping.GITHUB_SECTION_END}")
        body = mapping.splice_github_section(state.body, section)
        if body != (state.body or ""):
            changes["body"] = body
    if changes:  # body, band label and demand field in one edit
        adapter.update_issue(key, changes)
    issue_demand.record(session, key, demand, band)
    session.commit()
