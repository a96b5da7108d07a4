"""The VOC report's SQL: one statement for the month's figures, one for the most-requested issues.

The figures keep the definitions ``sync.report.figures`` states; this is how the database reaches them
without loading needs into Python:

- Status at the cut-off: a need is in the status it is in now unless its history has an entry after the
  cut-off (intake, the tracker sync and the table import change a need's status and add its history entry
  in one transaction); for those, the status of the last entry known at the cut-off, or of the first
  when the need entered Cocreate later (``sla.history_until``). The north star counts the needs delivered
  now and corrects the count by those needs, rather than joining them to every need.
- Timers and durations are read for the candidates only: needs raised in the month, or with an SLA timer
  due in it (raised that target before). Their history is read in (at, id) order with the status of the
  entry before each (a window function); of the entries known at the cut-off, the first answer
  (``sla.responded``) is the earliest leaving the initial status after an initial one or none, the stop of
  resolution (``sla.resolved``) the latest reaching a closed status after an open one or none; its time is
  unknown when that entry came from an import. (Entries of one need do not share a time: each is written
  by its own transaction at its own clock reading.)
- Medians and 90th percentiles: the durations are ranked (ROW_NUMBER) over exact microseconds, and only the
  ranks the two figures read come back; ``figures.order_statistics`` interpolates as ``statistics`` does.
  PostgreSQL's ``percentile_cont`` is not used: it rounds the interpolation differently, by a microsecond.
- SLA breaches come back as the timers that were late or still running; ``sync.sla.Timer`` then decides.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from plugin.settings import Settings
from sync.ledger.store import Need, StatusChange, UtcDateTime
from sync.sla import FIRST_RESPONSE, RESOLUTION, closed_statuses, delivered_statuses

ACCEPTANCE = "acceptance"
"""The ``sla`` column of a duration row: time to acceptance (the other is :data:`RESOLUTION`)."""


class elapsed_micros(FunctionElement):
    """Whole microseconds from the second timestamp to the first, exact on SQLite (text) and PostgreSQL."""

    type = BigInteger()
    inherit_cache = True
    name = "elapsed_micros"


@compiles(elapsed_micros)
def _elapsed_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later}) - ({earlier})) * 1000000 AS BIGINT)"


@compiles(elapsed_micros, "sqlite")
def _elapsed_sqlite(element, compiler, **kw):
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff'. Its date functions keep milliseconds (rounded: .9996 s is the
    # next second), so the whole seconds and the fraction are read apart.
    def micros(moment: str) -> str:
        return (f"(CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER) * 1000000 "
                f"+ CAST(round(CAST(substr({moment}, 20) AS REAL) * 1000000) AS INTEGER))")

    later, earlier = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"({micros(later)} - {micros(earlier)})"


def _targets(settings: Settings, sla: str) -> list[tuple[str, int]]:
    """``(urgency, seconds)`` of every urgency with a target for ``sla``."""
    field = "first_response" if sla == FIRST_RESPONSE else "resolution"
    return [(item.key, getattr(item.sla, field)) for item in settings.urgencies if getattr(item.sla, field)]


def _due_between(settings: Settings, sla: str, start: dt.datetime, cutoff: dt.datetime, needs):
    """The ``needs`` (Need or a selection of its columns) whose ``sla`` timer is due in [start, cutoff), both
    timers starting when the need was raised; None when no urgency has that target."""
    windows = [and_(needs.urgency == key, needs.reported_at >= start - dt.timedelta(seconds=seconds),
                    needs.reported_at < cutoff - dt.timedelta(seconds=seconds))
               for key, seconds in _targets(settings, sla)]
    return or_(*windows) if windows else None


def _changed_since(cutoff: dt.datetime, dialect: str):
    """The needs raised before the cut-off with a history entry after it, with their status at the cut-off:
    that of their last entry known then (``sla.history_until``), and their status now. Every other need is in
    the status it is in now.

    Right after a large import every need has an entry after the cut-off of any past month, so this can be
    every need. SQLite looks each one's entry up in the (need_id, at, id) index, which is quickest there;
    PostgreSQL makes one ordered pass over their history, where the first entry in the order below is the
    last one known at the cut-off, or the need's first entry when it entered Cocreate later (measured at
    100,000 needs: a third less time than the lookups)."""
    entry = StatusChange
    after = StatusChange.__table__.alias("after_cutoff")
    if dialect == "postgresql":
        known = entry.at <= cutoff
        order = (case((known, entry.at)).desc().nulls_last(), case((known, entry.id)).desc().nulls_last(),
                 entry.at, entry.id)
        ranked = (select(entry.need_id, entry.status, Need.status.label("status_now"),
                         func.row_number().over(partition_by=entry.need_id, order_by=order).label("place"))
                  .join(Need, Need.id == entry.need_id)
                  .where(Need.reported_at < cutoff, entry.need_id.in_(select(after.c.need_id)
                                                                     .where(after.c.at > cutoff)))
                  .subquery("ranked_history"))
        return (select(ranked.c.need_id.label("id"), ranked.c.status, ranked.c.status_now)
                .where(ranked.c.place == 1).cte("changed_since").prefix_with("MATERIALIZED"))
    changed = (select(after.c.need_id.label("id"), Need.status.label("status_now"))
               .join(Need, Need.id == after.c.need_id)
               .where(after.c.at > cutoff, Need.reported_at < cutoff).distinct().subquery("changed"))
    known_last = (select(entry.status).where(entry.need_id == changed.c.id, entry.at <= cutoff)
                  .order_by(entry.at.desc(), entry.id.desc()).limit(1).scalar_subquery())
    first = (select(entry.status).where(entry.need_id == changed.c.id).order_by(entry.at, entry.id).limit(1)
             .scalar_subquery())
    return (select(changed.c.id, func.coalesce(known_last, first).label("status"), changed.c.status_now)
            .cte("changed_since").prefix_with("MATERIALIZED"))


def _candidates(settings: Settings, start: dt.datetime, cutoff: dt.datetime):
    """The needs raised before the cut-off that are in the month or have an SLA timer due in it."""
    due = [window for sla in (FIRST_RESPONSE, RESOLUTION)
           if (window := _due_between(settings, sla, start, cutoff, Need)) is not None]
    longest = max((seconds for sla in (FIRST_RESPONSE, RESOLUTION) for _key, seconds in _targets(settings, sla)),
                  default=0)
    picked = select(Need.id, Need.ref, Need.title, Need.category, Need.urgency, Need.status, Need.reported_at,
                    case((Need.reported_at >= start, 1), else_=0).label("in_month"))
    # The range alone first, so that an index on reported_at can serve it.
    return picked.where(Need.reported_at >= start - dt.timedelta(seconds=longest), Need.reported_at < cutoff,
                        or_(Need.reported_at >= start, *due)).cte("candidates")


def _history_facts(settings: Settings, candidates, cutoff: dt.datetime):
    """One row per candidate with history: when it was first answered and when it last reached a closed status,
    as known at the cut-off, and those times again if the entry did not come from an import."""
    entry = StatusChange
    order = {"partition_by": entry.need_id, "order_by": (entry.at, entry.id)}
    marks = select(entry.need_id, entry.status, entry.source, entry.at,
                   func.lag(entry.status).over(**order).label("before"),
                   ).where(entry.need_id.in_(select(candidates.c.id))).subquery("marks")
    closed = closed_statuses(settings)
    initial = settings.initial_status
    answer = and_(marks.c.status != initial, or_(marks.c.before.is_(None), marks.c.before == initial))
    settle = and_(marks.c.status.in_(closed), or_(marks.c.before.is_(None), marks.c.before.not_in(closed)))
    timed = marks.c.source != "import"
    return select(
        marks.c.need_id,
        func.min(case((answer, marks.c.at))).label("answer_at"),
        func.min(case((and_(answer, timed), marks.c.at))).label("timed_answer_at"),
        func.max(case((settle, marks.c.at))).label("settle_at"),
        func.max(case((and_(settle, timed), marks.c.at))).label("timed_settle_at"),
    ).where(or_(marks.c.at <= cutoff, marks.c.before.is_(None)), or_(answer, settle)
            ).group_by(marks.c.need_id).subquery("facts")


def _states(settings: Settings, start: dt.datetime, cutoff: dt.datetime, changed_since):
    """The candidates with their state at the cut-off; stop times are NULL when not stopped or unknown."""
    candidates = _candidates(settings, start, cutoff)
    facts = _history_facts(settings, candidates, cutoff)
    status = func.coalesce(changed_since.c.status, candidates.c.status)
    resolved = and_(facts.c.need_id.is_not(None), status.in_(closed_statuses(settings)))
    return select(
        candidates, status.label("status_then"),
        case((facts.c.answer_at.is_not(None), 1), else_=0).label("answered"),
        case((facts.c.timed_answer_at == facts.c.answer_at, facts.c.answer_at)).label("answered_at"),
        case((resolved, 1), else_=0).label("resolved"),
        case((and_(resolved, facts.c.timed_settle_at == facts.c.settle_at), facts.c.settle_at)
             ).label("resolved_at"),
    ).select_from(candidates.outerjoin(facts, facts.c.need_id == candidates.c.id)
                  .outerjoin(changed_since, changed_since.c.id == candidates.c.id)
                  ).cte("states").prefix_with("MATERIALIZED")


ROW = {"part": String(), "sla": String(), "urgency": String(), "category": String(), "status": String(),
       "ref": String(), "title": String(), "count": BigInteger(), "delivered": BigInteger(), "rank": BigInteger(),
       "micros": BigInteger(), "reported_at": UtcDateTime(), "stopped_at": UtcDateTime()}
"""The columns every row of :func:`month_figures` has; ``part`` says which are set."""


def _row(part: str, **columns):
    """The select list of one part of the union: its columns, NULL (typed) for the others."""
    return [literal(part, String()).label("part")] + [
        (columns[name] if name in columns else cast(null(), kind)).label(name)
        for name, kind in ROW.items() if name != "part"]


def _status_counts(states):
    """``status`` rows: the month's needs by urgency, category and status at the cut-off."""
    return select(*_row("status", urgency=states.c.urgency, category=states.c.category,
                        status=states.c.status_then, count=func.count())
                  ).where(states.c.in_month == 1).group_by(states.c.urgency, states.c.category,
                                                           states.c.status_then)


