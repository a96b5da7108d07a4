"""A /needs page sorted in config order, read a key at a time, holds the same needs in the same order as the
CASE sort it replaces: every page, both directions, with a filter, with keys the config no longer lists."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from sync.ledger.store import Need
from sync.table import paging
from sync.table.paging import page_of_ids, sort_columns, sorted_ids
from tests.factories import file_need


@pytest.fixture
def needs(runtime, monkeypatch):
    monkeypatch.setattr(paging, "PAGE_SIZE", 3)
    pattern = itertools.cycle([("billing", "high", "acme"), ("reports", "low", "acme"), ("billing", "medium", "acme"),
                               ("reports", "high", "acme"), ("billing", "low", "acme")])
    for number, (category, urgency, customer) in zip(range(17), pattern):
        file_need(runtime, category=category, urgency=urgency, customer=customer, title=f"Need {number}")
    with runtime.Session.begin() as session:  # keys a later config dropped: they sort last, by id
        session.execute(update(Need).where(Need.id.in_([4, 9, 13])).values(category="retired"))
        session.execute(update(Need).where(Need.id.in_([2, 11])).values(status="archived", urgency="someday"))
    return runtime


def pages(runtime, name: str, direction: str, where: list, grouped: bool) -> list[list[int]]:
    sort = sort_columns(runtime.settings)[name]
    assert sort.keys  # sorted in config order
    found, page = [], 1
    with runtime.Session() as session:
        while True:
            ids, total, shown = page_of_ids(session, sorted_ids(where, name, sort, direction), where, page, False,
                                            sort if grouped else None, direction)
            if shown < page:
                break
            found.append(ids)
            page += 1
        assert sum(map(len, found)) == total
    return found


@pytest.mark.parametrize("name", ["category", "urgency", "status"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("where", [[], [Need.urgency == "high"]], ids=["all", "filtered"])
def test_a_key_at_a_time_gives_the_pages_of_the_case_sort(needs, name, direction, where):
    grouped = pages(needs, name, direction, where, grouped=True)
    assert grouped == pages(needs, name, direction, where, grouped=False)
    assert len(grouped) >= 2 and all(grouped)


def test_keys_the_config_no_longer_lists_come_last_by_id(needs):
    order = [need_id for page in pages(needs, "category", "asc", [], grouped=True) for need_id in page]
    assert order[-3:] == [4, 9, 13]
    assert pages(needs, "category", "desc", [], grouped=True)[0] == [13, 9, 4]


def test_a_page_past_the_end_shows_the_last(needs):
    sort = sort_columns(needs.settings)["urgency"]
    with needs.Session() as session:
        ids, total, page = page_of_ids(session, sorted_ids([], "urgency", sort, "asc"), [], 99, False, sort, "asc")
    assert (total, page, len(ids)) == (17, 6, 2)
