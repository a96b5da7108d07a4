"""``cocreate import``, ``export``, ``report voc`` and ``sla check`` through click's test runner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.store import Job, Need
from sync.runtime import build_runtime
from tests.table.helpers import TABLE_YAML
from tests.table.sheets import SEED_HEADERS, read_cells, write_csv, write_xlsx
from webhooks.cli import main

HEADER = SEED_HEADERS["zh_Hant"] + ["客戶"]
GOOD = ["1", "計費", "發票要顯示稅號", "", "高", "Li Na", "2026-11-20 09:30", "Wang Wei", "", "", "acme"]
BAD = ["2", "計費", "", "", "超急", "Li Na", "2026-11-20 09:30", "", "", "", "acme"]


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``cocreate`` with the table tests' config and a fresh data folder."""
    config = tmp_path / "cocreate.yaml"
    config.write_text(TABLE_YAML, encoding="utf-8")
    monkeypatch.setenv("COCREATE_CONFIG", str(config))
    monkeypatch.setenv("COCREATE_HOME", str(tmp_path / "data"))
    # Messages follow the locale environment first: C leaves them to the config, whatever the developer's LANG.
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def stored(tmp_path) -> tuple[list[str], list[Job]]:
    runtime = build_runtime(parse_settings(TABLE_YAML), {"COCREATE_HOME": str(tmp_path / "data")}, migrate=False)
    try:
        with runtime.Session() as session:
            return list(session.scalars(select(Need.ref).order_by(Need.id))), session.scalars(select(Job)).all()
    finally:
        runtime.engine.dispose()


def test_import_dry_run_lists_problems_and_exits_1_without_writing(cli, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, GOOD, BAD])
    result = cli("import", str(sheet), "--dry-run")

    assert result.exit_code == 1
    # The problems are in the sheet's language (its headers are zh-Hant), the rest in the command's (en).
    assert result.stdout.splitlines() == [
        "第 3 列, 問題詳細描述 (C): 此欄位為必填。",
        "第 3 列, 緊急程度 (E): 未知的緊急程度 超急。",
        "Dry run of needs.xlsx: 2 rows: 1 new, 0 updated, 0 unchanged, 1 refused. Nothing was written.",
    ]
    assert stored(tmp_path) == ([], [])


@pytest.mark.parametrize(("language", "required", "lang"), [
    ("zh_Hans", "第 3 行, 问题详细描述 (C): 此项为必填项。", "C.UTF-8"),
    ("en", "row 3, Description (C): This field is required.", "zh_TW.UTF-8"),
])
def test_problems_are_told_in_the_language_of_the_sheets_headers(cli, tmp_path, monkeypatch, language, required,
                                                                  lang):
    monkeypatch.setenv("LANG", lang)
    header = SEED_HEADERS[language] + [{"zh_Hans": "客户", "en": "Customer"}[language]]
    result = cli("import", str(write_xlsx(tmp_path / "needs.xlsx", [header, GOOD, BAD])), "--dry-run")

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == required
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("試執行 needs.xlsx" if lang.startswith("zh_TW") else "Dry run of needs.xlsx"), summary


def test_dry_run_lists_the_fields_a_row_changes_old_and_new(cli, tmp_path):
    cli("import", str(write_xlsx(tmp_path / "needs.xlsx", [HEADER, GOOD, ["2", *GOOD[1:]]])))
    exported = tmp_path / "out.csv"
    cli("export", str(exported))

    again = cli("import", str(exported), "--dry-run")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "Dry run of out.csv: 2 rows: 0 new, 0 updated, 2 unchanged, 0 refused. Nothing was written."]

    rows = read_cells(exported)
    rows[2][7] = "Chen Jie"  # need 2's owner
    changed = cli("import", str(write_csv(tmp_path / "changed.csv", rows)), "--dry-run")
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.splitlines() == [
        "2 (row 3), Owner: Wang Wei -> Chen Jie",
        "Dry run of changed.csv: 2 rows: 0 new, 1 updated, 1 unchanged, 0 refused. Nothing was written."]
    assert stored(tmp_path)[0] == ["1", "2"]


