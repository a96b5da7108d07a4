"""Workbooks that are not readable .xlsx files (broken XML, bad cells, entities): one clear problem on the import
page (400), on ``cocreate import`` (exit 2) and from ``import_table``, and nothing left in ``data/imports``.

Each bad file is a good export with one part corrupted."""

from __future__ import annotations

import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import delete

from sync.ledger.store import Need
from sync.table.columns import TableError
from sync.table.export import export_table
from sync.table.importer import import_table
from tests.factories import file_need
from tests.table.test_table_cli import cli  # noqa: F401  (the fixture)
from tests.table.test_table_web import upload

SHEET = "xl/worksheets/sheet1.xml"
BROKEN = {
    "unclosed tag": (SHEET, "</sheetData>", "<row", "not well-formed"),
    "date": (SHEET, '<c r="G2" s="4"><v>46346.395833333336</v>', '<c r="G2" s="4" t="d"><v>tomorrow</v>',
             "Invalid datetime value tomorrow"),
    "row number": (SHEET, '<c r="B2"', '<c r="2B"', "invalid literal for int()"),
    "column name": (SHEET, '<c r="B2"', '<c r="ABCDE2"', "ABCDE"),
    "entity": (SHEET, "<worksheet", '<!DOCTYPE worksheet [<!ENTITY x "y">]><worksheet', "Unable to read workbook"),
    "workbook": ("xl/workbook.xml", "</workbook>", "", "no element found"),
}


def exported(runtime, path):
    file_need(runtime)
    export_table(runtime, path, "xlsx", locale="en")
    return path


def corrupt(good, path, part, old, new):
    """``good`` with ``old`` replaced by ``new`` in its ``part``, written to ``path``."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode())
            target.writestr(info, data)
    return path


@pytest.fixture
def good(runtime, tmp_path):
    return exported(runtime, tmp_path / "good.xlsx")


@pytest.mark.parametrize("case", BROKEN)
def test_import_table_says_the_file_is_not_a_readable_xlsx(runtime, good, tmp_path, case):
    part, old, new, reason = BROKEN[case]
    bad = corrupt(good, tmp_path / "bad.xlsx", part, old, new)
    with pytest.raises(TableError) as error:
        import_table(runtime, bad, dry_run=True)
    [problem] = error.value.problems
    assert problem.render().startswith("bad.xlsx is not a readable .xlsx file: ") and reason in problem.render()


def alert(html: str) -> str:
    found = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


@pytest.mark.parametrize("case", BROKEN)
def test_upload_of_a_broken_workbook_is_refused_and_not_kept(cs_client, runtime, good, tmp_path, case):
    part, old, new, reason = BROKEN[case]
    page = upload(cs_client, corrupt(good, tmp_path / "bad.xlsx", part, old, new))
    assert page.status_code == 400
    assert "bad.xlsx is not a readable .xlsx file: " in alert(page.text) and reason in alert(page.text)
    assert list((runtime.home / "imports").iterdir()) == []


def test_confirm_of_a_workbook_that_broke_since_is_refused_and_not_kept(cs_client, runtime, good, tmp_path):
    with runtime.Session.begin() as session:  # the exported need is gone, so the upload would create it
        session.execute(delete(Need))
    page = upload(cs_client, good)
    confirm = re.search(r'action="(/needs/import/[A-Za-z0-9_-]+)"', page.text).group(1)
    [stored] = (runtime.home / "imports").glob("*.xlsx")
    part, old, new, reason = BROKEN["date"]
    corrupt(good, tmp_path / "bad.xlsx", part, old, new).replace(stored)

    done = cs_client.post(confirm)

    assert done.status_code == 400 and reason in alert(done.text) and "good.xlsx is not a readable" in alert(done.text)
    assert list((runtime.home / "imports").iterdir()) == []


def test_cli_prints_why_and_exits_2(cli, runtime, good, tmp_path):  # noqa: F811
    part, old, new, reason = BROKEN["unclosed tag"]
    result = cli("import", str(corrupt(good, tmp_path / "bad.xlsx", part, old, new)), "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith("bad.xlsx is not a readable .xlsx file: ") and reason in result.stderr
