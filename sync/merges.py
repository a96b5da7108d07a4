"""Merging one need into another, as a person confirmed it, and undoing that merge.

Merging need B into need A: B keeps its own customer, reporter, field history and thread, and is marked merged
into A (a ``need_merges`` row). When B's tracker issue is another than A's, that issue gets a comment and every
need on it moves to A's issue, taking A's customer-facing status; each moved need's issue link and status
before are kept in the merge, so an undo puts each back exactly. A's issue is synced again, so its customers
section lists everyone.

No customer is told twice: a customer that already has a need on A's issue was told its status already and is
not told again; every other customer whose need's status changes is told once, under a dedupe key of the
issue and the status (``merged:<issue>:<status>``), so merging, undoing and merging again never repeats a notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from plugin.catalogs import catalog
from plugin.need import N_
from sync.ledger.edits import change_fields
from sync.ledger.store import Need, NeedMerge, OutboxMessage, StatusChange, utcnow
from sync.loop.status import customer_rows
from sync.similar import merged

if TYPE_CHECKING:
    from sync.runtime import Runtime


class MergeRefused(ValueError):
    """A merge (or undo) that cannot be done as asked: ``message`` (a catalog message) says why, with ``params``."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


SAME_NEED = N_("A need cannot be merged into itself.")
ALREADY_MERGED = N_("%(ref)s is already merged into another need.")
INTO_WITHOUT_ISSUE = N_("%(into)s has no tracker issue yet, while %(ref)s has one: merge %(into)s into %(ref)s "
                        "instead.")
NOT_MERGED = N_("This merge was undone already.")
MOVED_SINCE = N_("%(ref)s has moved to another issue since the merge: it cannot be put back.")


def open_merge(session, need_id: int) -> NeedMerge | None:
    """The merge that made this need merged into another, if it is still in force."""
    return session.scalars(select(NeedMerge).where(NeedMerge.from_need_id == need_id,
                                                   NeedMerge.undone_at.is_(None))).first()


def merges_of(session, need_id: int) -> list[NeedMerge]:
    """Every merge this need took part in (either side), newest first, for its page."""
    return list(session.scalars(select(NeedMerge).where(
        (NeedMerge.from_need_id == need_id) | (NeedMerge.into_need_id == need_id)).order_by(NeedMerge.id.desc())))


def _need(session, ref: str) -> Need:
    need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
    if need is None:
        raise LookupError(ref)
    return need


def check_merge(session, from_ref: str, into_ref: str, *, lock: bool = False) -> tuple[Need, Need]:
    """The two needs of a merge of ``from_ref`` into ``into_ref``, or :class:`MergeRefused` saying why not
    (``LookupError`` for a need that does not exist); ``lock``: their rows locked until the transaction ends."""
    if lock:
        # Two people merging the same needs at once: on PostgreSQL the second waits, then finds one merged. In
        # the order of their ids, so that merging A into B and B into A at once cannot deadlock.
        session.execute(select(Need.id).where(Need.ref.in_([from_ref, into_ref])).order_by(Need.id)
                        .with_for_update())
    need, into = _need(session, from_ref), _need(session, into_ref)
    if need.id == into.id:
        raise MergeRefused(SAME_NEED)
    for other in (need, into):
        if session.scalar(select(merged()).where(Need.id == other.id)):
            raise MergeRefused(ALREADY_MERGED, ref=other.ref)
    if need.issue_key and not into.issue_key:
        raise MergeRefused(INTO_WITHOUT_ISSUE, ref=need.ref, into=into.ref)
    return need, into


def _comment(runtime: Runtime, issue_key: str, text: str, dedupe_key: str, ref: str) -> OutboxMessage:
    prefix = catalog(runtime.settings.locale).gettext("[Cocreate status sync]")
    return OutboxMessage(dedupe_key=dedupe_key, kind="comment", issue_key=issue_key, need_ref=ref,
                         channel="tracker", target=issue_key, payload={"text": f"{prefix} {text}"})


def _new_rows(session, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """``rows`` but those whose dedupe key the outbox holds already (that notice was given)."""
    keys = [row.dedupe_key for row in rows]
    known = set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))) \
        if keys else set()
    return [row for row in rows if row.dedupe_key not in known]


