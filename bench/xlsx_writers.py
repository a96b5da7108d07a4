"""Writers for the exported .xlsx, measured on rows like the requirement table's: 18 columns, Chinese
descriptions of 100-300 characters, times, urgency colours, tracker links on every fifth row. Each writer runs in
a fresh process; the figures are seconds, peak memory growth over the process before writing, and file size, and
a 200-row file from each is read back with openpyxl to check it keeps the export's formatting.

Run: ``.venv/bin/python bench/xlsx_writers.py [--smoke] [ROWS]`` (``--smoke``: 200 rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import words  # bench/, the script's folder

from sync.table.columns import EXPORTED as COLUMNS
from sync.table.columns import URGENCY_COLOURS

HEADERS = [column.headers["zh_Hant"] for column in COLUMNS]
WIDTHS = [column.width for column in COLUMNS]
WRAPPED = {2, 3, 9}
DATE, URGENCY, LINKED = 6, 4, (16, 17)
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def table_rows(count: int):
    """``(cells, urgency level, link)`` per row, made fast enough not to weigh in the figures; cells in the
    table's column order, control characters in some remarks and a remark that looks like a formula."""
    rng = random.Random(7)
    # A thousand descriptions, more than zlib's window holds, so they compress like text that never repeats.
    descriptions = [words(rng, rng.randint(100, 300)) for _ in range(1000)]
    start = dt.datetime(2025, 1, 1, 9, 0)
    urgencies = ["緊急", "高", "中", "低"]
    for number in range(1, count + 1):
        level = rng.randrange(4)
        link = f"https://jira.example/browse/CS-{number}" if number % 5 == 0 else None
        description = descriptions[number % 1000]
        yield [
            f"N-{number:06d}", rng.choice(["計費", "報表", "行動端"]), f"需求 {number}。{description}",
            "截圖.png" if number % 10 == 0 else "", urgencies[level], "李娜",
            start + dt.timedelta(minutes=47 * number, seconds=30 * (number % 3 == 0)),
            rng.choice(["Wang Wei", ""]), "開發中", rng.choice(["", "已回覆\x07客戶", "=SUM(A1) 不是公式"]),
            "ACME Corp", "推廣上線", "li.na@acme.example", "WeCom", "", f"需求 {number}",
            f"CS-{number}" if link else "", link or "",
        ], level, link


def letter(index: int) -> str:
    return chr(ord("A") + index)


# The writers ---------------------------------------------------------------------------------------------


def write_openpyxl(path: Path, rows) -> None:
    """openpyxl's write-only mode, as the export wrote until now."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Requirements")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[letter(index)].width = width
    sheet.freeze_panes = "B2"
    border, link_font = Border(bottom=Side(style="thin", color="DDE3EA")), Font(color="1F4E8C", underline="single")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    urgency = [(PatternFill("solid", fgColor=fill), Font(bold=True, color=font)) for fill, font in URGENCY_COLOURS]
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(sheet, text)
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E8C")
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    sheet.append(header)
    count = 0
    for values, level, link in rows:
        row = []
        for index, value in enumerate(values):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value if value != "" else None)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss" if value.second else "yyyy-mm-dd hh:mm"
            elif value:
                cell.data_type = "s"
            cell.alignment, cell.border = (wrap if index in WRAPPED else top), border
            if index == URGENCY:
                cell.fill, cell.font = urgency[level]
            if index in LINKED and link:
                cell.hyperlink, cell.font = link, link_font
            row.append(cell)
        sheet.append(row)
        count += 1
    sheet.auto_filter.ref = f"A1:{letter(len(HEADERS) - 1)}{count + 1}"
    workbook.save(path)


def write_xlsxwriter(path: Path, rows) -> None:
    """XlsxWriter with ``constant_memory`` (each row goes to a temporary file once the next one starts)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Requirements")
    for index, width in enumerate(WIDTHS):
        sheet.set_column(index, index, width - 5 / 7)  # XlsxWriter adds 5 px of padding to the width it writes
    sheet.freeze_panes(1, 1)
    body = {"valign": "top", "bottom": 1, "bottom_color": "#DDE3EA"}
    top, wrap = workbook.add_format(body), workbook.add_format({**body, "text_wrap": True})
    minutes = workbook.add_format({**body, "num_format": "yyyy-mm-dd hh:mm"})
    seconds = workbook.add_format({**body, "num_format": "yyyy-mm-dd hh:mm:ss"})
    link_format = workbook.add_format({**body, "font_color": "#1F4E8C", "underline": 1})
    urgency = [workbook.add_format({**body, "bg_color": f"#{fill}", "bold": True, "font_color": f"#{font}"})
               for fill, font in URGENCY_COLOURS]
    header = workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E8C", "valign": "vcenter"})
    for index, text in enumerate(HEADERS):
        sheet.write_string(0, index, text, header)
    count = 0
    for number, (values, level, link) in enumerate(rows, start=1):
        for index, value in enumerate(values):
            style = urgency[level] if index == URGENCY else wrap if index in WRAPPED else top
            if isinstance(value, dt.datetime):
                sheet.write_datetime(number, index, value, seconds if value.second else minutes)
            elif index in LINKED and link:
                sheet.write_url(number, index, link, link_format, string=value)
            elif value:
                sheet.write_string(number, index, ILLEGAL.sub("", value), style)
            else:
                sheet.write_blank(number, index, None, style)
        count = number
    sheet.autofilter(0, 0, count, len(HEADERS) - 1)
    workbook.close()


