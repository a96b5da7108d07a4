"""The VOC report's delivered figures as ``notifications.delivered_on`` defines delivered: done, shipped in a
release (``need_releases``), or either; unweighted and weighted by the customer's annual revenue, with the time
from report to shipped.

Every need raised before the cut-off counts. Its status at the cut-off is that of its last history entry known
then (a need that entered Cocreate later: its first entry; without history: the status it has now). It was
shipped at the cut-off when a release it is recorded with was dated on or before the cut-off's day (or,
undated, recorded before the cut-off). A need weighs its customer's annual revenue (a customer without one
weighs nothing in the weighted share). Time to shipped runs from ``reported_at`` to the start (UTC) of the day
of the first release that shipped the need.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, case, cast, exists, func, or_, select

from plugin.settings import Settings
from sync.ledger.store import Customer, Need, NeedRelease, StatusChange
from sync.sla import delivered_statuses


@dataclass(frozen=True)
class DeliveredFigures:
    """The north star: needs delivered at the cut-off over all needs raised by then, by count and by revenue."""

    rule: str  # done, release or both
    needs: int
    delivered: int
    revenue: int
    delivered_revenue: int
    shipped: int
    median_to_shipped: dt.timedelta | None

    @property
    def share(self) -> float | None:
        return self.delivered / self.needs if self.needs else None

    @property
    def weighted_share(self) -> float | None:
        return self.delivered_revenue / self.revenue if self.revenue else None

    def plain(self) -> dict:
        """As kept with a closed month's figures (``sync.report.cache``): JSON, the median in seconds."""
        median = self.median_to_shipped
        return {**dataclasses.asdict(self), "median_to_shipped": median.total_seconds() if median else None}

    @classmethod
    def from_plain(cls, plain: dict) -> DeliveredFigures:
        seconds = plain["median_to_shipped"]
        return cls(**{**plain, "median_to_shipped": dt.timedelta(seconds=seconds) if seconds is not None else None})


def _shipped_by(cutoff: dt.datetime):
    day = cutoff.date()
    return or_(NeedRelease.released_on <= day,
               and_(NeedRelease.released_on.is_(None), NeedRelease.recorded_at <= cutoff))


def delivered_figures(session, settings: Settings, cutoff: dt.datetime, live: bool = False) -> DeliveredFigures:
    """The figures at ``cutoff``; ``live`` when the cut-off is now (the month in progress, asked without a
    ``now``): every need is then in the status it has, and no history is read (at 100,000 needs, two lookups a
    need were most of the page's time)."""
    rule = settings.notifications.delivered_on
    entries = select(StatusChange.status).where(StatusChange.need_id == Need.id)
    status_then = Need.status if live else func.coalesce(
        entries.where(StatusChange.at <= cutoff).order_by(StatusChange.at.desc(), StatusChange.id.desc())
        .limit(1).scalar_subquery(),
        entries.order_by(StatusChange.at, StatusChange.id).limit(1).scalar_subquery(), Need.status)
    done = status_then.in_(sorted(delivered_statuses(settings)))
    shipped = exists(select(NeedRelease.id).where(NeedRelease.need_id == Need.id, _shipped_by(cutoff)))
    delivered = {"done": done, "release": shipped, "both": or_(done, shipped)}[rule]
    revenue = func.coalesce(Customer.annual_revenue, 0)

    def total(value):  # a sum is numeric on PostgreSQL: back to whole numbers
        return cast(func.coalesce(func.sum(value), 0), BigInteger)

    row = session.execute(
        select(func.count(), total(case((delivered, 1), else_=0)), total(revenue),
               total(case((delivered, revenue), else_=0)))
        .select_from(Need).outerjoin(Customer, Customer.key == Need.customer).where(Need.reported_at < cutoff)
    ).one()
    first = (select(Need.reported_at, func.min(NeedRelease.released_on), func.min(NeedRelease.recorded_at))
             .join(NeedRelease, NeedRelease.need_id == Need.id)
             .where(Need.reported_at < cutoff, _shipped_by(cutoff)).group_by(Need.id, Need.reported_at))
    waits = []
    for reported_at, released_on, recorded_at in session.execute(first):
        moment = (dt.datetime.combine(released_on, dt.time(), dt.UTC) if released_on is not None
                  else recorded_at)
        reported = reported_at if reported_at.tzinfo else reported_at.replace(tzinfo=dt.UTC)
        waits.append(max(moment - reported, dt.timedelta(0)))
    return DeliveredFigures(rule=rule, needs=row[0], delivered=row[1], revenue=row[2], delivered_revenue=row[3],
                            shipped=len(waits), median_to_shipped=statistics.median(waits) if waits else None)
