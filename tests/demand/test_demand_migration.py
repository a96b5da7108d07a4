"""Migration 0018: the table of written demand scores is added beside the needs already stored, which keep every
field and are ranked at once; their issues get a score at their next sync."""

from __future__ import annotations

from sqlalchemy import inspect, text

from sync.ledger import store


def test_needs_stored_before_the_migration_survive_it_and_have_no_written_score(tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path / 'old' / 'cocreate.db'}")
    store.migrate(engine, "0016_people_records")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO needs (id, ref, ref_sort, category, title, description, urgency, reporter_name, reported_at,"
            " status, remarks, customer, created_at, updated_at, status_changed_at, sync_state, synced_fields,"
            " version, issue_key) VALUES (1, 'N-0001', 'N-0001', 'billing', 'Old need', '', 'high', 'Li Na',"
            " '2026-01-01 00:00:00', 'new', '', 'acme', '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
            " '2026-01-01 00:00:00', 'synced', '{\"title\": \"Old need\"}', 3, 'CS-1')"))
    store.migrate(engine)
    with engine.connect() as connection:
        need = connection.execute(text("SELECT ref, title, issue_key, version, synced_fields FROM needs")).one()
        written = connection.execute(text("SELECT count(*) FROM issue_demand")).scalar()
    columns = {column["name"] for column in inspect(engine).get_columns("issue_demand")}
    engine.dispose()
    assert tuple(need) == ("N-0001", "Old need", "CS-1", 3, '{"title": "Old need"}')
    assert written == 0
    assert columns == {"issue_key", "score", "customers", "label", "written_at"}
