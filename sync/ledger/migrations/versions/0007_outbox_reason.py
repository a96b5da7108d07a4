"""Why an outbox row was not sent, as a key the need page words in the reader's language (``not_member``).

Rows stored before this revision have no reason; their ``last_error`` is shown as it is.

Revision ID: 0007_outbox_reason
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_outbox_reason'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('reason')
