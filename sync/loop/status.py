"""Status: an issue's state -> the customer-facing status, applied to its needs with exactly one comment and
one notice per customer for each real change of that status.

:func:`customer_status` is pure and driven by the config: the tracker's settings say what its states mean
(``plugin.settings.TrackerSection.customer_status``: Jira by status name and category, GitHub by open or closed,
the reason and labels).

The status change, its history rows, the outbox rows and their ``deliver_outbox`` jobs are written in one
transaction with a conditional update, so a repeated or concurrent event changes nothing more, and what must
be said is never lost: the jobs retry and record failures, and a crash before they are queued leaves them in
the ledger for the heartbeat sweep.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from plugin.base import Comment, IssueState
from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.need import N_
from plugin.people import PeopleBook, PersonRecord
from plugin.settings import Settings
from sync.ledger.store import Need, OutboxMessage, StatusChange, utcnow
from sync.loop import demand as issue_demand

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.sync")

# Tracker state -> customer-facing status -----------------------------------------------------------


def customer_status(settings: Settings, state: IssueState) -> str:
    """The customer-facing status key for the issue's current state."""
    return settings.tracker.section.customer_status(settings.statuses, state)


CHANNEL_NAMES = {"email": N_("e-mail"), "wecom": N_("WeCom"), "dingtalk": N_("DingTalk"), "feishu": N_("Feishu"),
                 "slack": N_("Slack"), "webhook": N_("webhook")}


def tracker_note(state: IssueState) -> str:
    """What the status history keeps of the issue's state: its status name, and GitHub's reason after a "/"
    (``closed/completed``); the need page words it (``webhooks.needs.Names.history_note``)."""
    return f"{state.status_name}/{state.state_reason}" if state.state_reason else state.status_name


def status_name(settings, key: str | None, locale: str) -> str:
    status = settings.status(key) if key else None
    return status.name.get(locale) if status else (key or "-")


def comment_text(settings, old: str | None, new: str, refs: list[str], told: list[str]) -> str:
    """The status-sync comment, in the configured language, marked as Cocreate's. It is posted while the
    notices are still on their way, so it says who is being told; whether each got it is on the need page."""
    locale = settings.locale
    words = catalog(locale)
    prefix = words.gettext("[Cocreate status sync]")
    body = words.gettext(
        "Customer-facing status: %(old)s → %(new)s.\nNeeds: %(refs)s.\nBeing told: %(told)s (delivery per "
        "recipient on the need page).",
        old=status_name(settings, old, locale), new=status_name(settings, new, locale),
        refs=words.pgettext("punctuation", ", ").join(refs),
        told=words.pgettext("punctuation", "; ").join(told) or words.gettext("nobody (no channel configured)"),
    )
    return f"{prefix} {body}"


def _told(settings, customers: CustomerBook, needs: list[Need], owners: list[tuple[PersonRecord, list[Need]]]) -> list[str]:
    words = catalog(settings.locale)
    told: list[str] = []
    for key in dict.fromkeys(need.customer for need in needs):
        customer = customers.get(key)
        if customer and customer.channels:
            kinds = dict.fromkeys(words.gettext(CHANNEL_NAMES[channel.kind]) for channel in customer.channels)
            told.append(f"{customer.name} ({', '.join(kinds)})")
    told += [words.gettext("owner %(name)s", name=person.name) for person, _mine in owners]
    return told


def customer_rows(customers: CustomerBook, issue_key: str | None, needs: list[Need], kind: str, event: str, *,
                  old: str | None,
                   new: str | None, **extra) -> list[OutboxMessage]:
    """One outbox row per channel of each customer whose need is among ``needs`` (a status change or a forwarded
    comment, ``kind``), naming that customer's needs; ``event`` makes the dedupe key unique to the occasion.
    ``new`` None: each customer's need's current status."""
    rows = []
    for key in dict.fromkeys(need.customer for need in needs):
        customer = customers.get(key)
        if customer is None:
            continue
        mine = [need for need in needs if need.customer == key]
        for index, channel in enumerate(customer.channels):
            # The dedupe keys are those rows have always had: changing them would send a notice twice.
            dedupe_key = (f"forward:{event}:{key}:{index}" if kind == "forward"
                          else f"{kind}:{key}:{index}:{event}")
            rows.append(OutboxMessage(
                dedupe_key=dedupe_key, kind=kind, issue_key=issue_key, need_ref=mine[0].ref, customer=key,
                channel=channel.kind, target=str(index),
                payload={"old": old, "new": mine[0].status if new is None else new,
                         "refs": [need.ref for need in mine], "titles": [need.title for need in mine], **extra},
            ))
    return rows


