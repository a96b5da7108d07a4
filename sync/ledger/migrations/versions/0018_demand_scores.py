"""Demand scores: the score last written to each tracker issue with needs, with the customers it counted, so that
the tracker is written only when either changes. A new table; nothing existing changes, and issues get their
score at their next sync.

Revision ID: 0018_demand_scores
Revises: 0017_need_merges
"""

import sqlalchemy as sa
from alembic import op

revision = '0018_demand_scores'
down_revision = '0017_need_merges'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issue_demand',
    sa.Column('issue_key', sa.String(length=300), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('customers', sa.JSON(), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=True),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('issue_key')
    )


def downgrade() -> None:
    op.drop_table('issue_demand')
