"""The exported table's .xlsx written as a stream: the zip comes out while the rows are read, so a download
starts at once and memory stays flat however many rows there are. openpyxl's write-only mode and XlsxWriter's
constant_memory both keep rows out of memory too, but assemble the zip only once the last row is in, so the
first byte would wait for the whole table (``bench/xlsx_writers.py`` compares them)."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Self

from sync.table.columns import URGENCY_COLOURS
from sync.table.sheets import column_letter

ROWS_PER_CHUNK = 200
"""Rows turned into XML and compressed at a time, between two chunks handed on."""
COMPRESS_LEVEL = 1
"""zlib's fastest level: 100,000 rows came out a sixth bigger than at the default 6, in 40% less time."""
HYPERLINK_LIMIT = 65_530
"""Excel's limit of hyperlinks per worksheet; cells past it keep their text, without the link."""

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML 1.0 cannot hold
_EPOCH = dt.datetime(1899, 12, 30)
_DAY = dt.timedelta(days=1)

# Styles --------------------------------------------------------------------------------------------------

STYLE = {"header": 1, "top": 2, "wrap": 3, "minutes": 4, "seconds": 5, "link": 6,
         "urgency": tuple(7 + level for level in range(len(URGENCY_COLOURS)))}
"""Cell styles by use; ``urgency`` by level (0 = most urgent). Times take ``minutes`` or ``seconds`` by
themselves: a time with seconds shows them."""


def _font(extra: str = "") -> str:
    return f'<font>{extra}<sz val="11"/><name val="Calibri"/><family val="2"/></font>'


def _fill(rgb: str) -> str:
    return f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/></patternFill>' \
        "</fill>"


def _xf(font: int = 0, fill: int = 0, border: int = 1, number: int = 0, align: str = '<alignment vertical="top"/>'):
    return (f'<xf numFmtId="{number}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0" applyFont="1" '
            f'applyFill="1" applyBorder="1" applyNumberFormat="1" applyAlignment="1">{align}</xf>')


