"""Action items can be done: who marked one done and when, and whether the tracker did (its issue was closed).

Revision ID: 0014_action_items_done
Revises: 0013_customer_records
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_action_items_done'
down_revision = '0013_customer_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('done_by_tracker', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_column('done_by_tracker')
        batch_op.drop_column('done_by')
        batch_op.drop_column('done_at')
