"""A need's thread: internal notes, replies to the customer, and R&D's comments for the customer.

Who reads a message is its ``kind``, decided once, when it is written: an ``internal`` note is stored and
nothing else (no outbox row, no comment, no notice); a ``customer`` reply and an ``rnd`` comment get one outbox
row per channel of the need's customer, in the same transaction, and show on the customer's status page. With
``sync.mirror_replies`` a reply is also posted on the need's issue, through the outbox like the status-sync
comments, so it is posted once whatever the retries.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from plugin.base import IssueState
from plugin.catalogs import catalog
from sync.ledger.store import Need, NeedMessage, OutboxMessage, utcnow
from sync.loop.status import comment_member, customer_rows

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.sync")

KINDS = ("internal", "customer", "rnd")
"""``internal``: CS only. ``customer``: CS's reply to the customer. ``rnd``: R&D's comment for the customer."""
WRITTEN_BY_CS = ("internal", "customer")
FOR_CUSTOMER = ("customer", "rnd")
"""The kinds a customer may read; everything that shows or sends a message to a customer selects these."""
BODY_MAX = 10_000
NOTICE_KINDS = ("reply", "forward")
"""Outbox kinds that carry a thread message to a customer (their payload's ``messages`` names it)."""


class InvalidMessage(ValueError):
    """A message CS wrote that cannot be kept: empty, too long, or of a kind CS does not write."""


def add_message(runtime: Runtime, ref: str, kind: str, body: str, author: str) -> NeedMessage:
    """Add CS's ``internal`` note or ``customer`` reply to the thread of need ``ref``.

    A reply is queued to every channel of the need's customer, in the customer's language, and (with
    ``sync.mirror_replies``, when the need has an issue) as a comment on the issue; a note is only stored.
    Raises :class:`InvalidMessage`, or ``LookupError`` when there is no need ``ref``.
    """
    if kind not in WRITTEN_BY_CS:
        raise InvalidMessage(f"kind must be one of {', '.join(WRITTEN_BY_CS)}, not {kind!r}")
    body = (body or "").strip()
    if not body:
        raise InvalidMessage("the message is empty")
    if len(body) > BODY_MAX:
        raise InvalidMessage(f"the message is longer than {BODY_MAX} characters")
    settings = runtime.settings
    customers = runtime.customers()
    jobs = []
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is None:
            raise LookupError(ref)
        message = NeedMessage(need_id=need.id, kind=kind, author=author, body=body, created_at=utcnow())
        session.add(message)
        session.flush()
        if kind == "customer":
            rows = customer_rows(customers, need.issue_key, [need], "reply", f"{ref}:{message.id}", old=None,
                                  new=None, comment=body, messages=[message.id])
            message.delivery_state = "sending" if rows else "no_channel"
            if settings.sync.mirror_replies and need.issue_key:
                rows.append(OutboxMessage(
                    dedupe_key=f"mirror:{message.id}", kind="comment", issue_key=need.issue_key, need_ref=ref,
                    channel="tracker", target=need.issue_key,
                    payload={"text": mirror_text(settings, ref, author, body), "message_id": message.id}))
            session.add_all(rows)
            session.flush()
            jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=ref) for row in rows]
    runtime.queue.send(*jobs)
    log.info("need %s: %s message %s by %s", ref, kind, message.id, author)
    return message


def mirror_text(settings, ref: str, author: str, body: str) -> str:
    """A reply to the customer as the issue shows it, in the configured language, marked as Cocreate's."""
    words = catalog(settings.locale)
    return words.gettext("[Cocreate reply to the customer] %(author)s wrote to the customer about %(ref)s:",
                         author=author, ref=ref) + "\n\n" + body


def thread(session, need_id: int, customer_view: bool = False) -> list[NeedMessage]:
    """The messages of a need, oldest first; ``customer_view`` keeps only those the customer may read."""
    query = select(NeedMessage).where(NeedMessage.need_id == need_id)
    if customer_view:
        query = query.where(NeedMessage.kind.in_(FOR_CUSTOMER))
    return list(session.scalars(query.order_by(NeedMessage.created_at, NeedMessage.id)))


def delivery_summary(states: list[str]) -> str:
    """One word for a message's notices: failed if any failed, sending while any is pending, else sent."""
    if not states:
        return "no_channel"
    if "failed" in states:
        return "failed"
    return "sending" if "pending" in states else "sent"


def record_delivery(session, row: OutboxMessage) -> None:
    """After ``row`` was sent or failed: bring the delivery state of the thread messages it carries up to date."""
    ids = row.payload.get("messages") if row.kind in NOTICE_KINDS else None
    if not ids:
        return
    siblings = session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == row.kind, OutboxMessage.need_ref == row.need_ref,
        OutboxMessage.customer == row.customer)).all()
    for message in session.scalars(select(NeedMessage).where(NeedMessage.id.in_(ids))):
        message.delivery_state = delivery_summary(
            [other.state for other in siblings if message.id in other.payload.get("messages", ())])


