"""On PostgreSQL: an imported ``N-`` number moves the needs' id sequence, so the next need filed keeps working; the
export reads the needs through a server-side cursor, a chunk and its screenshots at a time."""

from __future__ import annotations

import time

import pytest

from plugin.need import validate_need
from sync.intake import Upload, create_need
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
