"""Report test data and the reference the database's figures are held against.

``fill_needs`` stores needs with made-up but well-formed histories (distinct times to the microsecond, the
need's status that of its last entry, as Cocreate writes them), with every case the report's definitions
name: imports, reopened needs, done then declined, entries after the cut-off, needs that entered Cocreate
after they were raised, needs without history, keys the config does not know.

``reference_report`` computes the same figures the plain way, need by need in Python from the status
history (``sync.sla``): the definitions as the report computed them before it asked the database.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plugin.settings import Settings
from sync.ledger.store import Need, NeedRelease, StatusChange
from sync.report.figures import TOP_ISSUES, Breach, Durations, IssueDemand, VocReport, month_bounds
from sync.report.shipped import DeliveredFigures
from sync.sla import delivered_statuses, history_until, live_state, resolved, responded, timers

FIRST = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
LAST = dt.datetime(2027, 1, 5, tzinfo=dt.UTC)


def _moment(rng: random.Random, after: dt.datetime, hours: float) -> dt.datetime:
    """A time after ``after``: exponential, about ``hours`` on average, to the microsecond (some at .999999)."""
    moment = after + dt.timedelta(hours=rng.expovariate(1 / hours), microseconds=1)
    return moment.replace(microsecond=999_999) if rng.random() < 0.1 else moment


def _history(rng: random.Random, reported: dt.datetime) -> list[tuple[str, str, dt.datetime]]:
    """``(status, source, at)`` entries in time order (possibly none)."""
    if rng.random() < 0.05:
        return []
    first = reported if rng.random() < 0.85 else _moment(rng, reported, 24 * 30)  # entered Cocreate later
    if rng.random() < 0.1:
        return [(rng.choice(["new", "accepted", "done", "declined"]), "import", first)]
    entries = [("new", rng.choice(["cs", "import"]), first)]
    for _step in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5])):
        status = rng.choice(["new", "accepted", "scheduled", "in_progress", "done", "done", "declined"])
        if status != entries[-1][0]:
            source = rng.choices(["tracker", "cs", "import"], [6, 2, 1])[0]
            entries.append((status, source, _moment(rng, entries[-1][2], rng.choice([2, 12, 48, 24 * 6]))))
    return entries


def fill_needs(runtime, count: int = 300, seed: int = 15) -> None:
    """Store ``count`` needs raised between September and December 2026 (see the module's docstring)."""
    rng = random.Random(seed)
    span = (dt.datetime(2026, 12, 31, tzinfo=dt.UTC) - FIRST).total_seconds()
    with runtime.Session.begin() as session:
        for number in range(1, count + 1):
            reported = FIRST + dt.timedelta(seconds=rng.random() * span)
            entries = _history(rng, reported)
            issue = rng.choice([None, None, "CS-1", "CS-2", "CS-3", "CS-10", "GH-7", "cs-1", ""])
            need = Need(ref=f"N-{number:04d}", category=rng.choice(["billing", "reports", "legacy"]),
                        title=f"Need {number}", description="", reporter_name="Li Na", reported_at=reported,
                        urgency=rng.choices(["critical", "high", "medium", "low", "urgent-old"], [3, 3, 2, 2, 1])[0],
                        status=entries[-1][0] if entries else rng.choice(["new", "done"]),
                        customer=rng.choice(["acme", "globex", "initech"]), owner=None, issue_key=issue,
                        issue_url=rng.choice([None, "", f"https://jira.example/browse/{issue}"]) if issue else None,
                        created_at=entries[0][2] if entries else reported)
            previous = None
            for status, source, moment in entries:
                need.history.append(StatusChange(status=status, previous=previous, source=source, at=moment))
                previous = status
            session.add(need)


def _durations(values: list[dt.timedelta]) -> Durations:
    """The definition of the report's median and 90th percentile, straight from ``statistics``."""
    if not values:
        return Durations(0, None, None)
    seconds = sorted(value.total_seconds() for value in values)
    p90 = seconds[0] if len(seconds) == 1 else statistics.quantiles(seconds, n=10, method="inclusive")[8]
    return Durations(len(seconds), dt.timedelta(seconds=statistics.median(seconds)), dt.timedelta(seconds=p90))


def _in_order(counts: Counter, keys: list[str]) -> tuple[tuple[str, int], ...]:
    rest = sorted(key for key in counts if key not in keys)
    return tuple((key, counts.get(key, 0)) for key in [*keys, *rest])


def reference_report(runtime, month: str, *, timezone: str, now: dt.datetime) -> VocReport:
    """The VOC figures of ``month`` computed need by need in Python (see the module's docstring)."""
    settings: Settings = runtime.settings
    start, end = month_bounds(month, timezone)
    cutoff = min(end, now)
    with runtime.Session() as session:
        needs = session.scalars(select(Need).where(Need.reported_at < cutoff)
                                .options(selectinload(Need.history)).order_by(Need.id)).all()
    delivered_keys = delivered_statuses(settings)
    urgency_keys = [item.key for item in settings.urgencies]
    categories, urgencies, statuses = Counter(), Counter(), Counter()
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
        all_delivered += status in delivered_keys
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
        to_acceptance=tuple((key, _durations(accepted.get(key, []))) for key in urgency_order),
        to_resolution=tuple((key, _durations(closed.get(key, []))) for key in urgency_order),
        breaches=tuple(sorted(breaches, key=lambda breach: (breach.due_at, breach.ref, breach.sla))),
        top_issues=tuple(
            IssueDemand(key, value["url"], value["title"], tuple(value["customers"]), value["needs"], value["new"])
            for key, value in ranked[:TOP_ISSUES]),
        delivered=delivered, all_needs=len(needs), all_delivered=all_delivered,
        delivered_figures=reference_delivered(runtime, needs, cutoff),
    )


