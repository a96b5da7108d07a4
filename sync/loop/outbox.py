"""Deliver the outbox: status-sync comments to the tracker, notices to customers and owners.

Each row is sent at most once in the normal course: a sent row is never sent again, and a comment whose
earlier try may have reached the tracker is looked for before posting again. Failures stay in the row
(``state``, ``attempts``, ``last_error``) for the admin; retryable ones are retried by the job queue.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.ledger.customers import status_page_url
from sync.ledger.store import OutboxMessage, utcnow
from sync.loop.mapping import need_url
from sync.loop.status import status_name
from sync.loop.thread import record_delivery, record_mirror
from sync.notify import (
    ChannelError,
    EscalationNotice,
    MeetingReminder,
    OwnerNotice,
    PageNotice,
    ReleaseNotice,
    StatusNotice,
    channel_for,
    render,
)
from sync.projects.paging import page_channel

if TYPE_CHECKING:
    from plugin.customer import CustomerBook
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.notify")


def comment_tag(outbox_id: int) -> str:
    """The tag that makes a status-sync comment findable after a crash (and says where it came from)."""
    return f"(Cocreate #{outbox_id})"


def _email_channel(address: str):
    """A channel description for a single e-mail address (owners and escalation contacts)."""
    from plugin.settings import Channel

    return Channel(kind="email", to=[address])


def build_notice(runtime: Runtime, row: OutboxMessage, customers: CustomerBook):
    """The notice a customer, owner or escalation row stands for, in its reader's language."""
    settings = runtime.settings
    payload = row.payload
    if row.kind in ("customer", "forward", "reply"):
        customer = customers.get(row.customer)
        locale = customer.locale
        return StatusNotice(
            customer_name=customer.name, locale=locale, need_ref=", ".join(payload["refs"]),
            need_title=" / ".join(payload["titles"]),
            old_status_label=status_name(settings, payload.get("old"), locale) if payload.get("old") else None,
            new_status_label=status_name(settings, payload["new"], locale),
            status_page_url=status_page_url(runtime, customer.key),
            comment_for_customer=payload.get("comment"), comment_author=payload.get("author"),
            event_key=row.dedupe_key,
        )
    if row.kind == "release":
        customer = customers.get(row.customer)
        return ReleaseNotice(
            customer_name=customer.name, locale=customer.locale, need_ref=", ".join(payload["refs"]),
            need_title=" / ".join(payload["titles"]), version=payload["version"],
            released_on=payload.get("released_on"), status_page_url=status_page_url(runtime, customer.key),
            event_key=row.dedupe_key,
        )
    if row.kind == "owner":
        locale = settings.locale
        return OwnerNotice(
            owner_name=payload["owner"], locale=locale, customer_name=payload.get("customer_name", ""),
            need_ref=", ".join(payload["refs"]), need_title=" / ".join(payload["titles"]),
            old_status_label=status_name(settings, payload.get("old"), locale) if payload.get("old") else None,
            new_status_label=status_name(settings, payload["new"], locale),
            need_url=need_url(settings, payload["refs"][0]),
            issue_url=payload.get("issue_url"), customers_notified=tuple(payload.get("told", ())),
            event_key=row.dedupe_key,
        )
    if row.kind == "escalation":
        return EscalationNotice(**{**payload["notice"], "event_key": row.dedupe_key})
    if row.kind == "page":
        return PageNotice(**{**payload["notice"], "event_key": row.dedupe_key})
    if row.kind == "meeting":
        return MeetingReminder(**{**payload["notice"], "event_key": row.dedupe_key})
    raise ValueError(f"outbox row {row.id} has unknown kind {row.kind!r}")


def _channel_for_row(row: OutboxMessage, customers: CustomerBook):
    """The channel a row goes out on, as the customer's record has it now: a channel changed since the row was
    queued is used as changed; one removed since (or changed to another kind) is an error, not a guess."""
    if row.kind in ("customer", "forward", "reply", "release"):
        customer = customers.get(row.customer)
        channels = customer.channels if customer else ()
        index = int(row.target)
        if index >= len(channels) or channels[index].kind != row.channel:
            raise ChannelError(f"customer {row.customer} no longer has {row.channel} channel {index + 1}")
        return channels[index]
    return _email_channel(row.target)


def deliver_outbox(runtime: Runtime, outbox_id: int) -> None:
    """Send one outbox row (comment or notice); a sent row is left alone."""
    with runtime.Session.begin() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is None or row.state == "sent":
            return
        row.attempts += 1
        session.flush()  # an expunged row's changes are never flushed: ``attempts`` must reach the database
        session.expunge(row)
    try:
        if row.kind == "comment":
            _post_comment(runtime, row)
        else:
            book = runtime.customers()  # one book for the channel and the notice
            if row.kind == "page":  # an emergency contact of a project, as the project has it now
                with runtime.Session() as session:
                    settings = page_channel(session, row)
            else:
                settings = _channel_for_row(row, book)
            channel = channel_for(settings, runtime.settings.notifications.smtp)
            channel.send(render(build_notice(runtime, row, book)))
    except Exception as exc:  # a ChannelError's text is kept as is, any other error's is prefixed with its type
        error = str(exc) if isinstance(exc, ChannelError) else f"{type(exc).__name__}: {exc}"
        _finish(runtime, outbox_id, "pending" if getattr(exc, "retryable", False) else "failed", error)
        raise
    _finish(runtime, outbox_id, "sent", None)


def _post_comment(runtime: Runtime, row: OutboxMessage) -> None:
    adapter = runtime.adapter()
    tag = comment_tag(row.id)
    if row.attempts > 1 and any(tag in comment.text for comment in adapter.list_comments(row.issue_key)):
        log.info("outbox %s: comment already on %s from an earlier try", row.id, row.issue_key)
        return
    comment = adapter.add_comment(row.issue_key, f"{row.payload['text']}\n{tag}")
    if "message_id" in row.payload:
        with runtime.Session.begin() as session:
            record_mirror(session, row, str(comment.id))


def _finish(runtime: Runtime, outbox_id: int, state: str, error: str | None) -> None:
    with runtime.Session.begin() as session:
        row = session.get(OutboxMessage, outbox_id)
        row.state, row.last_error = state, error
        if state == "sent":
            row.sent_at = utcnow()
        session.flush()
        record_delivery(session, row)


def queue_new_rows(runtime: Runtime, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Write each of ``rows`` whose dedupe key no row holds yet, each in a transaction of its own with its
    ``deliver_outbox`` job, and send the jobs; returns the rows written. A periodic check (SLA escalation,
    meeting reminders) calls it: one running at the same time may write a row first, and that row is skipped."""
    if not rows:
        return []
    with runtime.Session() as session:
        known = set(session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_([row.dedupe_key for row in rows]))))
    written = []
    for row in rows:
        if row.dedupe_key in known:
            continue
        try:
            with runtime.Session.begin() as session:
                session.add(row)
                session.flush()
                job = runtime.queue.record(session, "deliver_outbox", row.id, ref=row.need_ref)
        except IntegrityError:  # a check running at the same time wrote it first
            continue
        runtime.queue.send(job)
        written.append(row)
    return written
