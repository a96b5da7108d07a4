"""Search cases shared by the SQLite and PostgreSQL tests: four needs, and which of them each query finds.

The same table on both databases keeps the two indexes (FTS5 trigram, pg_trgm) and the short-word fallback
answering alike.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import column, insert, select
from sqlalchemy import table as sa_table

from sync.ledger.search import matching
from sync.ledger.store import Need

NEEDS = [
    {"title": "報表匯出很慢", "description": "客戶每天都要匯出報表。", "category": "reports",
     "customer": "acme"},
    {"title": "Invoices should show the tax number", "description": "The PDF invoice lacks it.",
     "remarks": "已回覆客戶", "customer": "globex", "owner": "Zhao Min"},
    {"title": "登入失敗", "description": "SSO login fails after the nightly sync", "reporter_name": "張三",
     "reporter_email": "zhang@initech.example", "customer": "initech", "owner": None},
    {"title": "100% 完成 a_b", "description": "", "customer": "initech"},
]
"""Filed in this order: N-0001 .. N-0004 (the rest as ``tests.factories.need_data`` has it)."""

CASES = [
    ("報表", ["N-0001"]),  # two characters: shorter than a trigram
    ("匯出", ["N-0001"]),
    ("報", ["N-0001"]),
    ("表匯出", ["N-0001"]),  # three: the index
    ("匯出報表", ["N-0001"]),  # in the description only
    ("invoice", ["N-0002"]),
    ("INVOICE", ["N-0002"]),
    ("tax Invoices", ["N-0002"]),  # every word, in any order
    ("tax pdf", ["N-0002"]),  # words in different fields
    ("invoice 登入", []),
    ("N-0003", ["N-0003"]),  # ref
    ("回覆", ["N-0002"]),  # remarks
    ("已回覆", ["N-0002"]),
    ("globex", ["N-0002"]),  # customer key
    ("Corp", ["N-0001"]),  # the configured name of customer acme
    ("張三", ["N-0003"]),  # reporter
    ("zhang@initech", ["N-0003"]),
    ("Zhao", ["N-0002"]),  # owner
    ("nightly", ["N-0003"]),
    ("%", ["N-0004"]),  # LIKE's wildcards are plain characters
    ("a_b", ["N-0004"]),
    ("_", ["N-0004"]),
    ('"', []),  # FTS5 query syntax is plain characters too
    ('"報表', []),
    ("NEAR(報表", []),
    ("報表*", []),
    ("", ["N-0001", "N-0002", "N-0003", "N-0004"]),
    ("   ", ["N-0001", "N-0002", "N-0003", "N-0004"]),
]
"""(query, refs found, oldest first)."""


def found(runtime, query: str) -> list[str]:
    """The refs of the needs ``query`` finds on ``runtime``'s store, oldest first."""
    condition = matching(query, runtime.engine.dialect.name, runtime.customers())
    with runtime.Session() as session:
        return list(session.scalars(select(Need.ref).where(condition).order_by(Need.id)))


def insert_needs(engine, count: int, start: int = 1) -> None:
    """``count`` needs written straight to the table (as an older Cocreate left them), refs from ``start``."""
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [dict(ref=f"N-{number:04d}", category="billing", title=f"舊的報表 {number}", description="匯出 old",
                 urgency="high", reporter_name="Li Na", reported_at=moment, status="new", remarks="",
                 customer="acme", created_at=moment, updated_at=moment, status_changed_at=moment,
                 sync_state="pending", synced_fields={}) for number in range(start, start + count)]
    # Only the columns an older schema had: the model's later columns (and their defaults) stay out.
    table = Need.__table__
    with engine.begin() as connection:
        older = sa_table(table.name, *(column(name, table.c[name].type) for name in rows[0]))
        connection.execute(insert(older), rows)
