"""SLA timers per urgency (first response, resolution), breaches, and one escalation notice per breach.

Both timers start when the customer raised the need (``reported_at``). First response stops when the need
first leaves the initial status (any answer: accepted, scheduled, in progress, done or declined); resolution
stops when it reaches a closed status (done or declined) and stays there. Targets come from
``urgencies[].sla`` in the config. Times come from the status history; a status set by a table import has
no known time, so a timer it stopped is "unknown" and neither met nor breached.

``escalate_breaches`` (job ``check_sla``, to be run periodically) writes an ``escalation`` outbox row per
breach and recipient — the need's owner (through the people directory) and each
``notifications.escalation_contacts`` address — deduplicated by key, so each breach is told once whatever
the number of checks. A breach whose due time came before the need entered Cocreate (an old sheet imported
today) is shown and counted, not escalated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from plugin.customer import CustomerBook
from plugin.people import PeopleBook
from plugin.settings import Settings
from sync.ledger.store import Need, OutboxMessage, StatusChange, utcnow
from sync.loop.mapping import need_url
from sync.loop.outbox import queue_new_rows
from sync.loop.status import status_name
from sync.notify.templates import EscalationNotice, notice_data

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.sla")

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


def closed_statuses(settings: Settings) -> frozenset[str]:
    """Statuses that stop the resolution timer: those of Jira's "done" category, plus ``done`` and ``declined``
    (the keys a closed GitHub issue maps to, see ``sync.loop.status``)."""
    keys = {status.key for status in settings.statuses}
    return frozenset({s.key for s in settings.statuses if s.jira_category == "done"} | ({"done", "declined"} & keys))


def delivered_statuses(settings: Settings) -> frozenset[str]:
    """Closed statuses that mean the need was delivered (not declined)."""
    return closed_statuses(settings) - {"declined"}


@dataclass(frozen=True)
class Timer:
    """One SLA clock of one need. ``stopped_at`` None with ``stopped`` True: stopped at an unknown time."""

    sla: str
    started_at: dt.datetime
    target: dt.timedelta
    stopped: bool
    stopped_at: dt.datetime | None

    @property
    def due_at(self) -> dt.datetime:
        return self.started_at + self.target

    def state(self, now: dt.datetime) -> str:
        """``met``, ``breached``, ``unknown`` (stopped at an unknown time), ``running`` or ``overdue``."""
        if self.stopped and self.stopped_at is None:
            return "unknown"
        if self.stopped and self.stopped_at <= now:
            return "met" if self.stopped_at <= self.due_at else "breached"
        return "overdue" if now > self.due_at else "running"

    def breached(self, now: dt.datetime) -> bool:
        return self.state(now) in ("breached", "overdue")

    def late_by(self, now: dt.datetime) -> dt.timedelta:
        end = self.stopped_at if self.stopped and self.stopped_at and self.stopped_at <= now else now
        return max(end - self.due_at, dt.timedelta(0))


def _ordered(history: Iterable[StatusChange]) -> list[StatusChange]:
    return sorted(history, key=lambda entry: (entry.at, entry.id or 0))


def history_until(history: Iterable[StatusChange], moment: dt.datetime) -> list[StatusChange]:
    """The entries known at ``moment``; a need that entered Cocreate later keeps its first entry."""
    entries = _ordered(history)
    return [entry for entry in entries if entry.at <= moment] or entries[:1]


Stop = tuple[bool, dt.datetime | None]
"""Whether a timer stopped, and when (None: unknown)."""


def responded(settings: Settings, history: Sequence[StatusChange]) -> Stop:
    """Whether the need left its initial status, and when (None: unknown, the move came from an import)."""
    for entry in history:
        if entry.status != settings.initial_status:
            return True, None if entry.source == "import" else entry.at
    return False, None


def resolved(settings: Settings, history: Sequence[StatusChange]) -> Stop:
    """Whether the need is in a closed status at the end of ``history``, and since when (None: unknown)."""
    closed = closed_statuses(settings)
    if not history or history[-1].status not in closed:
        return False, None
    since = history[-1]
    for entry in reversed(history):
        if entry.status not in closed:
            break
        since = entry
    return True, None if since.source == "import" else since.at


def timers(settings: Settings, need: Need, history: Sequence[StatusChange] | None = None, *,
           stops: tuple[Stop, Stop] | None = None) -> list[Timer]:
    """The need's SLA timers (none when its urgency has no targets).

    ``history`` (ordered, e.g. from :func:`history_until`) gives the times at which timers stopped; without it
    only the current status is used, which tells running timers from stopped ones (enough for "overdue now").
    ``stops``, instead of ``history``: ``(responded(settings, history), resolved(settings, history))`` when the
    caller has them already.
    """
    urgency = settings.urgency(need.urgency)
    if urgency is None:
        return []
    if stops is not None:
        first, done = stops
    elif history is None:
        first = (need.status != settings.initial_status, None)
        done = (need.status in closed_statuses(settings), None)
    else:
        first, done = responded(settings, history), resolved(settings, history)
    result = []
    for sla, seconds, (stopped, stopped_at) in ((FIRST_RESPONSE, urgency.sla.first_response, first),
                                                (RESOLUTION, urgency.sla.resolution, done)):
        if seconds:
            result.append(Timer(sla, need.reported_at, dt.timedelta(seconds=seconds), stopped, stopped_at))
    return result


@dataclass(frozen=True)
class LiveState:
    """What the table shows for a need's SLA now: its most urgent running timer."""

    overdue: bool
    sla: str | None
    due_at: dt.datetime | None
    late_by: dt.timedelta | None

    @property
    def css_class(self) -> str:
        return "sla-overdue" if self.overdue else ("sla-running" if self.sla else "")


