"""The /needs table at 100,000 needs on PostgreSQL: search reads a stored, lower-cased search text, and the
customer, owner and issue sorts have an index that ends in the id.

Search: the GIN ``pg_trgm`` index of 0005 was over an expression (the searched fields joined by spaces), so
every candidate row it found was rechecked by joining the fields again and matching with ILIKE, which folds
the case of multi-byte text row by row; for a word found in one need of eight that recheck was most of the
page's time. A stored generated column holds that text already lower-cased, the index is over the column, and
the query matches with LIKE: a fifth of the time for "csv export", a third less for a two-character Chinese
word that no trigram helps. SQLite keeps its FTS5 table; it has no such column.

Sorts: with a single-column index, PostgreSQL sorted every need of the first value (all of them, for the
issue key before any issue exists) to find the page's 50; an index on (column, id) hands them over in order,
and still serves the filter on the column. Category, urgency and status sort in the config's order, a key at
a time (``sync.table.paging``), each key's needs in id order through the same kind of index.

Revision ID: 0021_needs_search_and_sort
Revises: 0020_projects
"""

from alembic import op

revision = '0021_needs_search_and_sort'
down_revision = '0020_projects'
branch_labels = None
depends_on = None

SEARCH_TEXT = ("ref || ' ' || title || ' ' || description || ' ' || remarks || ' ' || customer || ' ' || "
               "reporter_name || ' ' || coalesce(reporter_email, '') || ' ' || coalesce(owner, '')")
"""The fields joined as 0005 joined them (``sync.ledger.search.SEARCH_FIELDS``)."""

SORTED = ("category", "urgency", "status", "customer", "owner", "issue_key")


def upgrade() -> None:
    for column in SORTED:
        op.drop_index(f"ix_needs_{column}", table_name="needs")
        op.create_index(f"ix_needs_{column}_id", "needs", [column, "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE needs ADD COLUMN search_lower text GENERATED ALWAYS AS (lower({SEARCH_TEXT})) STORED")
        op.execute("CREATE INDEX ix_needs_search_lower ON needs USING gin (search_lower gin_trgm_ops)")
        op.execute("DROP INDEX ix_needs_search")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_needs_search ON needs USING gin (({SEARCH_TEXT}) gin_trgm_ops)")
        op.execute("ALTER TABLE needs DROP COLUMN search_lower")  # drops its index too
    for column in SORTED:
        op.drop_index(f"ix_needs_{column}_id", table_name="needs")
        op.create_index(f"ix_needs_{column}", "needs", [column])
