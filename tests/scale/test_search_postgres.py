"""Search on PostgreSQL: the same answers as on SQLite (``tests/search_cases.py``), through the pg_trgm index,
on /needs and after migrating a store that already held needs."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from plugin.loading import parse_settings
from sync.ledger import accounts, store
from sync.ledger.search import matching
from sync.ledger.store import Need
from sync.runtime import build_runtime
from tests.factories import DEFAULT_YAML, file_need
from tests.search_cases import CASES, NEEDS, found, insert_needs
from tests.web.pages import log_in, table_refs
from webhooks.app import create_app


def postgres_runtime(url: str, home):
    return build_runtime(parse_settings(DEFAULT_YAML, "test.yaml"),
                         {"COCREATE_HOME": str(home), "COCREATE_DATABASE_URL": url}, immediate=True)


@pytest.fixture(scope="module")
def searched(postgres, tmp_path_factory):
    """A runtime on a PostgreSQL database holding the four needs of the search cases."""
    runtime = postgres_runtime(postgres.create_database("search_cases"), tmp_path_factory.mktemp("search"))
    for overrides in NEEDS:
        file_need(runtime, **overrides)
    yield runtime
    runtime.close()


def plan(runtime, query: str) -> str:
    """PostgreSQL's plan for finding ``query``, told to avoid reading the whole table if it has any other way."""
    statement = select(Need.id).where(matching(query, "postgresql", runtime.customers()))
    compiled = statement.compile(dialect=runtime.engine.dialect)
    with runtime.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
        return "\n".join(rows)


@pytest.mark.parametrize(("query", "refs"), CASES)
def test_search_finds_what_it_finds_on_sqlite(searched, query, refs):
    assert found(searched, query) == refs


@pytest.mark.parametrize("query", ["表匯出", "Invoices", "invoice tax", "N-0003"])
def test_words_of_three_characters_or_more_use_the_trigram_index(searched, query):
    """The query matches the stored lower-cased text that migration 0021 indexes."""
    assert "ix_needs_search_lower" in plan(searched, query)


def test_edits_are_found_at_once(searched):
    with searched.Session.begin() as session:
        session.execute(update(Need).where(Need.ref == "N-0003").values(remarks="等待研發評估"))
    assert found(searched, "研發評估") == ["N-0003"] and found(searched, "研發") == ["N-0003"]


def test_the_needs_page_searches_with_a_filter_and_a_sort(searched):
    file_need(searched, title="報表 second", category="reports", reported_at="2026-11-10T09:00:00+00:00")
    with searched.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=searched).test_client()
    log_in(client)

    html = client.get("/needs?q=報表&category=reports&sort=reported_at&dir=asc").text

    assert table_refs(html) == ["N-0005", "N-0001"]
    assert "<mark>報表</mark>匯出很慢" in html and "<mark>報表</mark> second" in html
    assert "No need matches “麒麟”." in client.get("/needs?q=麒麟").text


def test_the_migration_indexes_the_needs_already_stored(database, tmp_path):
    engine = store.make_engine(database)
    store.migrate(engine, "0004")
    insert_needs(engine, 3)
    engine.dispose()

    runtime = postgres_runtime(database, tmp_path)
    try:
        assert found(runtime, "舊的報表") == ["N-0001", "N-0002", "N-0003"]
        assert found(runtime, "匯出 OLD") == ["N-0001", "N-0002", "N-0003"]
        assert "ix_needs_search_lower" in plan(runtime, "舊的報表")
    finally:
        runtime.close()