def live_state(settings: Settings, need: Need, now: dt.datetime | None = None) -> LiveState:
    """The need's running timer that is due first, from its current status only (no history needed)."""
    now = now or utcnow()
    running = [timer for timer in timers(settings, need) if timer.state(now) in ("running", "overdue")]
    if not running:
        return LiveState(False, None, None, None)
    first = min(running, key=lambda timer: timer.due_at)
    overdue = first.state(now) == "overdue"
    return LiveState(overdue, first.sla, first.due_at, first.late_by(now) if overdue else None)


def _overdue_needs(settings: Settings, now: dt.datetime):
    """The query for needs not closed with a timer running past its target ``now`` (as :func:`timers` reads the
    current status: first response runs in the initial status, resolution until closed); None when no urgency
    has a target."""
    late = []
    for urgency in settings.urgencies:
        first_response, resolution = urgency.sla.first_response, urgency.sla.resolution
        if first_response:
            late.append(and_(Need.urgency == urgency.key, Need.status == settings.initial_status,
                             Need.reported_at < now - dt.timedelta(seconds=first_response)))
        if resolution:
            late.append(and_(Need.urgency == urgency.key, Need.reported_at < now - dt.timedelta(seconds=resolution)))
    if not late:
        return None
    return (select(Need).where(Need.status.not_in(closed_statuses(settings)), or_(*late))
            .order_by(Need.id).execution_options(yield_per=500))


def overdue_needs(runtime: Runtime, now: dt.datetime | None = None) -> list[tuple[Need, LiveState]]:
    """Open needs past an SLA target now, the one due first first."""
    now = now or utcnow()
    query = _overdue_needs(runtime.settings, now)
    if query is None:
        return []
    found = []
    with runtime.Session() as session:
        for need in session.scalars(query):
            state = live_state(runtime.settings, need, now)
            if state.overdue:
                found.append((need, state))
    return sorted(found, key=lambda item: (item[1].due_at, item[0].id))


# Escalation ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    role: str  # owner, escalation_contact
    name: str | None
    email: str


def recipients(settings: Settings, people: PeopleBook, need: Need) -> list[Recipient]:
    """Who hears of a breach: the owner, if the people directory has their e-mail, and the escalation contacts."""
    found = []
    person = people.person(need.owner)
    if person is not None and person.email:
        found.append(Recipient("owner", person.name, person.email))
    for address in settings.notifications.escalation_contacts:
        if all(address.casefold() != other.email.casefold() for other in found):
            found.append(Recipient("escalation_contact", None, address))
    return found


def escalation_key(ref: str, timer: Timer, email: str) -> str:
    """One breach (need, SLA, due time) told to one address: the outbox's dedupe key."""
    digest = hashlib.sha256(email.casefold().encode()).hexdigest()[:16]
    return f"escalation:{ref}:{timer.sla}:{timer.due_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}:{digest}"


def escalate_breaches(runtime: Runtime, now: dt.datetime | None = None) -> list[int]:
    """Write an escalation outbox row for every open need now past an SLA target (once per breach and
    recipient) and queue its delivery; returns the ids of the rows written by this call."""
    settings = runtime.settings
    now = now or utcnow()
    query = _overdue_needs(settings, now)
    if query is None:
        return []
    customers, people = runtime.customers(), runtime.people()
    with runtime.Session() as session:
        rows = []
        for need in session.scalars(query):
            for timer in timers(settings, need):
                if timer.state(now) != "overdue" or timer.due_at < need.created_at:
                    continue
                rows.extend(_escalation(settings, customers, need, timer, recipient, now)
                            for recipient in recipients(settings, people, need))
    written = queue_new_rows(runtime, rows)
    if written:
        log.info("SLA: %d escalation notice(s) queued", len(written))
    return [row.id for row in written]


def _escalation(settings: Settings, customers: CustomerBook, need: Need, timer: Timer, recipient: Recipient,
                now: dt.datetime) -> OutboxMessage:
    """The outbox row telling ``recipient`` of the breach; ``payload["notice"]`` holds the notice's fields
    as JSON (``notice_data``: ``due_at`` ISO 8601, ``overdue_by`` seconds), in the config's language."""
    locale = settings.locale
    urgency = settings.urgency(need.urgency)
    issue_url = need.issue_url if (need.issue_url or "").startswith(("https://", "http://")) else None
    notice = EscalationNotice(
        locale=locale, customer_name=customers.name(need.customer), need_ref=need.ref,
        need_title=need.title, urgency_label=urgency.name.get(locale) if urgency else need.urgency,
        status_label=status_name(settings, need.status, locale), sla=timer.sla, due_at=timer.due_at,
        overdue_by=timer.late_by(now), owner_name=need.owner,
        need_url=need_url(settings, need.ref), issue_url=issue_url,
        timezone=settings.timezone,
    )
    fields = {name: value for name, value in notice_data(notice).items() if name not in ("kind", "event_key")}
    return OutboxMessage(
        dedupe_key=escalation_key(need.ref, timer, recipient.email), kind="escalation", issue_key=need.issue_key,
        need_ref=need.ref, customer=need.customer, channel="email", target=recipient.email,
        payload={"notice": fields, "recipient": recipient.role},
    )


def check_sla(runtime: Runtime) -> None:
    """Escalate SLA breaches (to be queued periodically; safe to run at any time and as often as wanted)."""
    escalate_breaches(runtime)