def merge_needs(runtime: Runtime, from_ref: str, into_ref: str, actor: str) -> NeedMerge:
    """Merge need ``from_ref`` into need ``into_ref`` (see the module's docstring), as ``actor`` confirmed.

    Raises :class:`MergeRefused` or ``LookupError``; in one transaction with its notices and comment."""
    settings, customers = runtime.settings, runtime.customers()
    words = catalog(settings.locale)
    with runtime.Session.begin() as session:
        need, into = check_merge(session, from_ref, into_ref, lock=True)
        from_key, into_key = need.issue_key, into.issue_key
        if from_key and from_key != into_key:
            moving = list(session.scalars(select(Need).where(Need.issue_key == from_key).order_by(Need.id)))
        else:
            moving = [need]
        told = {other.customer for other in session.scalars(
            select(Need).where(Need.issue_key == into_key, Need.status == into.status))} if into_key else set()
        merge = NeedMerge(from_need_id=need.id, into_need_id=into.id, from_issue_key=from_key,
                          into_issue_key=into_key, merged_by=actor, moved=[
                              {"ref": other.ref, "issue_key": other.issue_key, "issue_url": other.issue_url,
                               "linked_to": other.linked_to, "status": other.status, "sync_state": other.sync_state}
                              for other in moving])
        session.add(merge)
        note = words.gettext("merged into %(ref)s", ref=into.ref)
        now, to_tell = utcnow(), []
        for other in moving:
            change_fields(session, other, {"linked_to": into.ref}, source="cs", actor=actor, at=now)
            if into_key is None:
                other.sync_state = "pending"
                continue
            other.issue_key, other.issue_url, other.sync_state = into_key, into.issue_url, "synced"
            other.synced_fields = {**(other.synced_fields or {}), "linked_to": into.ref}
            if other.status != into.status:
                session.add(StatusChange(need_id=other.id, status=into.status, previous=other.status, source="cs",
                                         actor=actor, note=note, at=now))
                other.status, other.status_changed_at = into.status, now
                if other.customer not in told:
                    to_tell.append(other)
        session.flush()
        rows = customer_rows(customers, into_key, to_tell, "customer", f"merged:{into_key}:{into.status}",
                             old=None, new=into.status, issue_url=into.issue_url) if to_tell else []
        if from_key and from_key != into_key:
            rows.append(_comment(runtime, from_key, words.gettext(
                "%(ref)s was merged into %(into)s (%(issue)s) by %(actor)s; the needs of this issue now follow "
                "%(issue)s.", ref=need.ref, into=into.ref, issue=into_key, actor=actor),
                f"comment:{from_key}:merge:{merge.id}", need.ref))
        rows = _new_rows(session, rows)
        session.add_all(rows)
        session.flush()
        jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=row.need_ref) for row in rows]
        merge_id = merge.id
        resync = into.ref if into_key else need.ref
    runtime.queue.send(*jobs)
    runtime.queue.enqueue("sync_need", resync, ref=resync)
    with runtime.Session() as session:
        return session.get(NeedMerge, merge_id)


def undo_merge(runtime: Runtime, merge_id: int, actor: str) -> NeedMerge:
    """Put every need a merge moved back on its issue with its link and status before; the merged need is no
    longer merged. Customers are not told (their status page shows the status again); the issue the needs came
    from gets a comment. Raises :class:`MergeRefused` (undone already, or a need moved on since) or ``LookupError``."""
    words = catalog(runtime.settings.locale)
    with runtime.Session.begin() as session:
        merge = session.get(NeedMerge, merge_id, with_for_update=True)
        if merge is None:
            raise LookupError(merge_id)
        if merge.undone_at is not None:
            raise MergeRefused(NOT_MERGED)
        into = session.get(Need, merge.into_need_id)
        need = session.get(Need, merge.from_need_id)
        before = {item["ref"]: item for item in merge.moved}
        moved = list(session.scalars(select(Need).where(Need.ref.in_(before)).order_by(Need.id)))
        for other in moved:
            if other.issue_key != merge.into_issue_key or other.linked_to != into.ref:
                raise MergeRefused(MOVED_SINCE, ref=other.ref)
        now = utcnow()
        note = words.gettext("merge into %(ref)s undone", ref=into.ref)
        for other in moved:
            item = before[other.ref]
            change_fields(session, other, {"linked_to": item["linked_to"]}, source="cs", actor=actor, at=now)
            other.issue_key, other.issue_url = item["issue_key"], item["issue_url"]
            other.sync_state = item["sync_state"]
            other.synced_fields = {**(other.synced_fields or {}), "linked_to": item["linked_to"]}
            if other.status != item["status"]:
                session.add(StatusChange(need_id=other.id, status=item["status"], previous=other.status,
                                         source="cs", actor=actor, note=note, at=now))
                other.status, other.status_changed_at = item["status"], now
        merge.undone_by, merge.undone_at = actor, now
        rows = []
        if merge.from_issue_key and merge.from_issue_key != merge.into_issue_key:
            rows = _new_rows(session, [_comment(runtime, merge.from_issue_key, words.gettext(
                "The merge of %(ref)s into %(into)s was undone by %(actor)s; the needs of this issue follow it "
                "again.", ref=need.ref, into=into.ref, actor=actor),
                f"comment:{merge.from_issue_key}:unmerge:{merge.id}", need.ref)])
        session.add_all(rows)
        session.flush()
        jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=row.need_ref) for row in rows]
        resync = [into.ref] + [other.ref for other in moved if not other.linked_to][:1]
    runtime.queue.send(*jobs)
    for ref in dict.fromkeys(resync):
        runtime.queue.enqueue("sync_need", ref, ref=ref)
    with runtime.Session() as session:
        return session.get(NeedMerge, merge_id)
