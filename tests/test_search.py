"""Search on SQLite: what a query finds (``tests/search_cases.py``, the same on PostgreSQL), the FTS5 index kept
in step with every kind of write, and migration 0005 indexing the needs already stored."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import delete, select, update

from sync.ledger import store
from sync.ledger.search import QUERY_MAX, WORDS_MAX, words
from sync.ledger.store import Need
from sync.runtime import build_runtime
from tests.search_cases import CASES, NEEDS, found, insert_needs


@pytest.fixture
def searched(runtime, make_need):
    for overrides in NEEDS:
        make_need(**overrides)
    return runtime


def integrity_check(runtime) -> None:
    """FTS5's own check that the index holds exactly what ``needs`` holds; raises if not."""
    with runtime.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO needs_search(needs_search, rank) VALUES ('integrity-check', 1)")


def test_sqlite_has_the_trigram_tokenizer():
    assert sqlite3.sqlite_version_info >= (3, 34)


@pytest.mark.parametrize(("query", "refs"), CASES)
def test_search_finds_substrings_of_every_searched_field(searched, query, refs):
    assert found(searched, query) == refs


def test_words_are_split_at_spaces_counted_and_cleaned():
    assert words(" 報表  匯出 報表\t invoice ") == ["報表", "匯出", "invoice"]
    assert words("a\x00b \ud800c") == ["a", "b", "c"]
    assert len(words(" ".join(str(number) for number in range(50)))) == WORDS_MAX
    assert words("x" * (QUERY_MAX + 50)) == ["x" * QUERY_MAX]


def test_edits_reach_the_index_by_the_orm_and_by_plain_updates(searched):
    with searched.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == "N-0001")).one()
        need.title = "儀表板空白"
        need.description = "打開儀表板什麼都沒有"
    assert found(searched, "報表") == [] and found(searched, "儀表板") == ["N-0001"]

    with searched.Session.begin() as session:
        session.execute(update(Need).where(Need.ref == "N-0002").values(remarks="等待研發評估"))
    assert found(searched, "已回覆") == [] and found(searched, "研發評估") == ["N-0002"]

    with searched.Session.begin() as session:
        session.execute(update(Need).where(Need.ref == "N-0003").values(sync_state="synced"))
        session.execute(delete(Need).where(Need.ref == "N-0004"))
    assert found(searched, "nightly") == ["N-0003"] and found(searched, "a_b") == []
    integrity_check(searched)


def test_the_migration_indexes_the_needs_already_stored(settings, tmp_path):
    engine = store.make_engine(f"sqlite:///{tmp_path / 'cocreate.db'}")
    store.migrate(engine, "0004")
    insert_needs(engine, 3)
    engine.dispose()

    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)}, immediate=True)
    try:
        assert found(runtime, "舊的報表") == ["N-0001", "N-0002", "N-0003"]
        assert found(runtime, "舊的報表 2") == ["N-0002"]
        assert found(runtime, "OLD") == ["N-0001", "N-0002", "N-0003"]
        insert_needs(runtime.engine, 1, start=4)
        assert found(runtime, "報表 4") == ["N-0004"]
        integrity_check(runtime)
    finally:
        runtime.close()
