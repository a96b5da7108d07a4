"""On PostgreSQL: the projects' migration keeps every need and minutes record (in no project), leaves a schema
that matches the models, and goes back down."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from sync.ledger import engine as engine_module
from sync.ledger import store
from sync.ledger.search import modelled


def _alembic(connection) -> Config:
    from pathlib import Path

    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def test_the_projects_migration_on_postgresql(database):
    engine = store.make_engine(database)
    store.migrate(engine, "0016_people_records")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO needs (ref, category, title, description, urgency, reporter_name, reported_at, status, "
            "remarks, customer, created_at, updated_at, status_changed_at, sync_state, synced_fields, version) "
            "VALUES ('N-0001', 'billing', 'Old need', '', 'high', 'Li', :now, 'new', '', 'acme', :now, :now, "
            ":now, 'pending', '{}', 1)"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO minutes (customer, topic, meeting_date, place, attendees, key_points, decisions, "
            "open_questions, visibility, version, created_at, updated_at) VALUES ('acme', 'Old', '2026-01-01', "
            "'', '[]', '', '', '', 'internal', 1, :now, :now)"), {"now": now})
    store.migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT ref, project_id FROM needs")).all() == [("N-0001", None)]
        assert connection.execute(sa.text("SELECT topic, project_id FROM minutes")).all() == [("Old", None)]
        context = MigrationContext.configure(connection, opts={"include_name": modelled})
        diff = compare_metadata(context, store.Base.metadata)
        # The search's GIN index is PostgreSQL's own, made by 0005 and kept out of the models.
        assert [item for item in diff if not (item[0] == "remove_index" and item[1].name == "ix_needs_search")] == []
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), "0016_people_records")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT ref FROM needs")).scalars().all() == ["N-0001"]
        assert "projects" not in sa.inspect(connection).get_table_names()
    engine.dispose()
