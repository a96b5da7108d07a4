"""The figures of the monthly voice-of-customer (VOC) report, computed in the database (``sync.report.queries``).

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
- Delivered share (the north-star figure): needs raised up to the cut-off that were delivered at the
  cut-off, over all of them; the same share is also given for the month's needs alone. Delivered is done, or
  shipped in a release, or either, as ``notifications.delivered_on`` says (``sync.report.shipped``, which also
  weighs the share by the customers' annual revenue and gives the median time from report to shipped).

A closed month's figures are kept once computed, until a write reaches back into the month
(``sync.report.cache``); the month in progress is computed on every request.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import text

from plugin.settings import Settings
from sync.ledger.store import utcnow
from sync.report import cache
from sync.report.projects import project_figures
from sync.report.queries import ACCEPTANCE, month_figures, top_issues
from sync.report.shipped import DeliveredFigures, delivered_figures
from sync.sla import FIRST_RESPONSE, RESOLUTION, Timer, delivered_statuses

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
    delivered_figures: DeliveredFigures | None = None
    """The north star by ``notifications.delivered_on`` (``sync.report.shipped``), with the revenue-weighted
    share and the time to shipped."""
    projects: tuple = ()
    """The co-creation projects' section (``sync.report.projects.ProjectFigures``), computed for every report."""

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


MONTHS = ("1970-01", "9998-12")
"""The first and last month a report can be asked for."""


def month_bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """``2026-11`` -> the month's first instant and the next month's, in UTC; ValueError if malformed or outside
    :data:`MONTHS` (year 1 and 9999 have no instant before or after them in every time zone)."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = dt.date(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"{month!r} is not a month such as 2026-11") from exc
    if not MONTHS[0] <= f"{year:04d}-{number:02d}" <= MONTHS[1]:
        raise ValueError(f"{month!r} is outside the months reported on, {MONTHS[0]} to {MONTHS[1]}")
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    zone = ZoneInfo(timezone)

    def instant(day: dt.date) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)

    return instant(first), instant(following)


def durations(values: list[dt.timedelta]) -> Durations:
    """Median and 90th percentile (linear interpolation between closest ranks) of ``values``."""
    ordered = sorted(values)
    return order_statistics(len(ordered), ordered.__getitem__)


def order_statistics(count: int, at_rank: Callable[[int], dt.timedelta]) -> Durations:
    """Median and 90th percentile of ``count`` sorted durations, ``at_rank(rank)`` giving the one at ``rank``
    (from 0). Only ranks ``(count - 1) // 2``, ``count // 2``, ``9 * (count - 1) // 10`` and the next are
    asked for; the arithmetic is ``statistics.median``'s and ``statistics.quantiles(n=10,
    method="inclusive")``'s on seconds, so that figures do not depend on where the durations were sorted."""
    if not count:
        return Durations(0, None, None)

    def seconds(rank: int) -> float:
        return at_rank(rank).total_seconds()

    half = count // 2
    median = seconds(half) if count % 2 else (seconds(half - 1) + seconds(half)) / 2
    if count == 1:
        p90 = seconds(0)
    else:
        rank, delta = divmod(9 * (count - 1), 10)
        p90 = (seconds(rank) * (10 - delta) + seconds(rank + 1) * delta) / 10
    return Durations(count, dt.timedelta(seconds=median), dt.timedelta(seconds=p90))


def _in_order(counts: Counter, keys: list[str]) -> tuple[tuple[str, int], ...]:
    """Every configured key (zero included) in the config's order, then any other key found."""
    rest = sorted(key for key in counts if key not in keys)
    return tuple((key, counts.get(key, 0)) for key in [*keys, *rest])