def _notice_rows(settings, customers: CustomerBook, needs: list[Need], issue_key: str | None,
                 issue_url: str | None, event: str, old: str | None, new: str,
                 owners: list[tuple[PersonRecord, list[Need]]], told: list[str],
                 tell_customers: bool = True) -> list[OutboxMessage]:
    """The notices of one status change of ``needs``: to each customer on each channel (unless not
    ``tell_customers``), and to each owner; ``event`` makes their dedupe keys unique to this change."""
    rows = (customer_rows(customers, issue_key, needs, "customer", event, old=old, new=new, issue_url=issue_url)
            if tell_customers else [])
    for person, mine in owners:
        rows.append(OutboxMessage(
            dedupe_key=f"owner:{person.name}:{event}", kind="owner", issue_key=issue_key,
            need_ref=mine[0].ref, channel="email", target=person.email,
            payload={"old": old, "new": new, "refs": [need.ref for need in mine],
                     "titles": [need.title for need in mine], "issue_url": issue_url, "owner": person.name,
                     "customer_name": ", ".join(dict.fromkeys(
                         customers.name(need.customer) for need in mine)),
                     "told": told},
        ))
    return rows


def _owners(people: PeopleBook, needs: list[Need]) -> list[tuple[PersonRecord, list[Need]]]:
    """The owners of ``needs`` the people directory has an e-mail for, each once (however CS spelled them),
    with their needs."""
    found: dict[str, tuple[PersonRecord, list[Need]]] = {}
    for need in needs:
        person = people.person(need.owner)
        if person is not None and person.email:
            found.setdefault(person.name, (person, []))[1].append(need)
    return list(found.values())


MEMBER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
"""GitHub ``author_association`` values of people who belong to the repository; anyone else (``CONTRIBUTOR``,
``FIRST_TIME_CONTRIBUTOR``, ``NONE`` ...) can comment on a public repository without being on the team."""


def comment_member(settings: Settings, people: PeopleBook, comment: Comment) -> str | None:
    """The name of the team member who wrote ``comment``, or None when its author may not speak to customers.

    Members are the people directory (matched by tracker identity or e-mail, never by a shown name, which the
    author chooses), the identities listed in ``sync.customer_comment_authors``, and on GitHub the repository's
    owners, members and collaborators."""
    identities = {identity.casefold() for identity in comment.author_identities}
    for person in people.records:
        mine = {value.casefold() for value in (person.jira_account_id, person.github_login, person.email) if value}
        if identities & mine:
            return person.name
    allowed = {identity.casefold() for identity in settings.sync.customer_comment_authors}
    if identities & allowed or comment.author_association in MEMBER_ASSOCIATIONS:
        return comment.author_name or comment.author
    return None


def apply_issue_state(runtime: Runtime, state: IssueState, actor: str | None = None) -> bool:
    """Bring the needs linked to ``state.key`` to the customer-facing status the issue now means.

    Returns False when nothing changed (the usual answer to repeated or out-of-date events).
    """
    settings = runtime.settings
    new = customer_status(settings, state)
    # Read before the transaction, which the first read in a process may not share.
    customers, people = runtime.customers(), runtime.people()
    with runtime.Session.begin() as session:
        candidates = session.scalars(
            select(Need).where(Need.issue_key == state.key, Need.status != new).order_by(Need.id)).all()
        changed: list[tuple[Need, str]] = []
        now = utcnow()
        for need in candidates:
            old = need.status
            # Conditional update: of two workers applying the same change, only one wins.
            won = session.execute(
                update(Need).where(Need.id == need.id, Need.status == old)
                .values(status=new, status_changed_at=now).execution_options(synchronize_session=False)
            ).rowcount
            if won:
                changed.append((need, old))
        if not changed:
            return False
        anchors = []
        for need, old in changed:
            entry = StatusChange(need_id=need.id, status=new, previous=old, source="tracker", actor=actor,
                                 note=tracker_note(state), at=now)
            session.add(entry)
            anchors.append(entry)
        session.flush()
        anchor = anchors[0].id
        needs = [need for need, _old in changed]
        old_status = changed[0][1]
        refs = [need.ref for need in needs]
        owners = _owners(people, needs)
        # With ``notifications.delivered_on: release`` customers hear of "done" from the release notice instead.
        tell = settings.notifications.tells_customers_of(settings.status(new))
        told = _told(settings, customers, needs if tell else [], owners)
        rows = [OutboxMessage(
            dedupe_key=f"comment:{state.key}:{anchor}", kind="comment", issue_key=state.key, need_ref=refs[0],
            channel="tracker", target=state.key,
            payload={"text": comment_text(settings, old_status, new, refs, told)},
        )]
        rows += _notice_rows(settings, customers, needs, state.key, state.url, f"{state.key}:{anchor}", old_status,
                             new, owners, told, tell_customers=tell)
        session.add_all(rows)
        session.flush()
        jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=refs[0]) for row in rows]
        jobs += issue_demand.queue_if_changed(runtime, session, state.key, customers)
    runtime.queue.send(*jobs)
    log.info("issue %s: %s -> %s for %s", state.key, old_status, new, ", ".join(refs))
    return True


