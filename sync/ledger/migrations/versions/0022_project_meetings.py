"""The regular meeting of a co-creation project: an action item can be carried into the next meeting's minutes.

``action_items.carried_from_id`` names the item (of an earlier meeting) a new item continues; existing items get
NULL (carried from nothing), so every stored action item stays as it was. The column is added in place on SQLite.
It holds no foreign key: an earlier meeting's minutes may be deleted, and the item carried on keeps its text,
owner, due date and issue.

Revision ID: 0022_project_meetings
Revises: 0021_needs_search_and_sort
"""

import sqlalchemy as sa
from alembic import op

revision = '0022_project_meetings'
down_revision = '0021_needs_search_and_sort'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('action_items', sa.Column('carried_from_id', sa.Integer(), nullable=True))
    op.create_index('ix_action_items_carried_from_id', 'action_items', ['carried_from_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_action_items_carried_from_id', table_name='action_items')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE action_items DROP COLUMN carried_from_id')
    else:
        op.drop_column('action_items', 'carried_from_id')
