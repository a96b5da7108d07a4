"""A closed month's VOC figures, kept once computed (``report_months``), until a write reaches back into the month.

The figures of a whole past month read every need's status at the month's end from its history, which costs
about as much as there are needs. A closed month's figures are the same on every request until a write
changes what the month's end knew; the triggers of migration 0015 delete the kept row on such writes,
whichever code makes them (its docstring lists them). The month in progress is always computed.

What is kept is the rows of the report's two statements (``sync.report.queries``), so that ``figures`` turns
kept and computed rows into figures the same way. A row is keyed by month, time zone, and the config and code the
figures depend on (:func:`settings_key`).

Keeping must not race with a write: the row is placed first, and the figures computed in a transaction that
starts after, so a write committed before is read and a write after deletes the row, and the figures are then
not kept. On PostgreSQL the triggers hold a shared advisory lock (:data:`LOCK`) to the end of their
transaction; placing takes it exclusively without waiting, and a write in flight means the figures are computed
but not kept. On SQLite placing is a write, which waits (briefly) for the writer in flight.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import uuid
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import OperationalError

from plugin.settings import Settings
from sync.ledger.report_months import LOCK  # noqa: F401  (the triggers of migration 0015 share it)
from sync.ledger.store import ReportMonth

log = logging.getLogger(__name__)


PLACE_WAIT_MS = 200
"""On SQLite: how long placing a row waits for another writer before the figures are computed but not kept."""

_TIMES = ("reported_at", "stopped_at")
"""The columns of the figures' rows that hold times (``queries.ROW``)."""


_DEFINING = ("report/figures.py", "report/queries.py", "report/shipped.py", "sla.py")
"""The code the figures are defined by, under ``sync/`` (read as files: importing them here would be a cycle)."""


@functools.cache
def _definitions() -> str:
    """A hash of the code that defines the figures: another release computes them anew."""
    package = Path(__file__).resolve().parent.parent
    return hashlib.sha256(b"".join((package / name).read_bytes() for name in _DEFINING)).hexdigest()


def settings_key(settings: Settings) -> str:
    """A hash of the config the figures depend on (statuses, urgencies with their SLA, categories) and of the code
    that defines them."""
    parts = [[item.model_dump(mode="json") for item in group]
             for group in (settings.statuses, settings.urgencies, settings.categories)]
    parts.append(settings.notifications.delivered_on)
    return hashlib.sha256(json.dumps([_definitions(), parts], sort_keys=True).encode()).hexdigest()


def kept_rows(runtime, month: str, timezone: str) -> tuple[list, list, dict | None] | None:
    """The kept rows of the two statements for ``month`` in ``timezone`` and the kept delivered figures (None
    when kept without them), or None when none are kept."""
    with runtime.Session() as session:
        figures = session.scalars(
            select(ReportMonth.figures).where(ReportMonth.month == month, ReportMonth.timezone == timezone,
                                              ReportMonth.settings_key == settings_key(runtime.settings),
                                              ReportMonth.figures.is_not(None))
            .order_by(ReportMonth.id.desc()).limit(1)).first()
    if figures is None:
        return None
    return ([_row(row) for row in figures["rows"]], [SimpleNamespace(**row) for row in figures["issues"]],
            figures.get("delivered"))


def place(runtime, month: str, timezone: str, end: dt.datetime) -> str | None:
    """Hold the place of ``month``'s figures about to be computed; its token, or None when a write is in flight
    (the figures are then computed but not kept)."""
    token = uuid.uuid4().hex
    row = ReportMonth(month=month, timezone=timezone, settings_key=settings_key(runtime.settings), end_at=end,
                      token=token)
    with runtime.Session() as session:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK}):
                return None
            session.add(row)
            session.commit()
            return token
        waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout={PLACE_WAIT_MS}")
        try:
            session.add(row)
            session.commit()
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            session.rollback()
            log.info("report %s (%s): another write is in flight; its figures are not kept", month, timezone)
            return None
        finally:
            session.connection().exec_driver_sql(f"PRAGMA busy_timeout={waited}")
    return token


def keep(runtime, token: str, month: str, timezone: str, rows, issues, delivered: dict | None = None) -> bool:
    """Keep the rows computed after :func:`place` gave ``token`` (and the ``delivered`` figures, plain), unless
    a write deleted the place since; the month's other rows (older config, abandoned places) go. True when
    kept."""
    figures = {"rows": [_plain(row._mapping) for row in rows], "issues": [dict(row._mapping) for row in issues],
               "delivered": delivered}
    with runtime.Session.begin() as session:
        kept = session.execute(update(ReportMonth).where(ReportMonth.token == token, ReportMonth.figures.is_(None))
                               .values(figures=figures)).rowcount
        if kept:
            session.execute(delete(ReportMonth).where(ReportMonth.month == month, ReportMonth.timezone == timezone,
                                                      ReportMonth.token != token))
    return bool(kept)


def _plain(mapping) -> dict:
    return {name: value.isoformat() if name in _TIMES and value is not None else value
            for name, value in mapping.items()}


def _row(plain: dict) -> SimpleNamespace:
    return SimpleNamespace(**{name: dt.datetime.fromisoformat(value) if name in _TIMES and value is not None
                              else value for name, value in plain.items()})
