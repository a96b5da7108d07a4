"""Editing needs: a version counter on each need and the field history (who, when, field, old -> new).

Needs stored before this revision start at version 1 with an empty field history.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_table('need_edits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old', sa.Text(), nullable=True),
    sa.Column('new', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('need_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_edits_need_id'), ['need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('need_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_edits_need_id'))
    op.drop_table('need_edits')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_column('version')
