"""People records: the fields the YAML file sets, when a person was added or changed, and the counter that tells
every process the people directory changed; and when each user last logged in (unknown before this revision).

People stored before this revision keep every field; the next start marks what the file sets for them.

Revision ID: 0016_people_records
Revises: 0015_report_days
"""

import sqlalchemy as sa
from alembic import op

revision = '0016_people_records'
down_revision = '0015_report_days'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('config_fields', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    counters = sa.table('counters', sa.column('name', sa.String), sa.column('value', sa.BigInteger))
    op.bulk_insert(counters, [{'name': 'people', 'value': 0}])


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'people'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
    with op.batch_alter_table('people', schema=None) as batch_op:
        for column in ('updated_at', 'created_at', 'config_fields'):
            batch_op.drop_column(column)