def write_pyexcelerate(path: Path, rows) -> None:
    """PyExcelerate: every row is kept in memory until the save; it has no hyperlinks nor auto filter, and
    text starting with '=' becomes a formula."""
    from pyexcelerate import (
        Alignment,
        Borders,
        Color,
        Fill,
        Font,
        Format,
        Panes,
        Style,
        Workbook,
    )
    from pyexcelerate.Border import Border

    workbook = Workbook()
    sheet = workbook.new_sheet("Requirements")
    border = Borders.Borders(bottom=Border(color=Color(0xDD, 0xE3, 0xEA), style="thin"))
    top = Style(alignment=Alignment(vertical="top"), borders=border)
    wrap = Style(alignment=Alignment(vertical="top", wrap_text=True), borders=border)
    formats = {value: Style(format=Format(value), alignment=Alignment(vertical="top"), borders=border)
               for value in ("yyyy-mm-dd hh:mm", "yyyy-mm-dd hh:mm:ss")}
    link_style = Style(font=Font(color=Color(0x1F, 0x4E, 0x8C), underline=True), borders=border)

    def colour(text):
        return Color(int(text[:2], 16), int(text[2:4], 16), int(text[4:], 16))

    urgency = [Style(fill=Fill(background=colour(fill)), font=Font(bold=True, color=colour(font)), borders=border,
                     alignment=Alignment(vertical="top")) for fill, font in URGENCY_COLOURS]
    for index, width in enumerate(WIDTHS, start=1):
        sheet.set_col_style(index, Style(size=width))
    sheet.panes = Panes(1, 1)
    header = Style(font=Font(bold=True, color=Color(255, 255, 255)), fill=Fill(background=colour("1F4E8C")),
                   alignment=Alignment(vertical="center"))
    for index, text in enumerate(HEADERS, start=1):
        sheet.set_cell_value(1, index, text)
        sheet.set_cell_style(1, index, header)
    for number, (values, level, link) in enumerate(rows, start=2):
        for index, value in enumerate(values, start=1):
            if isinstance(value, dt.datetime):
                style = formats["yyyy-mm-dd hh:mm:ss" if value.second else "yyyy-mm-dd hh:mm"]
            else:
                style = urgency[level] if index - 1 == URGENCY else link_style if index - 1 in LINKED and link \
                    else wrap if index - 1 in WRAPPED else top
            sheet.set_cell_value(number, index, ILLEGAL.sub("", value) if isinstance(value, str) else value)
            sheet.set_cell_style(number, index, style)
    workbook.save(str(path))


