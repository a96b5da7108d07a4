"""Search over needs: the words of the one box on /needs (``q=`` in the API), each found as a substring of a
need's text through the database's own index, which migrations 0005 and 0021 make and keep.

SQLite: an FTS5 table with the trigram tokenizer (``needs_search``), filled by triggers. PostgreSQL: a GIN
``pg_trgm`` index over a stored column holding the same fields joined by spaces and lower-cased
(``search_lower``; a word has no space, so it never matches across two fields). Both index three-character
substrings, so a word of one or two characters (報表, 匯出: Chinese words are often two) cannot use them; such
a word is a plain substring test (``instr`` on each field on SQLite, ``LIKE`` on ``search_lower`` on
PostgreSQL), one pass over the table.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy import text as text_clause

from plugin.customer import CustomerBook
from sync.ledger.store import Need

SEARCH_FIELDS = ("ref", "title", "description", "remarks", "customer", "reporter_name", "reporter_email", "owner")
"""What a search looks in, in the order migration 0005 indexes the fields."""

SEARCH_TABLES = frozenset({"needs_search", "needs_search_data", "needs_search_idx", "needs_search_config"})
"""On SQLite: the FTS5 table and the shadow tables FTS5 keeps for it; the index, not models of the schema."""

QUERY_MAX = 200
"""Longest query read; the box and the API say so."""
WORDS_MAX = 10
"""Each word is one more condition on every need; a query's words beyond this many are not searched for."""
TRIGRAM = 3
"""Shortest word the indexes can find."""

_FTS = table("needs_search", column("rowid"))
SEARCH_LOWER = literal_column("needs.search_lower")
"""PostgreSQL's generated column: ``SEARCH_FIELDS`` joined by spaces and lower-cased, kept by the database
(not mapped: SQLite has no such column, and no page reads it)."""


def modelled(name: str | None, type_: str, _parent_names: object = None) -> bool:
    """Alembic's ``include_name``: the schema compared with the models is everything but the search index (and,
    on PostgreSQL, the stored search text it indexes)."""
    return not ((type_ == "table" and name in SEARCH_TABLES) or (type_ == "column" and name == "search_lower")
                or (type_ == "index" and name == "ix_needs_search_lower"))


def words(query: str) -> list[str]:
    """The words of ``query``: split at white space, each once, NUL and lone surrogates (no store keeps them)
    taken as spaces, the first ``WORDS_MAX``."""
    cleaned = "".join(" " if char == "\x00" or "\ud800" <= char <= "\udfff" else char for char in query[:QUERY_MAX])
    return list(dict.fromkeys(cleaned.split()))[:WORDS_MAX]


def matching(query: str, dialect: str, customers: CustomerBook = CustomerBook()) -> ColumnElement[bool]:
    """Needs that contain every word of ``query``, ignoring case, in one of ``SEARCH_FIELDS``, or whose
    customer's name or an alias contains it; every need when the query has no word."""
    indexed, scanned = [], []
    for word in words(query):
        condition = _sqlite_word(word) if dialect == "sqlite" else _postgresql_word(word)
        keys = customers.keys_matching(word)
        (indexed if len(word) >= TRIGRAM else scanned).append(
            or_(condition, Need.customer.in_(keys)) if keys else condition)
    if dialect != "sqlite" and indexed:
        # PostgreSQL's planner, seeing ORDER BY id LIMIT 50, may walk the primary key and test every need against
        # the pattern instead of asking the index; a materialized CTE makes it ask the index first.
        found = select(Need.id).where(*indexed).cte("found").prefix_with("MATERIALIZED")
        indexed = [Need.id.in_(select(found.c.id))]
    return and_(true(), *indexed, *scanned)


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _caseless(word: str) -> bool:
    """Chinese, digits, punctuation: nothing to fold, so a match without case folding finds it."""
    return word.lower() == word.upper()


def _each_field(condition) -> ColumnElement[bool]:
    """``condition`` on any searched field: for a word no index helps, twice as fast as on the fields joined."""
    return or_(*(condition(getattr(Need, name)) for name in SEARCH_FIELDS))


def _sqlite_word(word: str) -> ColumnElement[bool]:
    if len(word) >= TRIGRAM:
        phrase = '"' + word.replace('"', '""') + '"'
        return Need.id.in_(select(_FTS.c.rowid).where(literal_column("needs_search").match(phrase)))
    if _caseless(word):  # a plain byte search, a quarter faster than LIKE
        return _each_field(lambda field: func.instr(field, word) > 0)
    # SQLite's LIKE ignores ASCII case.
    return _each_field(lambda field: field.like(_pattern(word), escape="\\"))


def _postgresql_word(word: str) -> ColumnElement[bool]:
    # The stored, lower-cased search text (migration 0021) and LIKE: its GIN index finds a word of three
    # characters or more, and the recheck neither joins the fields nor folds case again; a shorter word scans
    # that one column, still faster than joining the fields.
    return SEARCH_LOWER.like(func.lower(_pattern(word)), escape="\\")


def distinct_values(session, column) -> list:
    """The distinct non-null values of an indexed ``column``, in order, one index probe each (a "loose index
    scan"): ``SELECT DISTINCT`` reads every need, 20 ms at 100,000 needs on PostgreSQL, which has no skip scan;
    this takes half a millisecond for the few customers or owners a team has."""
    name, table = column.name, column.table.name
    return list(session.scalars(text_clause(
        f"WITH RECURSIVE found(value) AS (SELECT min({name}) FROM {table} UNION ALL "
        f"SELECT (SELECT min({name}) FROM {table} WHERE {name} > found.value) FROM found "
        "WHERE found.value IS NOT NULL) SELECT value FROM found WHERE value IS NOT NULL")))
