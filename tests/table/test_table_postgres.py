"""On PostgreSQL: the import writes with COPY exactly what the SQLite import's flush writes; an imported ``N-``
number moves the needs' id sequence, so the next need filed keeps working; the export reads the needs through a
server-side cursor, a chunk and its screenshots at a time."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from plugin.need import validate_need
from sync.intake import Upload, create_need
from sync.ledger.store import Need
from sync.runtime import build_runtime
from sync.table.export import export_table
from sync.table.importer import import_table
from tests.factories import NOW, file_need, need_data
from tests.images import png_bytes
from tests.scale.servers import PostgresServer
from tests.table.helpers import RecordingQueue
from tests.table.sheets import SEED_HEADERS, needs_by_ref, read_cells, write_xlsx


@pytest.fixture(scope="module")
def postgres_url():
    server = PostgresServer().start()
    try:
        yield server.create_database("table_import")
    finally:
        server.close()


def test_imported_numbers_move_the_postgresql_sequence(postgres_url, settings, tmp_path):
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path), "COCREATE_DATABASE_URL": postgres_url},
                            immediate=True)
    runtime.queue = RecordingQueue()
    try:
        sheet = write_xlsx(tmp_path / "needs.xlsx", [
            SEED_HEADERS["en"] + ["Customer"],
            ["N-0040", "Billing", "From another Cocreate", "", "High", "Li Na", "2026-11-20 09:30", "", "", "", "acme"],
            ["", "Billing", "No number", "", "High", "Li Na", "2026-11-20 09:30", "", "", "", "acme"],
        ])
        report = import_table(runtime, sheet, dry_run=False, now=NOW)
        assert report.ok and sorted(needs_by_ref(runtime)) == ["N-0040", "N-0041"]

        filed = create_need(runtime, validate_need(need_data(), settings, now=NOW))
        assert filed.ref == "N-0042"
    finally:
        runtime.engine.dispose()


def test_copy_writes_what_a_flush_writes(postgres_url, settings, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [
        SEED_HEADERS["en"] + ["Customer"],
        ["N-0090", "Billing", "Chosen number\nwith a second line", "", "High", "Li Na", "2026-11-20 09:30", "Wang Wei",
         "Accepted", "Waiting for R&D", "acme"],
        ["", "Billing", "No number", "", "Low", "李娜", "2026-11-21 18:05", "", "", "", "acme"],
        ["X-7", "Billing", "A number of the customer's own", "", "Critical", "Li Na", "2026-11-22", "", "", "", "acme"],
    ])
    written = {}
    for name, environ in (("sqlite", {"COCREATE_HOME": str(tmp_path / "sqlite")}), (
            "postgresql", {"COCREATE_HOME": str(tmp_path / "pg"), "COCREATE_DATABASE_URL": postgres_url})):
        runtime = build_runtime(settings, environ, immediate=True)
        runtime.queue = RecordingQueue()
        try:
            assert import_table(runtime, sheet, dry_run=False, now=NOW).ok
            with runtime.Session() as session:
                imported = session.scalars(select(Need).where(Need.ref.in_(["N-0090", "N-0091", "X-7"])))
                written[name] = {
                    need.ref: ({column: getattr(need, column) for column in Need.__mapper__.columns.keys()
                                  if column not in ("id", "updated_at")},
                                 [(change.status, change.previous, change.source, change.actor, change.note, change.at)
                                  for change in need.history]) for need in imported}
        finally:
            runtime.engine.dispose()
    assert sorted(written["postgresql"]) == sorted(written["sqlite"]) == ["N-0090", "N-0091", "X-7"]
    for ref, (columns, history) in written["sqlite"].items():
        assert written["postgresql"][ref][1] == history
        assert {key: value for key, value in written["postgresql"][ref][0].items() if value != columns[key]} == {}, ref
    chosen, history = written["postgresql"]["N-0090"]
    assert (chosen["owner"], chosen["remarks"], chosen["synced_fields"], chosen["version"]) == (
        "Wang Wei", "Waiting for R&D", {}, 1)
    assert chosen["created_at"].tzinfo is not None and history[0][2] == "import"


def test_a_large_import_ends_with_analyze_of_the_tables_it_wrote(postgres_url, settings, tmp_path, monkeypatch):
    monkeypatch.setattr("sync.table.importer.ANALYZE_ROWS", 2)
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path), "COCREATE_DATABASE_URL": postgres_url},
                            immediate=True)
    runtime.queue = RecordingQueue()

    def analyzed() -> dict[str, int]:
        with runtime.engine.connect() as connection:
            return dict(connection.exec_driver_sql(
                "SELECT relname, analyze_count FROM pg_stat_user_tables "
                "WHERE relname IN ('needs', 'status_history', 'need_edits')").all())

    try:
        before = analyzed()
        rows = [["", "Billing", f"Need {number}", "", "High", "Li Na", "2026-11-20 09:30", "", "", "", "acme"]
                for number in range(2)]
        import_table(runtime, write_xlsx(tmp_path / "one.xlsx", [SEED_HEADERS["en"] + ["Customer"], rows[0]]),
                     dry_run=False, now=NOW)
        assert analyzed() == before  # fewer rows than ANALYZE_ROWS: autovacuum's business
        import_table(runtime, write_xlsx(tmp_path / "two.xlsx", [SEED_HEADERS["en"] + ["Customer"], *rows]),
                     dry_run=False, now=NOW)
        # The statistics collector reports asynchronously: wait for the counts to arrive.
        for _ in range(100):
            after = analyzed()
            if after != before:
                break
            time.sleep(0.05)
        assert {name: after[name] - before.get(name, 0) for name in after} == {
            "needs": 1, "status_history": 1, "need_edits": 1}
    finally:
        runtime.engine.dispose()


def test_export_reads_chunks_and_their_screenshots(postgres_url, settings, tmp_path, monkeypatch):
    monkeypatch.setattr("sync.table.export.FETCH_ROWS", 2)
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path), "COCREATE_DATABASE_URL": postgres_url},
                            immediate=True)
    runtime.queue = RecordingQueue()
    try:
        for number in range(5):
            shots = [Upload(f"shot-{number}.png", png_bytes(4, 4, (number, 0, 0)))] if number % 2 else []
            file_need(runtime, customer="globex", uploads=shots)
        path = tmp_path / "globex.csv"
        assert export_table(runtime, path, "csv", filters={"customer": "globex"}) == 5
        assert [row[3] for row in read_cells(path)[1:]] == ["", "shot-1.png", "", "shot-3.png", ""]
    finally:
        runtime.engine.dispose()
