"""A thread per need: internal notes, replies to the customer and R&D's comments for the customer.

Comments already forwarded from the tracker before this revision are not copied into threads: the next event
or reconcile of their issue records them (each once per need, by its tracker comment id), without telling the
customer again.

Revision ID: 0007_need_thread
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_need_thread'
down_revision = '0007_outbox_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('need_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tracker_comment_id', sa.String(length=100), nullable=True),
    sa.Column('delivery_state', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('need_id', 'tracker_comment_id')
    )
    with op.batch_alter_table('need_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_messages_need_id'), ['need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('need_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_messages_need_id'))
    op.drop_table('need_messages')