def _styles() -> str:
    fonts = [_font(), _font('<b/><color rgb="FFFFFFFF"/>'), _font('<u/><color rgb="FF1F4E8C"/>')]
    fills = ['<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>',
             _fill("1F4E8C")]
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
           _xf(font=1, fill=2, border=0, align='<alignment vertical="center"/>'), _xf(),
           _xf(align='<alignment vertical="top" wrapText="1"/>'), _xf(number=164), _xf(number=165), _xf(font=2)]
    for fill, font in URGENCY_COLOURS:
        fonts.append(_font(f'<b/><color rgb="FF{font}"/>'))
        fills.append(_fill(fill))
        xfs.append(_xf(font=len(fonts) - 1, fill=len(fills) - 1))
    return (f'{_XML}<styleSheet xmlns="{_MAIN}"><numFmts count="2">'
            '<numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
            '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
            f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts><fills count="{len(fills)}">{"".join(fills)}</fills>'
            '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '<border><left/><right/><top/><bottom style="thin"><color rgb="FFDDE3EA"/></bottom><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STATIC_PARTS = (
    ("[Content_Types].xml",
     (f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
     '<Default Extension="xml" ContentType="application/xml"/>'
     f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
     f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_TYPE}.worksheet+xml"/>'
     f'<Override PartName="/xl/styles.xml" ContentType="{_SHEET_TYPE}.styles+xml"/></Types>')),
    ("_rels/.rels",
     (f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}"><Relationship Id="rId1" '
     f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')),
    ("xl/_rels/workbook.xml.rels",
     (f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
     f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
     f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/></Relationships>')),
    ("xl/styles.xml", _styles()),
)


# Writing -------------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    # A carriage return as a reference, or XML readers would turn it into a line feed.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attribute(value: str) -> str:
    return _text(_ILLEGAL.sub("", value)).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _put(archive: zipfile.ZipFile, name: str, text: str) -> None:
    # Dated as ZipFile.open dates the streamed parts (1980-01-01): the same table exports to the same bytes.
    archive.writestr(zipfile.ZipInfo(name), text, zipfile.ZIP_DEFLATED, COMPRESS_LEVEL)


class _Pipe:
    """What the zip is written to: it keeps the bytes until :meth:`take`. A zip on a file that cannot seek is
    written with a data descriptor after each part, so nothing already handed on is ever rewritten."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered beyond :meth:`take`."""

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Links:
    """The sheet's hyperlinks, kept in two temporary files until the last row is in: the sheet lists them after
    its rows, and their targets go in a part of their own."""

    def __init__(self):
        self.count = 0
        self._anchors = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._targets = tempfile.TemporaryFile("w+", encoding="utf-8")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> None:
        self._anchors.close()
        self._targets.close()

    def add(self, cell: str, url: str) -> None:
        """Link ``cell`` (``P2``) to ``url``; past :data:`HYPERLINK_LIMIT` the cell keeps only its text."""
        if self.count == HYPERLINK_LIMIT:
            return
        self.count += 1
        self._anchors.write(f'<hyperlink ref="{cell}" r:id="rId{self.count}"/>')
        self._targets.write(f'<Relationship Id="rId{self.count}" Type="{_DOC_RELS}/hyperlink" '
                            f'Target="{_attribute(url)}" TargetMode="External"/>')

    def element(self) -> str:
        """The sheet's ``<hyperlinks>`` (nothing without links)."""
        if not self.count:
            return ""
        self._anchors.seek(0)
        return f"<hyperlinks>{self._anchors.read()}</hyperlinks>"

    def write_relationships(self, part) -> None:
        """The sheet's relationships part, one hyperlink target each, copied out a block at a time."""
        part.write(f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'.encode())
        self._targets.seek(0)
        while block := self._targets.read(1 << 16):
            part.write(block.encode())
        part.write(b"</Relationships>")


class SheetStream:
    """A workbook of one sheet, ``title``, whose columns have ``widths``, with the header row and the first
    column frozen (B2) and an auto filter over every row."""

    def __init__(self, title: str, widths: Sequence[float]):
        self.title = title
        self.widths = tuple(widths)
        self._letters = [column_letter(index) for index in range(len(self.widths))]

    def chunks(self, header: Sequence[str],
               rows: Iterable[tuple[Sequence, Sequence[int], Mapping[int, str]]]) -> Iterator[bytes]:
        """The file's bytes: the parts that need no row first, then the sheet as ``rows`` come. Each row is
        ``(values, styles, links)``: values are text, a naive local datetime or None; ``styles`` holds a
        :data:`STYLE` per value; ``links`` maps a column index to the URL that cell links to."""
        pipe = _Pipe()
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive, \
                _Links() as links:
            for name, text in _STATIC_PARTS:
                _put(archive, name, text)
            yield pipe.take()
            with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
                count = yield from self._sheet_data(sheet, pipe, header, rows, links)
                sheet.write(self._tail(count, links).encode())
            if links.count:
                with archive.open("xl/worksheets/_rels/sheet1.xml.rels", "w") as part:
                    links.write_relationships(part)
            _put(archive, "xl/workbook.xml", self._workbook(count))
        yield pipe.take()

    def _sheet_data(self, sheet, pipe: _Pipe, header: Sequence[str], rows, links: _Links):
        """Write the rows to ``sheet``, yielding what the zip made of each batch; returns the row count."""
        sheet.write(self._top(header).encode())
        count = 0
        batch = []
        for count, (values, styles, cell_links) in enumerate(rows, start=1):
            batch.append(self._row(count + 1, values, styles))
            for index, url in cell_links.items():
                links.add(f"{self._letters[index]}{count + 1}", url)
            if len(batch) == ROWS_PER_CHUNK:
                sheet.write(_ILLEGAL.sub("", "".join(batch)).encode())
                batch.clear()
                if data := pipe.take():
                    yield data
        sheet.write(_ILLEGAL.sub("", "".join(batch)).encode())
        return count

    def _row(self, number: int, values: Sequence, styles: Sequence[int]) -> str:
        cells = []
        for letter, value, style in zip(self._letters, values, styles, strict=True):
            if value is None or value == "":
                cells.append(f'<c r="{letter}{number}" s="{style}"/>')
            elif isinstance(value, str):
                # Spaces (or control characters, dropped later) at either end: keep what is left as written.
                space = ' xml:space="preserve"' if value[0] <= " " or value[-1] <= " " else ""
                cells.append(f'<c r="{letter}{number}" s="{style}" t="inlineStr"><is><t{space}>{_text(value)}'
                             '</t></is></c>')
            else:
                style = STYLE["seconds"] if value.second else STYLE["minutes"]
                cells.append(f'<c r="{letter}{number}" s="{style}"><v>{(value - _EPOCH) / _DAY!r}</v></c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    def _top(self, header: Sequence[str]) -> str:
        columns = "".join(f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
                          for index, width in enumerate(self.widths, start=1))
        return (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheetViews><sheetView workbookViewId="0">'
                '<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
                '<selection pane="topRight"/><selection pane="bottomLeft"/>'
                '<selection pane="bottomRight" activeCell="B2" sqref="B2"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols><sheetData>'
                + _ILLEGAL.sub("", self._row(1, header, [STYLE["header"]] * len(header))))

    def _tail(self, count: int, links: _Links) -> str:
        margins = '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        return (f'</sheetData><autoFilter ref="A1:{self._letters[-1]}{count + 1}"/>{links.element()}{margins}'
                "</worksheet>")

    def _workbook(self, count: int) -> str:
        quoted = self.title.replace("'", "''")
        return (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><workbookPr/><bookViews><workbookView/>'
                f'</bookViews><sheets><sheet name="{_attribute(self.title)}" sheetId="1" r:id="rId1"/></sheets>'
                f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                f"'{_text(quoted)}'!$A$1:${self._letters[-1]}${count + 1}</definedName></definedNames>"
                '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
