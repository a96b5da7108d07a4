"""Importing the requirement table: dry run with one message per problem, only good rows written, re-import
updates by 序號, headers in every language and configured aliases, encodings, sequence numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from sync.ledger.store import Need, StatusChange
from sync.table.changes import SHOWN_CHARS, FieldChange, describe, shorten
from sync.table.columns import TableError
from sync.table.importer import SYNC_CHUNK, import_table
from sync.table.sheets import TITLE_DERIVED, derive_title, parse_sheet_time
from tests.factories import NOW, file_need
from tests.table.sheets import (
    SEED_HEADERS,
    need_count,
    needs_by_ref,
    write_csv,
    write_xlsx,
)

HEADER = SEED_HEADERS["zh_Hant"] + ["客戶"]


def row(ref="1", category="計費", description="發票要顯示稅號\n財務無法報帳", urgency="高", reporter="Li Na",
        reported="2026/11/20 09:30", owner="Wang Wei", status="", remarks="", customer="ACME Corp"):
    """One row of the seed sheet in zh-Hant, screenshots column empty; a test names what differs."""
    return [ref, category, description, "", urgency, reporter, reported, owner, status, remarks, customer]


def bad_sheet(path):
    """Two good rows and one row per kind of problem the issue names."""
    return write_xlsx(path, [
        HEADER,
        row("1"),
        row("2", description="報表匯出要有篩選"),
        row("3", description=""),
        row("4", urgency="超急"),
        row("5", reported="下週二"),
        row("2", description="Same number as row 4"),
        row("6", category="報表", description="Good as well", urgency="低"),
    ], title_rows=[["客戶需求收集表 2026"]])


def test_dry_run_refuses_bad_rows_with_one_message_per_problem_and_writes_nothing(runtime, tmp_path):
    report = import_table(runtime, bad_sheet(tmp_path / "needs.xlsx"), dry_run=True, now=NOW)

    assert [problem.render() for problem in report.problems] == [
        "row 5, 問題詳細描述 (C): This field is required.",
        "row 6, 緊急程度 (E): Unknown urgency 超急.",
        "row 7, 反饋時間 (G): Not a valid date and time, e.g. 2026-11-23 14:30.",
        "row 8, 序號 (A): Sequence number 2 is already used on row 4.",
    ]
    assert report.refused_rows == [5, 6, 7, 8]
    assert (report.rows, report.created, report.updated, report.unchanged) == (7, 3, 0, 0)
    assert report.language == "zh_Hant" and not report.ok
    assert need_count(runtime) == 0 and runtime.queue.jobs == []


def test_real_import_writes_only_the_good_rows_and_queues_their_sync(runtime, tmp_path):
    report = import_table(runtime, bad_sheet(tmp_path / "needs.xlsx"), dry_run=False, now=NOW, actor="cs1")

    assert len(report.problems) == 4 and report.created == 3
    needs = needs_by_ref(runtime)
    assert sorted(needs) == ["1", "2", "6"]
    first = needs["1"]
    # No title column: the description is the whole cell, the title its first line.
    assert (first.title, first.description) == ("發票要顯示稅號", "發票要顯示稅號\n財務無法報帳")
    assert (first.category, first.urgency, first.customer, first.owner) == ("billing", "high", "acme", "Wang Wei")
    assert first.reported_at == dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    assert first.status == "new" and first.sync_state == "pending" and first.created_by == "cs1"
    assert needs["2"].title == "報表匯出要有篩選"  # the first row with number 2, not the duplicate
    assert runtime.queue.named("sync_needs") == [(["1", "2", "6"],)]
    with runtime.Session() as session:
        entry = session.scalars(select(StatusChange).where(StatusChange.need_id == first.id)).one()
    assert (entry.source, entry.status, entry.note) == ("import", "new", "needs.xlsx #3")


def test_reimport_updates_by_sequence_number_instead_of_duplicating(runtime, tmp_path):
    sheet = [HEADER, row("1"), row("2", description="Second", status="已受理")]
    import_table(runtime, write_xlsx(tmp_path / "v1.xlsx", sheet), dry_run=False, now=NOW)
    runtime.queue.jobs.clear()

    again = import_table(runtime, write_xlsx(tmp_path / "v1.xlsx", sheet), dry_run=False, now=NOW)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert runtime.queue.jobs == []

    sheet[1] = row("1", remarks="Promised for December", owner="Chen Jie")
    sheet[2] = row("2", description="Second", status="已排期")
    sheet.append(row("3", description="Third"))
    changed = import_table(runtime, write_xlsx(tmp_path / "v2.xlsx", sheet), dry_run=False, now=NOW)

    assert (changed.created, changed.updated, changed.unchanged) == (1, 2, 0)
    assert need_count(runtime) == 3
    needs = needs_by_ref(runtime)
    assert (needs["1"].remarks, needs["1"].owner) == ("Promised for December", "Chen Jie")
    assert needs["2"].status == "scheduled"
    # Need 2 changed only its status, which is not sent to the tracker: only 1 and 3 are synced.
    assert runtime.queue.named("sync_needs") == [(["1", "3"],)]
    with runtime.Session() as session:
        history = session.scalars(select(StatusChange).join(Need).where(Need.ref == "2")
                                  .order_by(StatusChange.id)).all()
    assert [(entry.previous, entry.status, entry.source) for entry in history] == [
        (None, "accepted", "import"), ("accepted", "scheduled", "import")]


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans", "en"])
def test_headers_in_each_language(runtime, tmp_path, language):
    values = {"zh_Hant": ("計費", "緊急", "已完成"), "zh_Hans": ("计费", "紧急", "已完成"),
              "en": ("Billing", "Critical", "Done")}[language]
    header = SEED_HEADERS[language] + [{"zh_Hant": "客戶", "zh_Hans": "客户", "en": "Customer"}[language]]
    sheet = write_csv(tmp_path / "needs.csv", [header, row("7", category=values[0], urgency=values[1],
                                                            status=values[2], customer="acme")])

    report = import_table(runtime, sheet, dry_run=False, now=NOW)

    assert report.ok and report.language == language and report.warnings == []
    need = needs_by_ref(runtime)["7"]
    assert (need.category, need.urgency, need.status) == ("billing", "critical", "done")


def test_configured_aliases_variants_and_unknown_columns(runtime, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [
        ["編號", "類別", "需求內容", "優先級", "提出人", "日期", "客戶名稱", "內部代號"],
        ["A-1", "reports", "匯出 PDF", "high", "Li Na", dt.datetime(2026, 11, 2, 8, 15), "acme", "X9"],
    ])
    with pytest.raises(TableError) as missing:
        import_table(runtime, sheet, dry_run=True, now=NOW)
    # No header is written exactly as in one language; their characters (編號, 類別) are Traditional Chinese.
    assert missing.value.language == "zh_Hant"
    assert [problem.render() for problem in missing.value.problems] == [
        "row 1, 問題詳細描述: The sheet has no such column; every need needs its description."]

    aliases = {"description": ["需求內容"], "reporter": ["提出人"], "reported_at": ["日期"]}
    report = import_table(runtime, sheet, dry_run=False, now=NOW, aliases=aliases)

    assert report.ok
    assert [problem.render() for problem in report.warnings] == [
        "row 1, 內部代號 (H): Unknown column; it is not imported."]
    need = needs_by_ref(runtime)["A-1"]
    assert (need.title, need.reporter_name) == ("匯出 PDF", "Li Na")
    assert need.reported_at == dt.datetime(2026, 11, 2, 8, 15, tzinfo=dt.UTC)


def test_file_level_problems_refuse_the_whole_file(runtime, tmp_path):
    no_header = write_csv(tmp_path / "notes.csv", [["just"], ["some notes"]])
    with pytest.raises(TableError) as error:
        import_table(runtime, no_header, dry_run=True)
    assert error.value.problems[0].message.startswith("No header row found")

    twice = write_csv(tmp_path / "twice.csv", [["序號", "問題詳細描述", "Description"], ["1", "a", "b"]])
    with pytest.raises(TableError) as error:
        import_table(runtime, twice, dry_run=True)
    assert [problem.render() for problem in error.value.problems] == [
        "row 1, Description (C): Same column as 問題詳細描述 (B); keep one of them."]

    not_a_table = tmp_path / "needs.xlsx"
    not_a_table.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(TableError, match="needs.xlsx is not a readable .xlsx file"):
        import_table(runtime, not_a_table, dry_run=True)
    with pytest.raises(TableError, match="not an .xlsx or .csv file"):
        import_table(runtime, tmp_path / "needs.ods", dry_run=True)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030", "big5"])
def test_csv_in_the_encodings_excel_writes(runtime, tmp_path, encoding):
    simplified = encoding in ("gb18030",)
    header = SEED_HEADERS["zh_Hans" if simplified else "zh_Hant"]
    rows = [header, ["8", "计费" if simplified else "計費", "发票问题" if simplified else "發票問題", "", "高", "李娜",
                     "2026-11-20", "", "", ""]]
    sheet = write_csv(tmp_path / "needs.csv", rows, encoding=encoding)

    report = import_table(runtime, sheet, dry_run=False, now=NOW, default_customer="globex")

    assert report.ok, [problem.render() for problem in report.problems]
    need = needs_by_ref(runtime)["8"]
    assert (need.title, need.reporter_name, need.customer) == ("发票问题" if simplified else "發票問題", "李娜", "globex")


def test_sequence_numbers_in_cocreate_form_keep_their_number(runtime, tmp_path, make_need):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [
        HEADER,
        row("N-0050", description="From another Cocreate"),
        row("N-0001", description="Update of the need filed in the form"),
        row("", description="No number at all"),
        row("17 b", description="Space in the number"),
        row("export", description="No digit"),
    ])
    make_need()  # N-0001 exists, filed through the form

    report = import_table(runtime, sheet, dry_run=False, now=NOW)

    needs = needs_by_ref(runtime)
    assert needs["N-0050"].id == 50
    assert needs["N-0001"].title == "Update of the need filed in the form" and report.updated == 1
    assert "N-0051" in needs and needs["N-0051"].title == "No number at all"
    assert [problem.render() for problem in report.problems] == [
        "row 5, 序號 (A): A sequence number needs a digit and may use letters, digits, '.', '_' and '-', "
        "up to 32 characters.",
        "row 6, 序號 (A): A sequence number needs a digit and may use letters, digits, '.', '_' and '-', "
        "up to 32 characters.",
    ]
    assert [problem.render() for problem in report.warnings] == [
        "row 4, 序號 (A): No sequence number: importing this sheet again will add this row again."]
    # The form numbers the next need after the imported ones.
    later = file_need(runtime)
    assert later.ref == "N-0052"


def test_a_missing_cocreate_ref_whose_number_is_taken_is_refused(runtime, tmp_path):
    import_table(runtime, write_xlsx(tmp_path / "a.xlsx", [HEADER, row("17")]), dry_run=False, now=NOW)
    with runtime.Session() as session:
        number = session.scalar(select(Need.id).where(Need.ref == "17"))

    report = import_table(runtime, write_xlsx(tmp_path / "b.xlsx", [HEADER, row(f"N-{number:04d}")]),
                          dry_run=True, now=NOW)

    assert [problem.render() for problem in report.problems] == [
        f"row 2, 序號 (A): N-{number:04d} is not in Cocreate and its number is taken by 17; leave the sequence "
        "number empty to add this row as a new need."]


def test_status_of_a_need_with_a_tracker_issue_comes_from_the_tracker(runtime, tmp_path):
    import_table(runtime, write_xlsx(tmp_path / "a.xlsx", [HEADER, row("1")]), dry_run=False, now=NOW)
    with runtime.Session.begin() as session:
        session.scalars(select(Need)).one().issue_key = "CS-7"

    report = import_table(runtime, write_xlsx(tmp_path / "b.xlsx", [HEADER, row("1", status="已完成")]),
                          dry_run=False, now=NOW)

    assert report.unchanged == 1 and needs_by_ref(runtime)["1"].status == "new"
    assert [problem.render() for problem in report.warnings] == [
        "row 2, 狀態 (I): The tracker sets this need's status (now 已登記); the sheet's value is not imported."]


def test_unknown_status_and_reporter_with_address(runtime, tmp_path):
    sheet = write_xlsx(tmp_path / "a.xlsx", [HEADER, row("1", status="完成了"),
                                             row("2", reporter="Li Na <li.na@acme.example>")])
    report = import_table(runtime, sheet, dry_run=False, now=NOW)

    assert [problem.render() for problem in report.problems] == ["row 2, 狀態 (I): Unknown status 完成了."]
    need = needs_by_ref(runtime)["2"]
    assert (need.reporter_name, need.reporter_email) == ("Li Na", "li.na@acme.example")


def test_rows_missing_a_customer_name_the_column_and_take_the_default(runtime, tmp_path):
    sheet = write_xlsx(tmp_path / "a.xlsx", [SEED_HEADERS["zh_Hant"], row("1")[:10]])
    refused = import_table(runtime, sheet, dry_run=True, now=NOW)
    assert [problem.render() for problem in refused.problems] == ["row 2, 客戶: This field is required."]

    accepted = import_table(runtime, sheet, dry_run=False, now=NOW, default_customer="ACME Corp")
    assert accepted.ok and needs_by_ref(runtime)["1"].customer == "acme"  # the name resolves to the key


def test_progress_is_reported_per_batch(runtime, tmp_path, monkeypatch):
    monkeypatch.setattr("sync.table.importer.BATCH_ROWS", 2)
    sheet = write_csv(tmp_path / "a.csv", [HEADER] + [row(str(number)) for number in range(1, 6)])
    calls = []
    report = import_table(runtime, sheet, dry_run=False, now=NOW,
                          progress=lambda done, total: calls.append((done, total)))
    assert report.created == 5 and calls == [(2, 5), (4, 5), (5, 5)]


def test_sync_jobs_come_in_chunks(runtime, tmp_path):
    count = SYNC_CHUNK + 3
    sheet = write_csv(tmp_path / "many.csv", [HEADER] + [row(str(number)) for number in range(1, count + 1)])
    import_table(runtime, sheet, dry_run=False, now=NOW)
    chunks = [args[0] for args in runtime.queue.named("sync_needs")]
    assert [len(chunk) for chunk in chunks] == [SYNC_CHUNK, 3] and chunks[0][0] == "1"


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20 09:30", dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)),
    ("2026/11/20", dt.datetime(2026, 11, 19, 16, 0, tzinfo=dt.UTC)),
    ("2026.11.20 9:05:30", dt.datetime(2026, 11, 20, 1, 5, 30, tzinfo=dt.UTC)),
    ("2026年11月20日 09:30", dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)),
    ("2026-11-20T09:30:00+02:00", dt.datetime(2026, 11, 20, 7, 30, tzinfo=dt.UTC)),
    (dt.datetime(2026, 11, 20, 9, 29, 59, 999_600), dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)),
    ("2026-02-30", None),
    ("next Tuesday", None),
])
def test_sheet_times_in_the_sheets_zone(text, expected):
    from zoneinfo import ZoneInfo

    assert parse_sheet_time(text, ZoneInfo("Asia/Shanghai")) == expected


@pytest.mark.parametrize(("description", "title"), [
    ("發票要顯示稅號\n財務無法報帳", "發票要顯示稅號"),
    ("發票要顯示稅號。財務無法報帳。", "發票要顯示稅號"),
    ("能否匯出 PDF？客戶每月要用", "能否匯出 PDF？"),
    ("Export v1.2 reports as PDF. Monthly, with the logo", "Export v1.2 reports as PDF"),
    ("Can we   export to PDF? Monthly", "Can we export to PDF?"),
    ("  登入很慢  ", "登入很慢"),
    ("客" * 70, "客" * (TITLE_DERIVED - 1) + "…"),
    ("Invoices should show the tax number of the customer on every single PDF page",
     "Invoices should show the tax number of the customer on…"),
    ("e\u0301" * 40, "e\u0301" * 29 + "…"),  # an accent stays with its letter
    ("\U0001f468\u200d\U0001f4bb" * 30, "\U0001f468\u200d\U0001f4bb" * 19 + "…"),  # so does a joined emoji
])
def test_a_title_is_derived_from_the_description(description, title):
    derived = derive_title(description)
    assert derived == title and len(derived) <= TITLE_DERIVED


@given(st.text(max_size=300))
def test_a_derived_title_is_short_and_part_of_the_text(description):
    title = derive_title(description)
    assert len(title) <= TITLE_DERIVED
    assert title.removesuffix("…") == "" or title.removesuffix("…").split()[0] in description


def test_the_seeds_ten_columns_keep_the_whole_text_as_the_description(runtime, tmp_path):
    text = "客戶反映登入頁面載入很慢，尤其是在早上九點到十點之間。已經持續一週，影響三個分店的收銀。"
    seed = ["序號", "產品類別", "問題詳細描述", "截圖", "緊急程度", "提出人", "提出時間", "跟進人", "狀態", "備註"]
    sheet = write_xlsx(tmp_path / "seed.xlsx", [seed, ["1", "計費", text, "", "高", "Li Na", "2026/11/20 09:30",
                                                        "Wang Wei", "", "每週回報"]])

    report = import_table(runtime, sheet, dry_run=False, now=NOW, default_customer="acme")

    assert report.ok and report.created == 1 and report.language == "zh_Hant" and report.warnings == []
    need = needs_by_ref(runtime)["1"]
    assert need.description == text
    assert need.title == "客戶反映登入頁面載入很慢，尤其是在早上九點到十點之間"
    assert (need.reporter_name, need.remarks) == ("Li Na", "每週回報")
    assert need.reported_at == dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)

    again = import_table(runtime, sheet, dry_run=True, now=NOW, default_customer="acme")
    assert (again.updated, again.unchanged, again.changes) == (0, 1, [])


def test_a_title_column_sets_the_title_and_an_unchanged_description_keeps_it(runtime, tmp_path):
    header = [*HEADER, "標題"]
    import_table(runtime, write_xlsx(tmp_path / "a.xlsx", [header, [*row("1"), "稅號"]]), dry_run=False, now=NOW)
    assert needs_by_ref(runtime)["1"].title == "稅號"

    # The team's own sheet, without the title column: the description as stored keeps its title ...
    import_table(runtime, write_xlsx(tmp_path / "b.xlsx", [HEADER, row("1")]), dry_run=False, now=NOW)
    assert needs_by_ref(runtime)["1"].title == "稅號"
    # ... a new description gives a new title.
    import_table(runtime, write_xlsx(tmp_path / "c.xlsx", [HEADER, row("1", description="抬頭要含稅號\n細節")]),
                 dry_run=False, now=NOW)
    need = needs_by_ref(runtime)["1"]
    assert (need.title, need.description) == ("抬頭要含稅號", "抬頭要含稅號\n細節")


def test_reimport_counts_and_lists_only_fields_that_really_differ(runtime, tmp_path):
    import_table(runtime, write_xlsx(tmp_path / "a.xlsx", [HEADER, row("1"), row("2")]), dry_run=False, now=NOW)

    # Trailing spaces and another line ending are not a change; a new urgency and a new status are.
    sheet = write_xlsx(tmp_path / "b.xlsx", [HEADER, row("1", description="發票要顯示稅號  \r\n財務無法報帳"),
                                             row("2", urgency="緊急", status="已受理")])
    report = import_table(runtime, sheet, dry_run=True, now=NOW)

    assert (report.updated, report.unchanged) == (1, 1)
    assert report.changes == [FieldChange("2", 3, "urgency", "high", "critical"),
                              FieldChange("2", 3, "status", "new", "accepted")]
    assert [describe(change, runtime.settings, "zh_Hant") for change in report.changes] == [
        ("緊急程度", "高", "緊急"), ("狀態", "已登記", "已受理")]
    assert [describe(change, runtime.settings, "en")[0] for change in report.changes] == ["Urgency", "Status"]

    written = import_table(runtime, sheet, dry_run=False, now=NOW)
    assert (written.updated, written.unchanged) == (1, 1)
    assert needs_by_ref(runtime)["1"].description == "發票要顯示稅號\n財務無法報帳"  # not rewritten


def test_a_long_changed_text_is_shown_around_its_difference():
    old = "客戶反映登入頁面載入很慢，" * 8 + "上週開始。"
    new = "客戶反映登入頁面載入很慢，" * 8 + "本週開始。"
    shown_old, shown_new = shorten(old, new)
    assert len(shown_old) <= SHOWN_CHARS + 1 and shown_old != shown_new
    assert shown_old.startswith("…") and shown_old.endswith("上週開始。") and shown_new.endswith("本週開始。")
    assert shorten("short", "") == ("short", "")
    assert shorten("a\nb", "a  b") == ("a↵b", "a b")
