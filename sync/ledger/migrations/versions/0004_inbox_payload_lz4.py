"""Webhook payloads compressed with LZ4 on PostgreSQL.

A tracker's delivery (7 KB for a typical GitHub ``issues`` event) is over PostgreSQL's 2 KB threshold, so it
is compressed as it is stored; with PostgreSQL's default (pglz) that is most of the server's work per delivery. LZ4 compresses about as
well at a fraction of the CPU (``bench/load_bench.py``). Only rows written afterwards are compressed with it;
rows already stored stay readable as they are. Nothing changes on SQLite, nor on a PostgreSQL server built
without LZ4 (or older than 14), which keep their default.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _lz4_available() -> bool:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return False
    return bool(connection.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar())


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION default")