def reference_delivered(runtime, needs: list[Need], cutoff: dt.datetime) -> DeliveredFigures:
    """``sync.report.shipped``'s figures need by need: delivered as done at the cut-off, or shipped in a release
    dated by then (``notifications.delivered_on``), counted and weighted by the customer's annual revenue."""
    settings: Settings = runtime.settings
    rule = settings.notifications.delivered_on
    book = runtime.customers()
    with runtime.Session() as session:
        releases = session.scalars(select(NeedRelease)).all()
    shipped_at: dict[int, dt.datetime] = {}
    for release in releases:
        if release.released_on is not None and release.released_on <= cutoff.date():
            moment = dt.datetime.combine(release.released_on, dt.time(), dt.UTC)
        elif release.released_on is None and release.recorded_at <= cutoff:
            moment = release.recorded_at
        else:
            continue
        shipped_at[release.need_id] = min(moment, shipped_at.get(release.need_id, moment))
    delivered = revenue = delivered_revenue = 0
    waits = []
    for need in needs:
        history = history_until(need.history, cutoff)
        done = (history[-1].status if history else need.status) in delivered_statuses(settings)
        shipped = need.id in shipped_at
        weight = (book.get(need.customer).annual_revenue or 0) if book.get(need.customer) else 0
        counted = {"done": done, "release": shipped, "both": done or shipped}[rule]
        delivered += counted
        revenue += weight
        delivered_revenue += weight if counted else 0
        if shipped:
            waits.append(max(shipped_at[need.id] - need.reported_at, dt.timedelta(0)))
    return DeliveredFigures(rule, len(needs), delivered, revenue, delivered_revenue, len(waits),
                            statistics.median(waits) if waits else None)


def reference_overdue(runtime, now: dt.datetime) -> list[tuple[str, object]]:
    """``(ref, live state)`` of every need overdue ``now``, reading each need (the one due first first)."""
    with runtime.Session() as session:
        needs = session.scalars(select(Need).order_by(Need.id)).all()
    found = [(need, live_state(runtime.settings, need, now)) for need in needs]
    return [(need.ref, state) for need, state in sorted(
        ((need, state) for need, state in found if state.overdue), key=lambda item: (item[1].due_at, item[0].id))]


CASES = [(month, zone, now)
         for month in ("2026-08", "2026-09", "2026-10", "2026-11", "2026-12")
         for zone in ("UTC", "Asia/Shanghai", "America/Los_Angeles")
         for now in (dt.datetime(2026, 11, 14, 10, 30, tzinfo=dt.UTC), LAST)]
"""``(month, time zone, now)`` to compare: before the data, a month in progress, past months, all zones."""
