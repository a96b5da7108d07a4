"""Duplicate suggestions on PostgreSQL: the candidates come through the pg_trgm index as on SQLite through FTS5,
and the same needs are suggested."""

from __future__ import annotations

import pytest

from sync.merges import MergeRefused, merge_needs, undo_merge
from sync.similar import candidate_query, open_needs, similar_needs
from tests.factories import file_need
from tests.scale.test_search_postgres import postgres_runtime


@pytest.fixture(scope="module")
def stored(postgres, tmp_path_factory):
    runtime = postgres_runtime(postgres.create_database("similar_cases"), tmp_path_factory.mktemp("similar"))
    file_need(runtime, title="导出的Excel报表中文乱码", description="月报导出后用Excel打开显示乱码")
    file_need(runtime, title="报表增加按季度统计", description="希望报表可以按季度汇总销售数据")
    file_need(runtime, title="Tax number missing on PDF invoices", description="Finance rejects them.")
    yield runtime
    runtime.close()


def suggest(runtime, title, description=""):
    with runtime.Session() as session:
        return [item.ref for item in similar_needs(session, runtime.settings, "postgresql", title, description)]


def test_the_same_needs_are_suggested_as_on_sqlite(stored):
    assert suggest(stored, "報表匯出Excel時中文亂碼", "用Excel開啟後中文都是亂碼") == ["N-0001"]
    assert suggest(stored, "Invoices should show the tax number") == ["N-0003"]
    assert suggest(stored, "Dashboard charts") == []


def test_candidates_are_asked_of_the_trigram_index(stored):
    statement = candidate_query("postgresql", "報表匯出Excel時中文亂碼", "invoice", open_needs(stored.settings))
    compiled = statement.compile(dialect=stored.engine.dialect, compile_kwargs={"render_postcompile": True})
    with stored.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars())
    assert "ix_needs_search" in plan


def test_a_merge_and_its_undo_on_postgresql(stored):
    merge = merge_needs(stored, "N-0002", "N-0001", "cs1")
    assert suggest(stored, "报表增加按季度统计") == []  # merged: no longer suggested
    with pytest.raises(MergeRefused, match="already merged"):
        merge_needs(stored, "N-0002", "N-0003", "cs1")
    undo_merge(stored, merge.id, "cs1")
    assert suggest(stored, "报表增加按季度统计") == ["N-0002"]
