"""An issue's demand in the sync: the needs it serves, their customers' records, the score (``plugin.demand``) and
whether the tracker must be told, by the score last written to the issue (``IssueDemand``).

The score travels with the issue's other fields: the need that owns the issue body writes it in the same edit as
the body (Jira: the configured Number field; GitHub: the body section and a band label), so it costs no call of
its own, and none at all when neither the score (as rounded) nor the customers changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.customer import CustomerBook
from plugin.settings import Settings
from plugin.demand import Demand, DemandCustomer, demand_score
from sync.ledger.store import IssueDemand, Need, utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime


def needs_of_issue(session: Session, need: Need) -> list[Need]:
    """The needs the issue of ``need`` serves, by id: those on its issue, and those linked to ``need`` by its ref
    that have not joined it yet (their sync follows), so that an issue created for a need already asked for by
    other customers counts them all at once. Both are read by the index on ``issue_key`` (a need not yet on an
    issue has none: few do, once a tracker is configured)."""
    waiting = (Need.issue_key.is_(None) & Need.linked_to.is_not(None)
               & (func.upper(func.trim(Need.linked_to)) == need.ref.upper()))
    rows = {row.id: row for row in session.scalars(select(Need).where(waiting))}
    if need.issue_key:
        rows.update((row.id, row) for row in session.scalars(select(Need).where(Need.issue_key == need.issue_key)))
    rows.setdefault(need.id, need)
    return [rows[key] for key in sorted(rows)]


def customers_of(needs: Iterable[Need], book: CustomerBook) -> tuple[DemandCustomer, ...]:
    """Each customer asking, once, in the order of its first need; a merged customer counts as the one it went
    into; a name no record has counts with no tier and no revenue."""
    seen: dict[str, DemandCustomer] = {}
    for need in needs:
        record = book.current(need.customer)
        key = record.key if record else need.customer
        if key not in seen:
            seen[key] = DemandCustomer(key, record.name if record else need.customer,
                                       record.tier if record else None, record.annual_revenue if record else None)
    return tuple(seen.values())


def demand_of(settings: Settings, needs: list[Need], book: CustomerBook, now: dt.datetime | None = None) -> Demand:
    """The demand of the issue serving ``needs``: the score of their customers, urgencies and oldest waiting need."""
    waiting = [need.reported_at for need in needs if need.status not in settings.demand.settled_statuses]
    return demand_score(settings.demand, customers_of(needs, book), [need.urgency for need in needs],
                        [urgency.key for urgency in settings.urgencies], min(waiting, default=None),
                        now or utcnow())


def issue_demand(runtime: Runtime, session: Session, need: Need) -> Demand:
    """The demand of the issue ``need`` has (or is about to get)."""
    return demand_of(runtime.settings, needs_of_issue(session, need), runtime.customers())


def unchanged(session: Session, key: str, demand: Demand) -> bool:
    """Whether ``key`` was last written this score (as rounded) with these customers."""
    row = session.get(IssueDemand, key)
    return row is not None and row.score == demand.score and row.customers == demand.customers_written()


def field_changes(settings: Settings, session: Session, key: str, demand: Demand | None) -> dict:
    """The ``update_issue`` change writing ``demand`` to a tracker field (Jira's ``demand_field``); empty where
    the tracker has none configured or the issue already holds it."""
    if demand is None or settings.tracker is None:
        return {}
    fields = settings.tracker.section.demand_fields(demand.score)
    if not fields or unchanged(session, key, demand):
        return {}
    return {"custom_fields": fields}


def record(session: Session, key: str, demand: Demand | None, label: str | None) -> None:
    """Keep ``demand`` as what ``key`` was last written (in ``session``; the caller commits)."""
    if demand is None:
        return
    row = session.get(IssueDemand, key)
    if row is None:
        row = IssueDemand(issue_key=key, score=demand.score)
        session.add(row)
    elif row.score == demand.score and row.customers == demand.customers_written() and row.label == label:
        return
    row.score, row.customers, row.label, row.written_at = demand.score, demand.customers_written(), label, utcnow()


def queue_if_changed(runtime: Runtime, session: Session, key: str, book: CustomerBook) -> list:
    """The ``sync_need`` job (recorded in ``session``) of the need owning issue ``key``'s body when its demand is
    no longer what was written (its needs' statuses changed: a settled need no longer waits); none otherwise.
    ``book``: the customers, read before the caller's transaction."""
    if runtime.settings.tracker is None:
        return []
    # The caller may have changed the statuses by an UPDATE its loaded needs do not show: read them again.
    needs = list(session.scalars(select(Need).where(Need.issue_key == key).order_by(Need.id)
                                 .execution_options(populate_existing=True)))
    if not needs or session.get(IssueDemand, key) is None:
        return []
    if unchanged(session, key, demand_of(runtime.settings, needs, book)):
        return []
    owner = next((need for need in needs if need.linked_to is None), needs[0])
    return [runtime.queue.record(session, "sync_need", owner.ref, ref=owner.ref)]
