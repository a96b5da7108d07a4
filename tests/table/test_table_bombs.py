"""Spreadsheet bombs: a sheet past ``table.max_rows`` stops at the limit, an .xlsx that unpacks too far, too
tightly or into too many parts is refused before it is parsed, and a report keeps at most ``PROBLEMS_SHOWN``
problems. Memory is measured in this process with tracemalloc (generous bounds; never time)."""

from __future__ import annotations

import os
import re
import tracemalloc
import zipfile

import pytest

from plugin.loading import parse_settings
from sync.runtime import JOBS
from sync.table.columns import PROBLEMS_SHOWN, TableError
from sync.table.importer import import_table
from tests.table.helpers import TABLE_YAML
from tests.table.sheets import write_csv, write_xlsx
from tests.table.test_table_bad_files import alert, exported
from tests.table.test_table_cli import cli  # noqa: F401  (the fixture)
from tests.table.test_table_web import HEADER, problems_shown, row, upload

MAX_ROWS = 1000
MB = 2**20


@pytest.fixture
def settings():
    return parse_settings(TABLE_YAML + f"\ntable:\n  max_rows: {MAX_ROWS}\n", "table.yaml")


@pytest.fixture
def good(runtime, tmp_path):
    return exported(runtime, tmp_path / "good.xlsx")


def rebuilt(good, path, *, sheet_rows=None, extra=()):
    """``good`` with its worksheet's rows replaced by ``sheet_rows`` (row XML, streamed) and the parts ``extra``
    (name, chunks of bytes) added, written part by part so that no large part is ever held in memory."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml" and "xl/sharedStrings.xml" in dict(extra):
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if info.filename == "xl/worksheets/sheet1.xml" and sheet_rows is not None:
                head, tail = data.split(b'<row r="2">', 1)
                with target.open(info.filename, "w", force_zip64=True) as part:
                    part.write(head)
                    for xml in sheet_rows:
                        part.write(xml.encode())
                    part.write(b"</sheetData>" + tail.split(b"</sheetData>", 1)[1])
                continue
            target.writestr(info, data)
        for name, chunks in extra:
            with target.open(name, "w", force_zip64=True) as part:
                for chunk in chunks:
                    part.write(chunk)
    return path


def bad_rows(count):
    """Rows with an unknown urgency and no description: two problems each."""
    for number in range(2, count + 2):
        yield (f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{number}</t></is></c>'
               f'<c r="B{number}" t="inlineStr"><is><t>Billing</t></is></c>'
               f'<c r="E{number}" t="inlineStr"><is><t>Extreme</t></is></c></row>')


def peak_of(action):
    """``action()``'s result and the peak of memory allocated while it ran, in bytes."""
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_100k_bad_rows_stop_at_the_row_limit(cs_client, runtime, good, tmp_path):
    sheet = rebuilt(good, tmp_path / "bad-rows.xlsx", sheet_rows=bad_rows(100_000))

    answer, peak = peak_of(lambda: upload(cs_client, sheet))

    assert answer.status_code == 303 and peak < 20 * MB  # over table.inline_rows: checked by a job, not here
    _nothing, peak = peak_of(lambda: JOBS["check_import"](runtime, answer.headers["Location"].rsplit("/", 1)[1]))
    page = cs_client.get(answer.headers["Location"])
    assert page.status_code == 400
    assert f"bad-rows.xlsx has more than {MAX_ROWS} rows, the most one import takes (table.max_rows)" in alert(page.text)
    assert len(page.text) < 100_000 and peak < 150 * MB
    assert list((runtime.home / "imports").iterdir()) == []


def test_a_csv_past_the_row_limit_is_refused(runtime, tmp_path):
    sheet = write_csv(tmp_path / "long.csv", [HEADER] + [row(str(n)) for n in range(1, MAX_ROWS + 1)])
    with pytest.raises(TableError, match=f"long.csv has more than {MAX_ROWS} rows"):
        import_table(runtime, sheet, dry_run=True)
    with pytest.raises(TableError, match=f"long.csv has more than {MAX_ROWS} rows"):  # counted first for the bar
        import_table(runtime, sheet, dry_run=False, progress=lambda done, total: None)


def test_only_the_first_problems_are_listed_then_how_many_more(cs_client, runtime, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER] + [row(str(n), urgency="超急") for n in range(1, 251)])

    page = upload(cs_client, sheet)

    assert len(problems_shown(page.text)) == PROBLEMS_SHOWN == 100
    assert "250 problems" in page.text and "and 150 more problems" in page.text
    report = import_table(runtime, sheet, dry_run=True)
    assert (len(report.problems), report.problems_left_off, report.refused) == (100, 150, 250)


def test_a_shared_strings_bomb_is_refused_before_it_is_unpacked(cs_client, runtime, good, tmp_path):
    strings = (b"<si><t>" + b"A" * 1000 + b"</t></si>" for _ in range(131_000))
    bomb = rebuilt(good, tmp_path / "strings.xlsx", extra=[("xl/sharedStrings.xml", strings)])
    assert bomb.stat().st_size < MB

    page, peak = peak_of(lambda: upload(cs_client, bomb))

    assert page.status_code == 400 and peak < 20 * MB
    assert re.search(r"strings.xlsx is refused: its part xl/sharedStrings.xml unpacks to 126 MB from \d+ KB",
                     alert(page.text))
    assert list((runtime.home / "imports").iterdir()) == []


def test_an_xlsx_that_unpacks_past_what_the_row_limit_allows_is_refused(runtime, good, tmp_path):
    noise = (os.urandom(MB) for _ in range(33))  # packs no smaller: only its size is wrong
    large = rebuilt(good, tmp_path / "large.xlsx", extra=[("xl/media/image1.png", noise)])
    with pytest.raises(TableError, match="large.xlsx unpacks to 33 MB, more than the 32 MB one import takes"):
        import_table(runtime, large, dry_run=True)


def test_an_xlsx_of_too_many_parts_is_refused(runtime, good, tmp_path):
    parts = [(f"xl/media/image{n}.png", [b"x"]) for n in range(1000)]
    many = rebuilt(good, tmp_path / "many.xlsx", extra=parts)
    with pytest.raises(TableError, match="many.xlsx has 1006 parts; an .xlsx file of at most 1000 is taken"):
        import_table(runtime, many, dry_run=True)


def test_cli_lists_the_first_problems_then_how_many_more(cli, tmp_path, monkeypatch):  # noqa: F811
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER] + [row(str(n), urgency="超急") for n in range(1, 151)])
    result = cli("import", str(sheet), "--dry-run")
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 100 + 2 and "\nand 50 more problems\n" in result.stdout
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert "\n另有 50 個問題\n" in cli("import", str(sheet), "--dry-run").stdout