# Status set by CS ----------------------------------------------------------------------------------


class StatusSetByTracker(ValueError):
    """The need has a tracker issue: its status follows the issue (as the table import's rule says), so CS
    changes it in the tracker, not in Cocreate."""

    def __init__(self, ref: str, issue_key: str):
        super().__init__(f"{ref} has the tracker issue {issue_key}, which sets its status")
        self.ref, self.issue_key = ref, issue_key


def set_status_by_hand(runtime: Runtime, ref: str, status: str, note: str, actor: str | None) -> bool:
    """CS sets the customer-facing status of a need that has no tracker issue (yet), with a note for the history.

    The customer and the owner are told through the outbox, as for a change in the tracker, in the same
    transaction as the change; a repeated request changes and tells nothing more. Returns False when the need
    already had ``status``. Raises :class:`StatusSetByTracker` when the need has an issue, and ``ValueError``
    for a status the config does not name. Should the need get an issue later, the issue's status wins
    (:func:`apply_issue_state`) and both changes stay in the history.
    """
    if runtime.settings.status(status) is None:
        raise ValueError(f"unknown status {status!r}")
    customers = runtime.customers()
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        if need.issue_key:
            raise StatusSetByTracker(ref, need.issue_key)
        old = need.status
        changed, jobs = set_statuses_in(runtime, session, [need], status, note, actor, customers)
    if not changed:
        return False
    runtime.queue.send(*jobs)
    log.info("need %s: %s -> %s set by %s", ref, old, status, actor)
    return True


def set_statuses_in(runtime: Runtime, session, needs: list[Need], status: str, note: str,
                    actor: str | None, customers: CustomerBook) -> tuple[list[Need], list]:
    """Set ``status`` (a configured one) by hand on those of ``needs`` that have no tracker issue and another
    status, in ``session``'s transaction: a status history entry each, and the notices of the change in the
    outbox, one per customer channel and owner for all the needs that had the same status before (so a
    customer hears of many needs at once in one notice). Returns the needs changed and the ``deliver_outbox``
    jobs to send after the commit.

    Each change is a conditional update that repeats the checks, so of two requests setting the same status only
    one records and tells it, and a sync that created an issue meanwhile wins."""
    settings = runtime.settings
    people = runtime.people()
    now = utcnow()
    by_old: dict[str, list[tuple[Need, StatusChange]]] = {}
    for need in needs:
        old = need.status
        if need.issue_key or old == status:
            continue
        won = session.execute(
            update(Need).where(Need.id == need.id, Need.status == old, Need.status != status,
                               Need.issue_key.is_(None))
            .values(status=status, status_changed_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        entry = StatusChange(need_id=need.id, status=status, previous=old, source="cs", actor=actor, note=note,
                             at=now)
        session.add(entry)
        by_old.setdefault(old, []).append((need, entry))
    session.flush()
    rows = []
    for old, changes in by_old.items():
        mine = [need for need, _entry in changes]
        owners = _owners(people, mine)
        # The dedupe keys a single need's change has always had: its ref and its history entry.
        event = f"{mine[0].ref}:cs:{changes[0][1].id}"
        rows += _notice_rows(settings, customers, mine, None, None, event, old, status, owners,
                             _told(settings, customers, mine, owners))
    session.add_all(rows)
    session.flush()
    jobs = [runtime.queue.record(session, "deliver_outbox", row.id, ref=row.need_ref) for row in rows]
    return [need for changes in by_old.values() for need, _entry in changes], jobs
