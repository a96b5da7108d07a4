"""report_months: the VOC figures of a closed month, kept once computed, and the triggers that forget them.

A whole past month's figures read every need's status at the month's end from its history: about 0.4 s at
100,000 needs. Once the month is over they change only when a write reaches back into it, which triggers
see whichever code writes (the sync loop's conditional updates, the import, bulk edits, other processes):

- a need raised before the month's end added or removed, or one of the fields the report reads edited (ref,
  title, category, urgency, customer, issue key and link, reported_at; its status only when the need has no
  history, since the status at the end otherwise comes from the history);
- a status history entry known at the month's end (``at`` not after it) written, or a need's first entry,
  which gives its status before it entered Cocreate; an entry removed or changed.

On PostgreSQL every trigger takes a shared advisory lock for its transaction; ``sync.report.cache`` takes
the same lock exclusively (without waiting) to place a month's row before computing its figures, so no
write in flight while the figures are computed can leave stale ones behind. On SQLite the row is placed by
a write transaction, which no other writer shares.

Nothing to fill in: a month's figures are kept the first time they are asked for. A later migration that
rebuilds ``needs`` or ``status_history`` in batch mode drops these SQLite triggers and must create them again.

Revision ID: 0015_report_days
Revises: 0014_action_items_done
"""

import sqlalchemy as sa
from alembic import op

revision = '0015_report_days'
down_revision = '0014_action_items_done'
branch_labels = None
depends_on = None

LOCK = 0x7265706F72747321
"""``sync.report.cache.LOCK`` ("reports!")."""

FIELDS = ("ref", "title", "category", "urgency", "customer", "issue_key", "issue_url", "reported_at")
"""The need's fields the report reads, besides its status."""

# A history entry is the need's first when no entry of it comes before it in (at, id) order.
_FIRST = ("NOT EXISTS (SELECT 1 FROM status_history h WHERE h.need_id = {e}.need_id "
          "AND (h.at < {e}.at OR (h.at = {e}.at AND h.id < {e}.id)))")

SQLITE_TRIGGERS = {
    "report_months_need_insert":
        "AFTER INSERT ON needs BEGIN DELETE FROM report_months WHERE end_at > new.reported_at; END",
    "report_months_need_delete":
        "AFTER DELETE ON needs BEGIN DELETE FROM report_months WHERE end_at > old.reported_at; END",
    "report_months_need_update":
        f"AFTER UPDATE OF {', '.join(FIELDS)} ON needs "
        f"WHEN {' OR '.join(f'old.{field} IS NOT new.{field}' for field in FIELDS)} BEGIN "
        "DELETE FROM report_months WHERE end_at > min(old.reported_at, new.reported_at); END",
    "report_months_need_status":
        "AFTER UPDATE OF status ON needs WHEN old.status IS NOT new.status "
        "AND NOT EXISTS (SELECT 1 FROM status_history WHERE need_id = new.id) BEGIN "
        "DELETE FROM report_months WHERE end_at > new.reported_at; END",
    "report_months_entry_insert":
        "AFTER INSERT ON status_history BEGIN DELETE FROM report_months WHERE end_at >= new.at "
        "OR (end_at > (SELECT reported_at FROM needs WHERE id = new.need_id) AND "
        f"{_FIRST.format(e='new')}); END",
    "report_months_entry_delete":
        "AFTER DELETE ON status_history BEGIN DELETE FROM report_months WHERE end_at >= old.at "
        "OR end_at > (SELECT reported_at FROM needs WHERE id = old.need_id); END",
    "report_months_entry_update":
        "AFTER UPDATE ON status_history BEGIN DELETE FROM report_months WHERE end_at >= min(old.at, new.at) "
        "OR end_at > (SELECT min(reported_at) FROM needs WHERE id IN (old.need_id, new.need_id)); END",
}

_LOCKED = f"PERFORM pg_advisory_xact_lock_shared({LOCK});"

POSTGRESQL_FUNCTIONS = {
    # Statement triggers for inserts and deletes: an import adds needs and entries by the thousand per statement.
    "report_months_needs_changed": "DELETE FROM report_months WHERE end_at > (SELECT min(reported_at) FROM changed);",
    "report_months_entries_added":
        "DELETE FROM report_months m WHERE m.end_at >= (SELECT min(at) FROM changed) OR EXISTS ("
        "SELECT 1 FROM changed e JOIN needs n ON n.id = e.need_id WHERE n.reported_at < m.end_at "
        f"AND {_FIRST.format(e='e')});",
    "report_months_entries_removed":
        "DELETE FROM report_months WHERE end_at >= (SELECT min(at) FROM changed) OR end_at > "
        "(SELECT min(n.reported_at) FROM needs n WHERE n.id IN (SELECT need_id FROM changed));",
    # Row triggers for a need's edits (one need at a time), called only when a field the report reads changed.
    "report_months_need_edited":
        "IF OLD.status IS NOT DISTINCT FROM NEW.status OR "
        f"{' OR '.join(f'OLD.{field} IS DISTINCT FROM NEW.{field}' for field in FIELDS)} "
        "OR NOT EXISTS (SELECT 1 FROM status_history WHERE need_id = NEW.id) THEN "
        "DELETE FROM report_months WHERE end_at > least(OLD.reported_at, NEW.reported_at); END IF;",
}

POSTGRESQL_TRIGGERS = {
    "report_months_need_insert": "AFTER INSERT ON needs REFERENCING NEW TABLE AS changed "
                                 "FOR EACH STATEMENT EXECUTE FUNCTION report_months_needs_changed()",
    "report_months_need_delete": "AFTER DELETE ON needs REFERENCING OLD TABLE AS changed "
                                 "FOR EACH STATEMENT EXECUTE FUNCTION report_months_needs_changed()",
    "report_months_need_update": "AFTER UPDATE ON needs FOR EACH ROW WHEN ("
                                 + " OR ".join(f"OLD.{field} IS DISTINCT FROM NEW.{field}"
                                               for field in (*FIELDS, "status"))
                                 + ") EXECUTE FUNCTION report_months_need_edited()",
    "report_months_entry_insert": "AFTER INSERT ON status_history REFERENCING NEW TABLE AS changed "
                                  "FOR EACH STATEMENT EXECUTE FUNCTION report_months_entries_added()",
    "report_months_entry_delete": "AFTER DELETE ON status_history REFERENCING OLD TABLE AS changed "
                                  "FOR EACH STATEMENT EXECUTE FUNCTION report_months_entries_removed()",
    "report_months_entry_update_old": "AFTER UPDATE ON status_history REFERENCING OLD TABLE AS changed "
                                      "FOR EACH STATEMENT EXECUTE FUNCTION report_months_entries_removed()",
    "report_months_entry_update_new": "AFTER UPDATE ON status_history REFERENCING NEW TABLE AS changed "
                                      "FOR EACH STATEMENT EXECUTE FUNCTION report_months_entries_removed()",
}


def upgrade() -> None:
    op.create_table('report_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('settings_key', sa.String(length=64), nullable=False),
    sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('report_months', schema=None) as batch_op:
        batch_op.create_index('ix_report_months_month', ['month', 'timezone', 'settings_key'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        for name, body in POSTGRESQL_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {_LOCKED} {body} RETURN NULL; END $$")
        for name, body in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    elif dialect == "postgresql":
        for name, body in POSTGRESQL_TRIGGERS.items():
            table = body.split(" ON ")[1].split()[0]
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
    with op.batch_alter_table('report_months', schema=None) as batch_op:
        batch_op.drop_index('ix_report_months_month')
    op.drop_table('report_months')