def record_mirror(session, row: OutboxMessage, comment_id: str) -> None:
    """A mirrored reply reached the issue as comment ``comment_id``: keep it on the message."""
    message = session.get(NeedMessage, row.payload.get("message_id"))
    if message is not None and message.tracker_comment_id is None:
        message.tracker_comment_id = comment_id


# R&D's comments for the customer --------------------------------------------------------------------


def _refuse(runtime: Runtime, state: IssueState, needs: list[Need], comments: list, prefix: str) -> None:
    """Record marked comments by non-members once each, as refused outbox rows (never delivered)."""
    rows = [OutboxMessage(
        dedupe_key=f"refused:{state.key}:{comment.id}", kind="forward", issue_key=state.key, need_ref=needs[0].ref,
        channel="tracker", target="", state="refused", reason="not_member",
        last_error=f"{comment.author or '?'} is not a member of the team",
        payload={"refs": [need.ref for need in needs], "comment": comment.text.lstrip()[len(prefix):].strip(),
                 "author": comment.author_name or comment.author}) for comment in comments]
    with runtime.Session.begin() as session:
        known = set(session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_([row.dedupe_key for row in rows]))))
        fresh = [row for row in rows if row.dedupe_key not in known]
        session.add_all(fresh)
    for row in fresh:
        log.warning("issue %s: comment %s marked for the customer is not forwarded: %s", state.key,
                    row.dedupe_key.rsplit(":", 1)[1], row.last_error)


def forward_customer_comments(runtime: Runtime, state: IssueState) -> int:
    """Record the issue's comments marked for the customer (``sync.customer_comment_prefix``) by a team member
    (:func:`sync.loop.status.comment_member`) in the thread of every need on the issue, and queue each to the
    needs' customers, once per comment and channel, naming who wrote it. Unmarked comments are internal and stay
    in the tracker; a marked comment by anyone else is never sent nor shown to the customer, and is recorded once
    as refused (outbox ``state`` ``refused``, ``reason`` ``not_member``) for CS to see on the need page. Returns
    how many notices were queued."""
    settings = runtime.settings
    prefix = settings.sync.customer_comment_prefix
    with runtime.Session() as session:
        needs = session.scalars(select(Need).where(Need.issue_key == state.key).order_by(Need.id)).all()
    if not needs:
        return 0
    adapter = runtime.adapter()
    own = adapter.whoami()
    marked = [comment for comment in adapter.list_comments(state.key)
              if comment.text.lstrip().startswith(prefix) and comment.author != own]
    members = {comment.id: comment_member(settings, comment) for comment in marked}
    refused = [comment for comment in marked if members[comment.id] is None]
    marked = [comment for comment in marked if members[comment.id] is not None]
    if refused:
        _refuse(runtime, state, needs, refused, prefix)
    if not marked:
        return 0
    customers = runtime.customers()
    with runtime.Session.begin() as session:
        known = set(session.execute(select(NeedMessage.need_id, NeedMessage.tracker_comment_id).where(
            NeedMessage.need_id.in_([need.id for need in needs]),
            NeedMessage.tracker_comment_id.in_([str(comment.id) for comment in marked]))).all())
        rows: list[OutboxMessage] = []
        for comment in marked:
            fresh = [need for need in needs if (need.id, str(comment.id)) not in known]
            if not fresh:
                continue
            text = comment.text.lstrip()[len(prefix):].strip()
            messages = {need.id: NeedMessage(
                need_id=need.id, kind="rnd", author=members[comment.id], body=text,
                created_at=comment.created_at or utcnow(), tracker_comment_id=str(comment.id)) for need in fresh}
            session.add_all(messages.values())
            session.flush()
            for row in customer_rows(customers, state.key, fresh, "forward", f"{state.key}:{comment.id}",
                                      old=None, new=None, comment=text, author=members[comment.id]):
                row.payload = {**row.payload, "messages": [
                    messages[need.id].id for need in fresh if need.customer == row.customer]}
                rows.append(row)
            for need in fresh:
                mine = [row for row in rows if messages[need.id].id in row.payload["messages"]]
                messages[need.id].delivery_state = "sending" if mine else "no_channel"
        if not rows:
            return 0
        # Comments forwarded before threads were kept have their outbox rows already: never sent twice.
        sent_before = {row.dedupe_key: row for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.in_([row.dedupe_key for row in rows])))}
        new_rows = [row for row in rows if row.dedupe_key not in sent_before]
        for row in rows:
            if row.dedupe_key in sent_before:
                for message_id in row.payload["messages"]:
                    session.get(NeedMessage, message_id).delivery_state = delivery_summary(
                        [sent_before[row.dedupe_key].state])
        session.add_all(new_rows)
        session.flush()
        jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=state.key) for row in new_rows]
    runtime.queue.send(*jobs)
    return len(jobs)