def _duration_ranks(states):
    """``duration`` rows: per urgency and measure (``sla``), the durations at the ranks the median and 90th
    percentile read (``rank`` from 0 among ``count``)."""
    timed = union_all(*(
        select(literal(measure, String()).label("sla"), states.c.urgency,
               elapsed_micros(stop, states.c.reported_at).label("micros"))
        .where(states.c.in_month == 1, stop.is_not(None))
        for measure, stop in ((ACCEPTANCE, states.c.answered_at), (RESOLUTION, states.c.resolved_at)))
    ).subquery("timed")
    group = {"partition_by": (timed.c.sla, timed.c.urgency)}
    ranked = select(timed, (func.row_number().over(order_by=timed.c.micros, **group) - 1).label("rank"),
                    func.count().over(**group).label("count")).subquery("ranked")
    size, rank = ranked.c["count"], ranked.c.rank
    p90 = 9 * (size - 1) // 10
    return select(*_row("duration", sla=ranked.c.sla, urgency=ranked.c.urgency, count=size, rank=rank,
                        micros=ranked.c.micros)
                  ).where(or_(rank == (size - 1) // 2, rank == size // 2, rank == p90, rank == p90 + 1))


def _breach_timers(settings: Settings, states, start: dt.datetime, cutoff: dt.datetime):
    """``breach`` rows: the SLA timers due in the month that were not met by the cut-off (``stopped_at``: when the
    timer stopped, NULL if it had not); a timer stopped at an unknown time is never a breach."""
    parts = []
    for sla, stopped, stopped_at in ((FIRST_RESPONSE, states.c.answered, states.c.answered_at),
                                     (RESOLUTION, states.c.resolved, states.c.resolved_at)):
        targets = _targets(settings, sla)
        if not targets:
            continue
        target = case(*((states.c.urgency == key, seconds * 1_000_000) for key, seconds in targets))
        due = _due_between(settings, sla, start, cutoff, states.c)
        late = or_(stopped == 0, and_(stopped_at.is_not(None), or_(
            stopped_at > cutoff, elapsed_micros(stopped_at, states.c.reported_at) > target)))
        parts.append(select(*_row("breach", sla=literal(sla, String()), urgency=states.c.urgency,
                                  ref=states.c.ref, title=states.c.title, reported_at=states.c.reported_at,
                                  stopped_at=stopped_at)).where(due, late))
    return parts


def _north_star(settings: Settings, changed_since, cutoff: dt.datetime):
    """The ``north_star`` row: needs raised before the cut-off, and how many were delivered at the cut-off: those
    delivered now, corrected by the needs whose status changed since."""
    delivered = delivered_statuses(settings)

    def one_if(condition):
        return case((condition, 1), else_=0)

    correction = (select(func.sum(one_if(changed_since.c.status.in_(delivered))
                                  - one_if(changed_since.c.status_now.in_(delivered))))
                  .scalar_subquery())
    return (select(*_row("north_star", count=func.count(),
                         delivered=func.coalesce(func.sum(one_if(Need.status.in_(delivered))), 0)
                         + func.coalesce(correction, 0)))
            .where(Need.reported_at < cutoff))


def month_figures(settings: Settings, start: dt.datetime, cutoff: dt.datetime, dialect: str = "sqlite"):
    """The statement behind the month's figures: rows of the :data:`ROW` columns, ``part`` one of ``status``,
    ``duration``, ``breach`` and ``north_star`` (see each part's function)."""
    changed_since = _changed_since(cutoff, dialect)
    states = _states(settings, start, cutoff, changed_since)
    return union_all(_status_counts(states), _duration_ranks(states),
                     *_breach_timers(settings, states, start, cutoff), _north_star(settings, changed_since, cutoff))


def top_issues(start: dt.datetime, cutoff: dt.datetime, limit: int, dialect: str):
    """The ``limit`` issues most customers asked for in needs raised before the cut-off (then most needs, then
    by key as Python orders text): one row per issue and customer, ``first_id`` the customer's first need
    of it, with the title of the issue's first need and the first link a need gave it (else the last need's
    empty one)."""
    # Grouped by an expression: SQLite then reads the table in order, not a need at a time through the index.
    issue_key = func.coalesce(Need.issue_key, "")
    has_url = func.coalesce(Need.issue_url, "") != ""
    asked = select(issue_key.label("issue_key"), Need.customer, func.count().label("needs"),
                   func.sum(case((Need.reported_at >= start, 1), else_=0)).label("new"),
                   func.min(Need.id).label("first_id"), func.max(Need.id).label("last_id"),
                   func.min(case((has_url, Need.id))).label("url_id"),
                   ).where(issue_key != "", Need.reported_at < cutoff).group_by(issue_key, Need.customer
                                                                                ).cte("asked")
    # On PostgreSQL a sum of counts is numeric: cast back to whole numbers.
    customers, needs = func.count().label("customers"), cast(func.sum(asked.c.needs), BigInteger).label("needs")
    key = asked.c.issue_key.collate("C") if dialect == "postgresql" else asked.c.issue_key
    ranked = select(asked.c.issue_key, customers, needs, cast(func.sum(asked.c.new), BigInteger).label("new"),
                    func.min(asked.c.first_id).label("title_id"), func.max(asked.c.last_id).label("last_id"),
                    func.min(asked.c.url_id).label("url_id"),
                    ).group_by(asked.c.issue_key).order_by(customers.desc(), needs.desc(), key
                                                           ).limit(limit).cte("ranked")
    title, url = Need.__table__.alias("title_need"), Need.__table__.alias("url_need")
    return (select(ranked.c.issue_key, ranked.c.needs, ranked.c.new, asked.c.customer, asked.c.first_id,
                   title.c.title, url.c.issue_url)
            .select_from(ranked.join(asked, asked.c.issue_key == ranked.c.issue_key)
                         .join(title, title.c.id == ranked.c.title_id)
                         .join(url, url.c.id == func.coalesce(ranked.c.url_id, ranked.c.last_id))))
