"""Co-creation projects: the projects, their acceptance criteria and the needs serving each criterion; needs and
minutes can belong to one project.

Every need and minutes record stored before this revision is kept as it was, in no project (``project_id`` is
NULL). A project is never deleted while a need or minutes record points to it (the store unlinks them
first). On SQLite the columns are added in place (no table is rebuilt: the search triggers on ``needs`` stay).

Revision ID: 0020_projects
Revises: 0019_need_releases
"""

import sqlalchemy as sa
from alembic import op

revision = '0020_projects'
down_revision = '0019_need_releases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'projects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('customer', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('goal', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('go_live', sa.Date(), nullable=True),
        sa.Column('cadence', sa.String(length=16), nullable=True),
        sa.Column('interface_name', sa.String(length=200), nullable=True),
        sa.Column('interface_role', sa.String(length=200), nullable=True),
        sa.Column('interface_contact', sa.String(length=320), nullable=True),
        sa.Column('lead', sa.String(length=200), nullable=True),
        sa.Column('emergency_contacts', sa.JSON(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_projects_customer', 'projects', ['customer'], unique=False)
    op.create_table(
        'project_criteria',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('what', sa.String(length=300), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('measured_by', sa.String(length=300), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('evidence_text', sa.Text(), nullable=False),
        sa.Column('evidence_url', sa.String(length=500), nullable=True),
        sa.Column('evidence_file_name', sa.String(length=255), nullable=True),
        sa.Column('evidence_stored_name', sa.String(length=255), nullable=True),
        sa.Column('evidence_content_type', sa.String(length=100), nullable=True),
        sa.Column('evidence_size', sa.Integer(), nullable=True),
        sa.Column('evidence_shared', sa.Boolean(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('signed_off_by', sa.String(length=200), nullable=True),
        sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('state_changed_by', sa.String(length=200), nullable=True),
        sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_project_criteria_project_id', 'project_criteria', ['project_id'], unique=False)
    op.create_table(
        'criterion_needs',
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('need_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['criterion_id'], ['project_criteria.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['need_id'], ['needs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('criterion_id', 'need_id'),
    )
    op.create_index('ix_criterion_needs_need_id', 'criterion_needs', ['need_id'], unique=False)
    for table in ('needs', 'minutes'):
        column = sa.Column('project_id', sa.Integer(), sa.ForeignKey('projects.id', name=f'fk_{table}_project_id'),
                           nullable=True)
        if op.get_bind().dialect.name == 'sqlite':
            # SQLite adds a column with its REFERENCES clause in place; Alembic's batch mode would rebuild the table.
            op.execute(f'ALTER TABLE {table} ADD COLUMN project_id INTEGER REFERENCES projects (id)')
        else:
            op.add_column(table, column)
        op.create_index(f'ix_{table}_project_id', table, ['project_id'], unique=False)


def downgrade() -> None:
    for table in ('minutes', 'needs'):
        op.drop_index(f'ix_{table}_project_id', table_name=table)
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE {table} DROP COLUMN project_id')
        else:
            op.drop_constraint(f'fk_{table}_project_id', table, type_='foreignkey')
            op.drop_column(table, 'project_id')
    op.drop_index('ix_criterion_needs_need_id', table_name='criterion_needs')
    op.drop_table('criterion_needs')
    op.drop_index('ix_project_criteria_project_id', table_name='project_criteria')
    op.drop_table('project_criteria')
    op.drop_index('ix_projects_customer', table_name='projects')
    op.drop_table('projects')
