"""Open needs like a typed one, from the search index (``sync.similar``): found across scripts and languages,
grouped by issue, closed and merged needs left out, the typed need's own ref excluded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from sync.ledger.store import Need, NeedMerge
from sync.similar import similar_needs


def suggest(runtime, title, description="", **options):
    with runtime.Session() as session:
        return similar_needs(session, runtime.settings, runtime.engine.dialect.name, title, description, **options)


def test_a_zh_hant_need_finds_its_zh_hans_twin_and_not_the_near_miss(runtime, make_need):
    make_need(title="导出的Excel报表中文乱码", description="月报导出后用Excel打开显示乱码")
    make_need(title="报表增加按季度统计", description="希望报表可以按季度汇总销售数据")
    found = suggest(runtime, "報表匯出Excel時中文亂碼", "用Excel開啟後中文都是亂碼")
    assert [item.ref for item in found] == ["N-0001"]
    assert found[0].score >= 0.35 and found[0].customers == ["acme"] and found[0].issue_key is None


def test_english_needs_are_found_by_their_words(runtime, make_need):
    make_need(title="Tax number missing on PDF invoices", description="Finance rejects invoices without it.")
    make_need(title="Allow editing the invoice title", description="The title was wrong.")
    assert [item.ref for item in suggest(runtime, "Invoices should show the tax number")] == ["N-0001"]
    assert suggest(runtime, "Dashboard charts") == [] and suggest(runtime, "") == []


def test_two_character_words_are_found_without_the_index(runtime, make_need):
    make_need(title="報表 匯出", description="")
    assert [item.ref for item in suggest(runtime, "報表 匯出")] == ["N-0001"]


def test_one_issue_appears_once_with_every_customer_asking(runtime, make_need):
    for ref_title in ("Tax number missing on PDF invoices", "PDF invoices lack the tax number"):
        make_need(title=ref_title)
    with runtime.Session.begin() as session:
        session.execute(update(Need).values(issue_key="acme/billing#7", issue_url="https://github.com/x/7"))
        session.execute(update(Need).where(Need.ref == "N-0002").values(customer="globex"))
    found = suggest(runtime, "Invoices should show the tax number")
    assert len(found) == 1
    assert found[0].issue_key == "acme/billing#7" and sorted(found[0].refs) == ["N-0001", "N-0002"]
    assert sorted(found[0].customers) == ["acme", "globex"]


def test_closed_merged_and_own_needs_are_not_suggested(runtime, make_need):
    for _ in range(4):
        make_need(title="Tax number missing on PDF invoices")
    with runtime.Session.begin() as session:
        session.execute(update(Need).where(Need.ref == "N-0001").values(status="done"))
        session.execute(update(Need).where(Need.ref == "N-0002").values(status="declined"))
        session.add(NeedMerge(from_need_id=3, into_need_id=4, moved=[], merged_by="cs1"))
    assert [item.ref for item in suggest(runtime, "Tax number missing on invoices")] == ["N-0004"]
    assert suggest(runtime, "Tax number missing on invoices", exclude="N-0004") == []
    with runtime.Session.begin() as session:
        session.execute(update(NeedMerge).values(undone_by="cs1", undone_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)))
    assert [item.ref for item in suggest(runtime, "Tax number missing on invoices")] == ["N-0004", "N-0003"]


def test_ties_prefer_the_category_typed_and_limit_counts_issues(runtime, make_need):
    make_need(title="Tax number missing on PDF invoices", category="billing")
    make_need(title="Tax number missing on PDF invoices", category="reports")
    found = suggest(runtime, "Tax number missing on PDF invoices", category="reports")
    assert [item.ref for item in found] == ["N-0002", "N-0001"]
    assert [item.ref for item in suggest(runtime, "Tax number missing on PDF invoices", limit=1)] == ["N-0002"]


def test_a_need_attached_to_another_counts_as_that_one_and_is_not_offered_to_merge_into_it(runtime, make_need):
    make_need(title="Tax number missing on PDF invoices")
    make_need(title="PDF invoices lack the tax number", linked_to="N-0001")
    found = suggest(runtime, "Invoices should show the tax number")
    assert len(found) == 1  # one suggestion for the two, shown by the closer of them
    assert suggest(runtime, "Tax number missing on PDF invoices", exclude="N-0001") == []
