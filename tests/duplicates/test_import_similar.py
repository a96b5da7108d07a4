"""The table import's dry run notes, for each new row, the most similar open need (a row CS may rather attach
through its "Linked to" column); a real import and rows linked already are not compared."""

from __future__ import annotations

from sync.table.importer import import_table
from tests.factories import NOW
from tests.table.sheets import write_xlsx
from tests.table.test_table_import import HEADER, row


def test_dry_run_notes_the_open_need_a_new_row_is_like(runtime, make_need, tmp_path):
    make_need(title="发票要显示税号", description="财务无法报账")
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("", description="發票要顯示稅號\n財務無法報帳"),
                                                  row("", description="儀表板增加自訂圖表")])
    report = import_table(runtime, sheet, dry_run=True, now=NOW)
    notes = [problem.render() for problem in report.warnings if "Like" in problem.message]
    assert len(notes) == 1
    assert notes[0].startswith("row 2") and "Like N-0001 “发票要显示税号” (similarity" in notes[0]
    assert "put N-0001 in “Linked to”" in notes[0]


def test_a_real_import_is_not_compared(runtime, make_need, tmp_path):
    make_need(title="发票要显示税号", description="财务无法报账")
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("", description="發票要顯示稅號\n財務無法報帳")])
    report = import_table(runtime, sheet, dry_run=False, now=NOW)
    assert report.created == 1 and not [problem for problem in report.warnings if "Like" in problem.message]
