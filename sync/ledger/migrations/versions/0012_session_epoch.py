"""users.session_epoch: logout, a password change or deactivation ends the user's sessions everywhere.

Revision ID: 0012_session_epoch
Revises: 0011_report_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = '0012_session_epoch'
down_revision = '0011_report_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_epoch')
