"""The table sorts refs naturally: each need keeps ``ref_sort`` (``sync.ledger.store.ref_sort_key``), indexed
with the id, so that 序號 sorts N-0002 before N-0012 and 4 before 12 without reading every need.

Needs stored before this revision get their key here, a thousand at a time. Linking needs in bulk uses
``linked_to``, which needs always had: it adds nothing to the schema.

Revision ID: 0009_ref_sort
Revises: 0007_need_thread
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '0009_ref_sort'
down_revision = '0007_need_thread'
branch_labels = None
depends_on = None

BACKFILL_ROWS = 1000
REF_SORT_MAX = 96


def ref_sort_key(ref: str) -> str:
    """``sync.ledger.store.ref_sort_key`` as of this revision (a migration never changes with the code)."""

    def number(match: re.Match) -> str:
        digits = match.group().lstrip("0") or "0"
        return f"{len(digits):02d}{digits}"

    return re.sub(r"[0-9]+", number, ref.lower())[:REF_SORT_MAX]


def upgrade() -> None:
    kind = sa.String(length=REF_SORT_MAX)
    with op.batch_alter_table('needs', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('ref_sort', kind.with_variant(sa.String(REF_SORT_MAX, collation='C'),
                                                                    'postgresql'), nullable=True))
    connection = op.get_bind()
    needs = sa.table('needs', sa.column('id', sa.Integer), sa.column('ref', sa.String), sa.column('ref_sort', kind))
    after = 0
    while rows := connection.execute(sa.select(needs.c.id, needs.c.ref).where(needs.c.id > after)
                                     .order_by(needs.c.id).limit(BACKFILL_ROWS)).all():
        connection.execute(needs.update().where(needs.c.id == sa.bindparam('need_id'))
                           .values(ref_sort=sa.bindparam('key')),
                           [{'need_id': row.id, 'key': ref_sort_key(row.ref)} for row in rows])
        after = rows[-1].id
    with op.batch_alter_table('needs', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_needs_ref_sort_id', ['ref_sort', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('needs', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_needs_ref_sort_id')
        batch_op.drop_column('ref_sort')
