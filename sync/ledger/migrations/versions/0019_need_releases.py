"""Need releases: the tracker version (Jira fixVersion, GitHub release) that shipped each need, with its name and
date. A new table; nothing stored before this revision changes.

Revision ID: 0019_need_releases
Revises: 0018_demand_scores
"""

import sqlalchemy as sa
from alembic import op

revision = '0019_need_releases'
down_revision = '0018_demand_scores'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'need_releases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('need_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.String(length=200), nullable=False),
        sa.Column('version_name', sa.String(length=255), nullable=False),
        sa.Column('released_on', sa.Date(), nullable=True),
        sa.Column('issue_key', sa.String(length=300), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('need_id', 'version_id'),
    )
    with op.batch_alter_table('need_releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_releases_need_id'), ['need_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('need_releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_releases_need_id'))
    op.drop_table('need_releases')
