"""The demand ranking behind ``/demand`` and ``GET /api/v1/demand``: every tracker issue with needs, scored by the
formula of ``plugin.demand`` as of now, highest first, with its customers, revenue at stake, ages and status.

One query reads the needs that have an issue (a few columns each), narrowed in SQL to the issues with a need of
the category or customer asked for; the score of each issue is computed as the sync computes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from plugin.demand import Demand
from sync.ledger.store import Need, utcnow
from sync.loop.demand import demand_of

if TYPE_CHECKING:
    from sync.runtime import Runtime


@dataclass(frozen=True)
class RankedIssue:
    """One issue of the ranking: its key and link, the title and status of the need that owns it (the first one
    filed for it), its needs' refs and categories, and its demand."""

    key: str
    url: str | None
    title: str
    status: str
    refs: tuple[str, ...]
    categories: tuple[str, ...]
    demand: Demand


def ranked_issues(runtime: Runtime, *, category: str | None = None, customer: str | None = None,
                  now: dt.datetime | None = None) -> list[RankedIssue]:
    """The issues with needs, highest demand first (then more revenue, then by key); only those with a need of
    ``category`` and of ``customer`` (a key, name or alias) when given. ``now`` is when waiting is counted to."""
    book = runtime.customers()
    query = select(Need.issue_key, Need.issue_url, Need.ref, Need.title, Need.status, Need.category,
                   Need.customer, Need.urgency, Need.reported_at, Need.linked_to).where(Need.issue_key.is_not(None))
    if category:
        query = query.where(Need.issue_key.in_(select(Need.issue_key).where(Need.category == category)))
    if customer:
        record = book.current(book.resolve(customer) or customer)
        keys = {customer}
        if record is not None:  # its needs, and those still naming a customer merged into it
            keys |= {record.key} | {other.key for other in book.records if other.merged_into == record.key}
        query = query.where(Need.issue_key.in_(select(Need.issue_key).where(Need.customer.in_(keys))))
    groups: dict[str, list] = {}
    with runtime.Session() as session:
        for row in session.execute(query.order_by(Need.id)):
            groups.setdefault(row.issue_key, []).append(row)
    now = now or utcnow()
    ranked = []
    for key, rows in groups.items():
        owner = next((row for row in rows if row.linked_to is None), rows[0])
        ranked.append(RankedIssue(
            key=key, url=owner.issue_url or next((row.issue_url for row in rows if row.issue_url), None),
            title=owner.title, status=owner.status, refs=tuple(row.ref for row in rows),
            categories=tuple(dict.fromkeys(row.category for row in rows)),
            demand=demand_of(runtime.settings, rows, book, now)))  # a row reads as a need does
    ranked.sort(key=lambda item: (-item.demand.score, -item.demand.revenue, item.key))
    return ranked


CSV_COLUMNS = ("rank", "issue", "url", "title", "score", "customers", "revenue", "urgency", "oldest_waiting",
               "waiting_days", "status", "needs")
"""The columns of the CSV export, as the API names the same fields."""


def csv_rows(ranked: list[RankedIssue], names) -> Iterator[list]:
    """The ranking as CSV rows (after a header the caller writes): ``names`` turns keys into what the reader sees
    (``urgency``, ``status``)."""
    for rank, item in enumerate(ranked, 1):
        demand = item.demand
        yield [rank, item.key, item.url or "", item.title, demand.score,
               "; ".join(f"{c.name} ({c.tier})" if c.tier else c.name for c in demand.customers), demand.revenue,
               names.urgency(demand.urgency) if demand.urgency else "",
               demand.oldest_waiting.date().isoformat() if demand.oldest_waiting else "", demand.waiting_days,
               names.status(item.status), " ".join(item.refs)]


def issue_json(rank: int, item: RankedIssue) -> dict:
    """One issue of the ranking as ``GET /api/v1/demand`` answers it."""
    demand = item.demand
    return {
        "rank": rank, "issue": item.key, "url": item.url, "title": item.title, "score": demand.score,
        "customers": [{"key": c.key, "name": c.name, "tier": c.tier, "annual_revenue": c.annual_revenue}
                      for c in demand.customers],
        "revenue": demand.revenue, "urgency": demand.urgency,
        "oldest_waiting": demand.oldest_waiting.isoformat() if demand.oldest_waiting else None,
        "waiting_days": demand.waiting_days, "status": item.status, "needs": list(item.refs),
        "categories": list(item.categories),
    }
