"""Need merges: which need was merged into which, by whom and when, and each moved need's issue link and status
before, so that a merge can be undone exactly. A new table: the needs stored before keep every field.

Revision ID: 0017_need_merges
Revises: 0016_people_records
"""

import sqlalchemy as sa
from alembic import op

revision = '0017_need_merges'
down_revision = '0016_people_records'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'need_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('from_need_id', sa.Integer(), nullable=False),
        sa.Column('into_need_id', sa.Integer(), nullable=False),
        sa.Column('from_issue_key', sa.String(length=300), nullable=True),
        sa.Column('into_issue_key', sa.String(length=300), nullable=True),
        sa.Column('moved', sa.JSON(), nullable=False),
        sa.Column('merged_by', sa.String(length=200), nullable=False),
        sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('undone_by', sa.String(length=200), nullable=True),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['from_need_id'], ['needs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['into_need_id'], ['needs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('need_merges', schema=None) as batch_op:
        batch_op.create_index('ix_need_merges_from_need_id', ['from_need_id'], unique=False)
        batch_op.create_index('ix_need_merges_into_need_id', ['into_need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('need_merges', schema=None) as batch_op:
        batch_op.drop_index('ix_need_merges_into_need_id')
        batch_op.drop_index('ix_need_merges_from_need_id')
    op.drop_table('need_merges')
