"""The figures of the monthly voice-of-customer (VOC) report, computed from the store.

Which needs count, and as of when:

- The month's needs are those the customer raised in the month (``reported_at`` in the month, in the
  report's time zone). Their status is the one they had at the cut-off: the end of the month, or now
  for the month in progress (from the status history).
- Time to acceptance: from ``reported_at`` to the need's first move out of the initial status; time to
  resolution: to a closed status (done or declined) it is still in at the cut-off. Needs still waiting, and
  moves set by a table import (whose time is unknown), are not timed. Median and 90th percentile, the
  percentile by linear interpolation between closest ranks (``statistics.quantiles(method="inclusive")``,
  numpy's default).
- SLA breaches: every timer (see ``sync.sla``) due within the month that was late or still running at the
  cut-off, whatever month the need was raised in.
- Most-requested issues: tracker issues ranked by how many distinct customers asked for them (every need
  raised up to the cut-off), then by needs.
- Delivered share (the north-star figure): needs raised up to the cut-off that were delivered (done) at the
  cut-off, over all of them; the same share is also given for the month's needs alone.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plugin.settings import Settings
from sync.ledger.store import Need, utcnow
from sync.sla import delivered_statuses, history_until, resolved, responded, timers

TOP_ISSUES = 10


@dataclass(frozen=True)
class Durations:
    """How long something took over ``count`` needs: median and 90th percentile (None when count is 0)."""

    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


@dataclass(frozen=True)
class Breach:
    ref: str
    title: str
    urgency: str
    sla: str
    due_at: dt.datetime
    late_by: dt.timedelta
    still_open: bool


@dataclass(frozen=True)
class IssueDemand:
    issue_key: str
    issue_url: str | None
    title: str
    customers: tuple[str, ...]
    needs: int
    new_in_month: int


@dataclass(frozen=True)
class VocReport:
    """The figures of one month; every count list is ``(key, count)`` in the config's order."""

    month: str
    timezone: str
    start: dt.datetime
    end: dt.datetime
    cutoff: dt.datetime
    total: int
    by_category: tuple[tuple[str, int], ...]
    by_urgency: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    to_acceptance: tuple[tuple[str, Durations], ...]
    to_resolution: tuple[tuple[str, Durations], ...]
    breaches: tuple[Breach, ...]
    top_issues: tuple[IssueDemand, ...]
    delivered: int
    all_needs: int
    all_delivered: int

    @property
    def delivered_share(self) -> float | None:
        """Share of the month's needs delivered at the cut-off."""
        return self.delivered / self.total if self.total else None

    @property
    def north_star(self) -> float | None:
        """Share of every need raised up to the cut-off that was delivered at the cut-off."""
        return self.all_delivered / self.all_needs if self.all_needs else None

    def breach_count(self, urgency: str, sla: str) -> int:
        return sum(1 for breach in self.breaches if breach.urgency == urgency and breach.sla == sla)


def month_bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """``2026-11`` -> the month's first instant and the next month's, in UTC; ValueError if malformed."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = dt.date(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"{month!r} is not a month such as 2026-11") from exc
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    zone = ZoneInfo(timezone)

    def instant(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)

    return instant(first), instant(following)


def durations(values: list[dt.timedelta]) -> Durations:
    """Median and 90th percentile (linear interpolation between closest ranks) of ``values``."""
    if not values:
        return Durations(0, None, None)
    seconds = sorted(value.total_seconds() for value in values)
    p90 = seconds[0] if len(seconds) == 1 else statistics.quantiles(seconds, n=10, method="inclusive")[8]
    return Durations(len(seconds), dt.timedelta(seconds=statistics.median(seconds)), dt.timedelta(seconds=p90))


def _in_order(counts: Counter, keys: list[str]) -> tuple[tuple[str, int], ...]:
    """Every configured key (zero included) in the config's order, then any other key found."""
    rest = sorted(key for key in counts if key not in keys)
    return tuple((key, counts.get(key, 0)) for key in [*keys, *rest])


def voc_report(runtime, month: str, *, timezone: str = "UTC", now: dt.datetime | None = None) -> VocReport:
    """Compute the VOC figures of ``month`` (``YYYY-MM``) from the store."""
    start, end = month_bounds(month, timezone)
    cutoff = min(end, now or utcnow())
    with runtime.Session() as session:
        needs = session.scalars(select(Need).where(Need.reported_at < cutoff)
                                .options(selectinload(Need.history)).order_by(Need.id)).all()
        return build_report(runtime.settings, needs, month, timezone, start, end, cutoff)


def build_report(settings: Settings, needs: list[Need], month: str, timezone: str, start: dt.datetime,
                 end: dt.datetime, cutoff: dt.datetime) -> VocReport:
    """The figures over ``needs`` (each with its history loaded), all raised before ``cutoff``."""
    delivered_keys = delivered_statuses(settings)
    urgency_keys = [item.key for item in settings.urgencies]
    categories: Counter = Counter()
    urgencies: Counter = Counter()
    statuses: Counter = Counter()
    accepted: dict[str, list[dt.timedelta]] = {}
    closed: dict[str, list[dt.timedelta]] = {}
    breaches: list[Breach] = []
    issues: dict[str, dict] = {}
    total = delivered = all_delivered = 0
    for need in needs:
        history = history_until(need.history, cutoff)
        stops = responded(settings, history), resolved(settings, history)
        status = history[-1].status if history else need.status
        in_month = start <= need.reported_at < end
        if status in delivered_keys:
            all_delivered += 1
        if in_month:
            total += 1
            delivered += status in delivered_keys
            categories[need.category] += 1
            urgencies[need.urgency] += 1
            statuses[status] += 1
            for (stopped, at), bucket in zip(stops, (accepted, closed), strict=True):
                if stopped and at is not None:
                    bucket.setdefault(need.urgency, []).append(at - need.reported_at)
        for timer in timers(settings, need, stops=stops):
            if start <= timer.due_at < cutoff and timer.breached(cutoff):
                breaches.append(Breach(need.ref, need.title, need.urgency, timer.sla, timer.due_at,
                                       timer.late_by(cutoff), timer.state(cutoff) == "overdue"))
        if need.issue_key:
            issue = issues.setdefault(need.issue_key, {"url": need.issue_url, "title": need.title,
                                                       "customers": {}, "needs": 0, "new": 0})
            issue["customers"].setdefault(need.customer, None)
            issue["needs"] += 1
            issue["new"] += in_month
            issue["url"] = issue["url"] or need.issue_url
    ranked = sorted(issues.items(), key=lambda item: (-len(item[1]["customers"]), -item[1]["needs"], item[0]))
    urgency_order = [*urgency_keys, *sorted((set(accepted) | set(closed)) - set(urgency_keys))]
    return VocReport(
        month=month, timezone=timezone, start=start, end=end, cutoff=cutoff, total=total,
        by_category=_in_order(categories, [item.key for item in settings.categories]),
        by_urgency=_in_order(urgencies, urgency_keys),
        by_status=_in_order(statuses, [item.key for item in settings.statuses]),
        to_acceptance=tuple((key, durations(accepted.get(key, []))) for key in urgency_order),
        to_resolution=tuple((key, durations(closed.get(key, []))) for key in urgency_order),
        breaches=tuple(sorted(breaches, key=lambda breach: (breach.due_at, breach.ref, breach.sla))),
        top_issues=tuple(
            IssueDemand(key, value["url"], value["title"], tuple(value["customers"]), value["needs"], value["new"])
            for key, value in ranked[:TOP_ISSUES]),
        delivered=delivered, all_needs=len(needs), all_delivered=all_delivered,
    )