def voc_report(runtime, month: str, *, timezone: str = "UTC", now: dt.datetime | None = None,
               kept: bool = True) -> VocReport:
    """Compute the VOC figures of ``month`` (``YYYY-MM``) in the database (``sync.report.queries``); a closed
    month's are kept once computed (``sync.report.cache``), unless ``kept`` is False (then they are computed
    from the history and not kept)."""
    settings = runtime.settings
    start, end = month_bounds(month, timezone)
    cutoff = min(end, now or utcnow())
    closed = kept and cutoff == end
    found = cache.kept_rows(runtime, month, timezone) if closed else None
    if found is not None and found[2] is not None:
        rows, issues, plain = found
        delivered = DeliveredFigures.from_plain(plain)
    else:
        token = cache.place(runtime, month, timezone, end) if closed else None
        rows, issues = _rows(runtime, start, cutoff)
        # These read every need too: a closed month keeps them with its rows.
        with runtime.Session() as session:
            delivered = delivered_figures(session, settings, cutoff, live=now is None and cutoff != end)
        if token is not None:
            cache.keep(runtime, token, month, timezone, rows, issues, delivered.plain())
    parts: dict[str, list] = {"status": [], "duration": [], "breach": [], "north_star": []}
    for row in rows:
        parts[row.part].append(row)
    [north_star] = parts["north_star"]
    categories, urgencies, statuses = Counter(), Counter(), Counter()
    for row in parts["status"]:
        categories[row.category] += row.count
        urgencies[row.urgency] += row.count
        statuses[row.status] += row.count
    delivered_keys = delivered_statuses(settings)
    to_acceptance, to_resolution = _durations(settings, parts["duration"])
    # Delivered as done keeps the month's figures' own count; shipped (or either) is counted by the releases.
    all_needs, all_delivered = ((north_star.count, north_star.delivered) if delivered.rule == "done"
                                else (delivered.needs, delivered.delivered))
    return VocReport(
        month=month, timezone=timezone, start=start, end=end, cutoff=cutoff, total=sum(statuses.values()),
        by_category=_in_order(categories, [item.key for item in settings.categories]),
        by_urgency=_in_order(urgencies, [item.key for item in settings.urgencies]),
        by_status=_in_order(statuses, [item.key for item in settings.statuses]),
        to_acceptance=to_acceptance, to_resolution=to_resolution,
        breaches=_breaches(settings, parts["breach"], start, cutoff), top_issues=_top_issues(issues),
        delivered=sum(count for key, count in statuses.items() if key in delivered_keys),
        all_needs=all_needs, all_delivered=all_delivered, delivered_figures=delivered,
        projects=project_figures(runtime, start, cutoff),
    )


def _rows(runtime, start: dt.datetime, cutoff: dt.datetime) -> tuple[list, list]:
    """The rows of the month's figures and of its most-requested issues, computed from the history."""
    with runtime.Session() as session:
        dialect = session.bind.dialect.name
        if dialect == "postgresql":
            # Row estimates over the statement's CTEs are poor: JIT compiling would cost more than the run.
            session.execute(text("SET LOCAL jit = off"))
        return (session.execute(month_figures(runtime.settings, start, cutoff, dialect)).all(),
                session.execute(top_issues(start, cutoff, TOP_ISSUES, dialect)).all())


def _durations(settings: Settings, rows) -> tuple[tuple[tuple[str, Durations], ...], ...]:
    """Time to acceptance and to resolution per urgency (configured ones first) from the ``duration`` rows."""
    ranks: dict[tuple[str, str], dict[int, dt.timedelta]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for row in rows:
        ranks.setdefault((row.sla, row.urgency), {})[row.rank] = dt.timedelta(microseconds=row.micros)
        sizes[row.sla, row.urgency] = row.count
    keys = [item.key for item in settings.urgencies]
    order = [*keys, *sorted({urgency for _measure, urgency in sizes} - set(keys))]
    return tuple(
        tuple((key, order_statistics(sizes.get((measure, key), 0), ranks.get((measure, key), {}).__getitem__))
              for key in order)
        for measure in (ACCEPTANCE, RESOLUTION))


def _breaches(settings: Settings, rows, start: dt.datetime, cutoff: dt.datetime) -> tuple[Breach, ...]:
    """The ``breach`` rows as timers (``sync.sla.Timer`` decides), by due time."""
    found = []
    for row in rows:
        sla = settings.urgency(row.urgency).sla
        seconds = sla.first_response if row.sla == FIRST_RESPONSE else sla.resolution
        timer = Timer(row.sla, row.reported_at, dt.timedelta(seconds=seconds), row.stopped_at is not None,
                      row.stopped_at)
        if start <= timer.due_at < cutoff and timer.breached(cutoff):
            found.append(Breach(row.ref, row.title, row.urgency, timer.sla, timer.due_at, timer.late_by(cutoff),
                                timer.state(cutoff) == "overdue"))
    return tuple(sorted(found, key=lambda breach: (breach.due_at, breach.ref, breach.sla)))


def _top_issues(rows) -> tuple[IssueDemand, ...]:
    """The ``top_issues`` rows (one per issue and customer) as issues, customers by their first need."""
    issues: dict[str, list] = {}
    for row in rows:
        issues.setdefault(row.issue_key, []).append(row)
    ranked = sorted(issues.values(), key=lambda asked: (-len(asked), -asked[0].needs, asked[0].issue_key))
    return tuple(
        IssueDemand(asked[0].issue_key, asked[0].issue_url, asked[0].title,
                    tuple(row.customer for row in sorted(asked, key=lambda row: row.first_id)),
                    asked[0].needs, asked[0].new)
        for asked in ranked)
