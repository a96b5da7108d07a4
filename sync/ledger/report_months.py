"""Forgetting the VOC figures kept for closed months (``sync.report.cache``) on writes the triggers of migration
0015 do not watch but the figures read: a release recorded on needs, a customer's annual revenue changed."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from sync.ledger.store import ReportMonth

LOCK = 0x7265706F72747321
"""PostgreSQL advisory lock key ("reports!"), held shared by every write that forgets kept figures (the triggers
of migration 0015 and :func:`forget_kept_reports`) to the end of its transaction."""


def forget_kept_reports(session: Session) -> None:
    """Delete every month's kept figures in ``session``'s transaction, as the triggers do: a computation placed
    before keeps nothing, and on PostgreSQL the shared lock makes one placed while this write is in flight
    compute without keeping."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK})
    session.execute(delete(ReportMonth))
