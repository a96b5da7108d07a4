"""Emergency paging: a need filed with the most urgent urgency (``settings.urgencies[0]``) on a co-creation
project pages each of the project's own ("ours") emergency contacts at once, on the contact's channel; so does an
edit that raises a still unanswered need of a project to that urgency, or moves such a need into a project.

:func:`page_contacts` runs in the transaction that stores the need (form, JSON API or table import): it writes
one ``page`` outbox row per contact, keyed by need and contact so that a need is never paged twice to the same
person, and records the ``deliver_outbox`` jobs to send after the commit. The row keeps who was paged, on which
channel, and (once sent) when; :func:`pages_of` gives the need page that list. A row names its contact by
position in the project's list and the contact's channel: the address (a bot URL carries its key) stays in the
project record, and a contact changed to another channel since is an error, not a guess.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.ledger.project_tables import Project
from sync.ledger.store import Need, OutboxMessage
from sync.loop.mapping import need_url

if TYPE_CHECKING:
    from plugin.settings import Settings
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.projects")

PAGE = "page"
"""The outbox kind of a page."""


def page_key(ref: str, contact: dict) -> str:
    """One need paged to one contact (channel and address): the outbox's dedupe key."""
    basis = f"{contact.get('channel')}\n{(contact.get('address') or '').casefold()}"
    return f"page:{ref}:{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


def pages_needed(settings: Settings, need: Need) -> bool:
    """Whether filing ``need`` pages its project's emergency contacts: it is in a project, has the most urgent
    configured urgency and is still unanswered (a sheet's row already done or declined pages nobody)."""
    return (need.project_id is not None and bool(settings.urgencies) and need.urgency == settings.urgencies[0].key
            and need.status == settings.initial_status)


def page_contacts(runtime: Runtime, session: Session, need: Need) -> list:
    """Write the page rows of ``need`` (flushed, with its ref) into ``session`` and record their delivery jobs;
    returns the jobs to ``runtime.queue.send`` after the commit. Contacts already paged for this need are left
    out, so calling it again pages nobody twice."""
    if not pages_needed(runtime.settings, need):
        return []
    try:
        with session.begin_nested():  # a page that cannot be written never costs the need it is about
            return _write_pages(runtime, session, need)
    except Exception:
        log.exception("paging the emergency contacts of %s failed; the need is stored", need.ref)
        return []


def _write_pages(runtime: Runtime, session: Session, need: Need) -> list:
    settings = runtime.settings
    project = session.get(Project, need.project_id)
    contacts = [(index, contact) for index, contact in enumerate(project.emergency_contacts or ())
                if contact.get("side") == "ours" and contact.get("address")]
    if not contacts:
        return []
    keys = {page_key(need.ref, contact): (index, contact) for index, contact in contacts}
    known = set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
    locale = settings.locale
    urgency = settings.urgency(need.urgency)
    customer = runtime.customers().get(need.customer)
    jobs = []
    for key, (index, contact) in keys.items():
        if key in known:
            continue
        notice = {"locale": locale, "contact_name": contact.get("name") or "", "project_name": project.name,
                  "customer_name": customer.name if customer else need.customer, "need_ref": need.ref,
                  "need_title": need.title, "urgency_label": urgency.name.get(locale) if urgency else need.urgency,
                  "need_url": need_url(settings, need.ref)}
        row = OutboxMessage(dedupe_key=key, kind=PAGE, need_ref=need.ref, customer=need.customer,
                            channel=contact["channel"], target=str(index),
                            payload={"notice": notice, "project": project.key, "contact": contact.get("name"),
                                     "role": contact.get("role")})
        session.add(row)
        session.flush()
        jobs.append(runtime.queue.record(session, "deliver_outbox", row.id, ref=need.ref))
    return jobs


def page_channel(session: Session, row: OutboxMessage):
    """The channel a page row goes out on: its contact as the project has it now."""
    from plugin.settings import Channel
    from sync.notify import ChannelError

    project = session.scalars(select(Project).where(Project.key == row.payload.get("project"))).one_or_none()
    contacts = project.emergency_contacts if project else []
    index = int(row.target)
    contact = contacts[index] if index < len(contacts) else None
    if contact is None or contact.get("channel") != row.channel or not contact.get("address"):
        raise ChannelError(f"project {row.payload.get('project')} no longer has {row.channel} emergency contact "
                           f"{index + 1}")
    if row.channel == "email":
        return Channel(kind="email", to=[contact["address"]])
    return Channel(kind=row.channel, url=contact["address"])


@dataclass(frozen=True)
class Page:
    """One contact paged for a need, as the need page says it."""

    name: str
    role: str | None
    channel: str
    state: str
    queued_at: object
    sent_at: object
    error: str | None


def pages_of(session: Session, ref: str) -> list[Page]:
    """Who was paged for the need ``ref``, on which channel, and when (oldest first)."""
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == PAGE, OutboxMessage.need_ref == ref)
                           .order_by(OutboxMessage.id))
    return [Page(row.payload.get("contact") or "", row.payload.get("role"), row.channel, row.state, row.created_at,
                 row.sent_at, row.last_error) for row in rows]