def write_streamed(path: Path, rows) -> None:
    """Cocreate's own streamed writer (``sync/table/workbook.py``): the zip is produced as the rows come."""
    from sync.table.workbook import STYLE, SheetStream

    stream = SheetStream("Requirements", WIDTHS)
    base = [STYLE["wrap"] if index in WRAPPED else STYLE["top"] for index in range(len(HEADERS))]

    def cells():
        for values, level, link in rows:
            styles = list(base)
            styles[URGENCY] = STYLE["urgency"][level]
            if link:
                styles[LINKED[0]] = styles[LINKED[1]] = STYLE["link"]
            yield values, styles, dict.fromkeys(LINKED, link) if link else {}

    with open(path, "wb") as handle:
        handle.writelines(stream.chunks(HEADERS, cells()))


WRITERS = {"openpyxl write-only": (write_openpyxl, "openpyxl"),
           "XlsxWriter constant_memory": (write_xlsxwriter, "xlsxwriter"),
           "PyExcelerate": (write_pyexcelerate, "pyexcelerate"),
           "Cocreate streamed (zipfile)": (write_streamed, "sync.table.workbook")}


# Measuring -----------------------------------------------------------------------------------------------


def memory_mb(field: str) -> float:
    """``VmRSS`` (resident memory now) or ``VmHWM`` (its peak since :func:`reset_peak`) from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> float:
    """Start the peak (``VmHWM``) afresh at the memory in use now, which this returns (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")
    return memory_mb("VmRSS")


def child(name: str, rows: int, path: str) -> None:
    """Write ``rows`` rows with one writer in this fresh process; print the figures as JSON."""
    write, _module = WRITERS[name]
    write(Path(tempfile.mkdtemp()) / "warm.xlsx", table_rows(2))  # imports out of the figures
    before = reset_peak()
    started = time.perf_counter()
    write(Path(path), table_rows(rows))
    seconds = time.perf_counter() - started
    peak = memory_mb("VmHWM")
    print(json.dumps({"seconds": seconds, "growth": peak - before, "size": Path(path).stat().st_size}))


def keeps_formatting(path: Path) -> list[str]:
    """What a 200-row file lacks of the export's formatting (nothing: an empty list)."""
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    checks = {
        "freeze panes B2": sheet.freeze_panes == "B2",
        "header style": bool(sheet["A1"].font.b) and sheet["A1"].fill.fgColor.rgb.endswith("1F4E8C"),
        "column widths": sheet.column_dimensions["C"].width == 60,
        "urgency colours": any(sheet.cell(row, URGENCY + 1).fill.fgColor.rgb.endswith(URGENCY_COLOURS[0][0])
                               for row in range(2, 10)),
        "wrap": bool(sheet["C2"].alignment.wrap_text) and sheet["C2"].alignment.vertical == "top",
        "date formats": sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd hh:mm",
        "hyperlinks": sheet["Q6"].hyperlink is not None and sheet["R6"].hyperlink.target.endswith("CS-5"),
        "text never a formula": all(sheet.cell(row, 10).data_type == "s" for row in range(2, 201)
                                    if sheet.cell(row, 10).value),
        "auto filter": sheet.auto_filter.ref == "A1:R201",
        "control characters stripped": all("\x07" not in (sheet.cell(row, 10).value or "") for row in range(2, 201)),
    }
    return [name for name, ok in checks.items() if not ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="200 rows")
    parser.add_argument("--child", nargs=3, metavar=("WRITER", "ROWS", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return 0
    rows = 200 if args.smoke else args.rows
    folder = Path(tempfile.mkdtemp(prefix="cocreate-xlsx-bench-"))
    print(f"xlsx writers, {rows} rows of the requirement table (Python {sys.version.split()[0]})")
    print(f"{'writer':<28} {'seconds':>8} {'RSS growth':>11} {'file':>9}   formatting")
    for name, (write, module) in WRITERS.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name:<28} not installed")
            continue
        write(folder / "check.xlsx", table_rows(200))
        missing = keeps_formatting(folder / "check.xlsx")
        result = subprocess.run([sys.executable, __file__, "--child", name, str(rows), str(folder / "out.xlsx")],
                                capture_output=True, text=True, check=True)
        figures = json.loads(result.stdout.splitlines()[-1])
        print(f"{name:<28} {figures['seconds']:8.2f} {figures['growth']:8.1f} MB {figures['size'] / 1e6:6.1f} MB"
              f"   {'kept' if not missing else 'lacks ' + ', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