def test_without_a_tracker_imported_needs_wait_and_no_job_is_queued(cli, tmp_path):
    tracker = TABLE_YAML[TABLE_YAML.index("tracker:"):TABLE_YAML.index("customers:")]
    (tmp_path / "cocreate.yaml").write_text(TABLE_YAML.replace(tracker, "").replace("    jira_project: CS\n", ""),
                                            encoding="utf-8")
    result = cli("import", str(write_xlsx(tmp_path / "needs.xlsx", [HEADER, GOOD])))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "1 need(s) wait for a tracker: their issues are made once one is configured.")
    refs, jobs = stored(tmp_path)
    assert refs == ["1"] and jobs == []


def test_import_writes_good_rows_and_queues_their_sync_then_export_round_trips(cli, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, GOOD, BAD])
    result = cli("import", str(sheet), "--as", "cs1")

    assert result.exit_code == 1  # a row was refused
    assert "Imported needs.xlsx: 2 rows: 1 new, 0 updated, 0 unchanged, 1 refused (not written)." in result.stdout
    assert "1 sync job(s) queued for 1 need(s)." in result.stdout
    refs, jobs = stored(tmp_path)
    assert refs == ["1"] and [(job.name, job.args) for job in jobs] == [("sync_needs", [["1"]])]

    exported = tmp_path / "out.csv"
    result = cli("export", str(exported), "--lang", "zh-Hans")
    assert result.exit_code == 0 and result.stdout.strip() == f"1 needs written to {exported}"
    assert read_cells(exported)[0][:3] == ["序号", "产品类别", "问题详细描述"]

    again = cli("import", str(exported))
    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 1 unchanged, 0 refused" in again.stdout

    workbook = tmp_path / "out.xlsx"
    result = cli("export", str(workbook), "--lang", "zh-Hans")
    assert result.exit_code == 0 and result.stdout.strip() == f"1 needs written to {workbook}"
    assert read_cells(workbook)[1][:3] == read_cells(exported)[1][:3]


def test_unreadable_file_is_refused_with_its_reason(cli, tmp_path):
    sheet = tmp_path / "notes.csv"
    sheet.write_text("just some notes\n", encoding="utf-8")
    result = cli("import", str(sheet))
    assert result.exit_code == 2 and "No header row found in the first 10 rows" in result.stderr


def test_export_refuses_other_suffixes_and_unknown_zones(cli, tmp_path):
    result = CliRunner().invoke(main, ["export", str(tmp_path / "needs.ods")])
    assert result.exit_code == 2 and "FILE must end in .xlsx or .csv" in result.output
    result = CliRunner().invoke(main, ["export", str(tmp_path / "needs.csv"), "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in result.output


def test_report_voc_prints_figures_and_writes_html_and_pdf(cli, tmp_path):
    cli("import", str(write_xlsx(tmp_path / "needs.xlsx", [HEADER, GOOD])))

    result = cli("report", "voc", "--month", "2026-11", "--output", str(tmp_path / "voc.html"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Voice of the customer, 2026-11", "Needs raised: 1"]
    assert "Needs by urgency: Critical 0, High 1, Medium 0, Low 0" in lines
    assert "<img class=\"chart\"" in (tmp_path / "voc.html").read_text(encoding="utf-8")

    pdf = tmp_path / "voc.pdf"
    result = cli("report", "voc", "--month", "2026-11", "--lang", "zh-Hant", "--output", str(pdf))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "客戶之聲月報（2026-11）"
    assert pdf.read_bytes().startswith(b"%PDF")

    bad = CliRunner().invoke(main, ["report", "voc", "--month", "November"])
    assert bad.exit_code == 2 and "not a month such as 2026-11" in bad.output


def test_sla_check_counts_overdue_needs(cli, tmp_path):
    old = ["5", "計費", "Raised long ago", "", "緊急", "Li Na", "2026-01-05", "Wang Wei", "", "", "acme"]
    cli("import", str(write_xlsx(tmp_path / "needs.xlsx", [HEADER, old])))
    result = cli("sla", "check")
    # Overdue, but already before Cocreate knew of it: shown, not escalated.
    assert result.exit_code == 0 and result.stdout.strip() == "1 overdue need(s); 0 escalation notice(s) queued"
