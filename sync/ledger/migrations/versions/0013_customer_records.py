"""Customer records: other names, contacts, channels, tier and revenue, the fields the YAML file sets, merges, and
the counter that tells every process the customers changed.

Customers stored before this revision keep their key, name, locale and status link; the next start fills in
what the file names for them. Needs are not touched: those whose customer matches no record are listed on
/admin/customers to be linked.

Revision ID: 0013_customer_records
Revises: 0012_session_epoch
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_customer_records'
down_revision = '0012_session_epoch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('contacts', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('channels', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('tier', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('annual_revenue', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('config_fields', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('merged_into', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    counters = op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # The row exists from the start, so that every change is a plain UPDATE (no two processes race to insert it).
    op.bulk_insert(counters, [{'name': 'customers', 'value': 0}])


def downgrade() -> None:
    op.drop_table('counters')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        for column in ('updated_at', 'created_at', 'merged_into', 'config_fields', 'annual_revenue', 'tier',
                       'channels', 'contacts', 'aliases'):
            batch_op.drop_column(column)
