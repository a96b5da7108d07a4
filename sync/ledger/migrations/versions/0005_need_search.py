"""Search over needs, and the indexes the /needs table sorts and pages by at 100,000 needs.

The search index is the database's own: on SQLite an FTS5 table with the trigram tokenizer (any substring of
three characters or more, Chinese included), kept in step with ``needs`` by triggers; on PostgreSQL a GIN
``pg_trgm`` index over the searched fields joined by spaces, kept by PostgreSQL itself. Both are filled here
from the needs already stored. ``sync/ledger/search.py`` queries them and must join the fields exactly as
``SEARCH_TEXT`` does, or PostgreSQL stops using the index.

Triggers rather than SQLAlchemy events: they also see the bulk ``UPDATE`` statements the sync loop and the
import issue, and every process writing to the file. A later migration that rebuilds ``needs`` in batch mode
drops the triggers with the old table and must create them again.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FIELDS = ("ref", "title", "description", "remarks", "customer", "reporter_name", "reporter_email", "owner")
SEARCH_TEXT = " || ' ' || ".join(f"coalesce({field}, '')" if field in ("reporter_email", "owner") else field
                                 for field in FIELDS)

SORT_INDEXES = {
    "ix_needs_title_id": ["title", "id"],
    "ix_needs_reporter_name_id": ["reporter_name", "id"],
    "ix_needs_reported_at_id": ["reported_at", "id"],
    "ix_needs_remarks_id": [sa.text("substr(remarks, 1, 200)"), "id"],
}
"""The columns /needs sorts by that had no index; owner, customer and issue key have theirs since 0001."""


def _sqlite_upgrade() -> None:
    columns = ", ".join(FIELDS)
    old = ", ".join(f"old.{field}" for field in FIELDS)
    new = ", ".join(f"new.{field}" for field in FIELDS)
    # No ranking: results keep the table's sort, so the per-row sizes (columnsize) are not kept.
    op.execute(f"CREATE VIRTUAL TABLE needs_search USING fts5({columns}, content='needs', content_rowid='id', "
               "tokenize='trigram', columnsize=0)")
    op.execute(f"CREATE TRIGGER needs_search_insert AFTER INSERT ON needs BEGIN "
               f"INSERT INTO needs_search(rowid, {columns}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER needs_search_delete AFTER DELETE ON needs BEGIN "
               f"INSERT INTO needs_search(needs_search, rowid, {columns}) VALUES ('delete', old.id, {old}); END")
    # Only edits of searched fields: the sync loop's writes (state, leases) leave the index alone.
    op.execute(f"CREATE TRIGGER needs_search_update AFTER UPDATE OF {columns} ON needs BEGIN "
               f"INSERT INTO needs_search(needs_search, rowid, {columns}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO needs_search(rowid, {columns}) VALUES (new.id, {new}); END")
    op.execute("INSERT INTO needs_search(needs_search) VALUES ('rebuild')")


def _postgresql_upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX ix_needs_search ON needs USING gin (({SEARCH_TEXT}) gin_trgm_ops)")


def upgrade() -> None:
    with op.batch_alter_table('needs', schema=None) as batch_op:
        for name, columns in SORT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
    elif op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("needs_search_insert", "needs_search_delete", "needs_search_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE needs_search")
    elif op.get_bind().dialect.name == "postgresql":
        # pg_trgm stays: other objects of the database may use it.
        op.execute("DROP INDEX ix_needs_search")
    with op.batch_alter_table('needs', schema=None) as batch_op:
        for name in SORT_INDEXES:
            batch_op.drop_index(name)
