"""Reading a sheet row by row (xlsx in openpyxl's read-only mode, csv in its detected encoding) and turning
cells into values: text, times in the sheet's zone, a title taken from a description."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from plugin.need import N_
from plugin.settings import Settings
from sync.table.columns import COLUMN, COLUMNS, FIELD_KEYS, FORMULA_START, Problem, TableError

# Reading sheets -------------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def normalise_header(value: object) -> str:
    text = "" if value is None else str(value)
    text = re.sub(r"[\s\u3000]+", "", text).rstrip(":：*").casefold()
    return text


def header_names(aliases: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Normalised header text -> column key, from every language, the built-in variants and ``aliases``."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.key, *column.headers.values(), *column.aliases):
            names.setdefault(normalise_header(name), column.key)
    for key, extra in (aliases or {}).items():
        if key not in COLUMN:
            raise ValueError(f"table.aliases: unknown column {key!r}; use one of {', '.join(FIELD_KEYS)}")
        for name in extra:
            names[normalise_header(name)] = key  # configured aliases win over the built-in variants
    return names


def configured_aliases(settings: Settings) -> dict[str, list[str]]:
    """``table.aliases`` from the config: column key -> extra header names."""
    return dict(settings.table.aliases)


class Sheet:
    """Rows of one worksheet or CSV file as ``(row_number, values)``, read lazily."""

    def __init__(self, rows: Iterator[tuple[int, tuple]], total: int | None, close: Callable[[], None]):
        self.rows = rows
        self.total = total
        self.close = close


MAX_ROWS = 200_000
"""``table.max_rows`` unless the config says otherwise: a sheet with more rows is refused."""
XLSX_MEMBERS_MAX = 1000
"""An .xlsx with more parts than this is refused (a workbook of a few sheets has a dozen or two)."""
XLSX_BYTES_PER_ROW = 1024
"""Unpacked bytes of an .xlsx allowed per row of ``table.max_rows`` (200 MB at the default; an exported row with
short texts is about 1 KB of XML, shared strings make Excel's own files smaller)."""
XLSX_BYTES_MIN = 32 * 1024 * 1024
"""However low ``table.max_rows`` is set, this much unpacked .xlsx is allowed."""
XLSX_RATIO_MAX = 100
XLSX_RATIO_FROM = 1024 * 1024
"""A part of an .xlsx that unpacks to more than ``XLSX_RATIO_FROM`` bytes at over ``XLSX_RATIO_MAX`` times its
packed size is refused: real sheets pack 5 to 20 times, a bomb thousands of times."""

NOT_XLSX = N_("%(name)s is not a readable .xlsx file: %(error)s")
TOO_MANY_ROWS = N_("%(name)s has more than %(limit)d rows, the most one import takes (table.max_rows); "
                   "split it into smaller files.")


def _refused(name: str, message: str, params: dict | None = None) -> TableError:
    return TableError([Problem(None, None, None, message, {"name": name, **(params or {})})])


def check_xlsx(path: Path, name: str, max_rows: int = MAX_ROWS) -> None:
    """Refuse, before any part is unpacked, an .xlsx whose zip has too many parts, unpacks to more than
    ``max_rows`` rows' worth of bytes, or has a part packed suspiciously tight (a "zip bomb"). The sizes the zip
    states are what bounds the reading: a part that unpacks to more than its stated size fails its read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _unreadable(name, exc) from exc
    if len(members) > XLSX_MEMBERS_MAX:
        raise _refused(name, N_("%(name)s has %(count)d parts; an .xlsx file of at most %(limit)d is taken."),
                       {"count": len(members), "limit": XLSX_MEMBERS_MAX})
    for member in members:
        if member.file_size > XLSX_RATIO_FROM and member.file_size > XLSX_RATIO_MAX * max(member.compress_size, 1):
            raise _refused(name, N_("%(name)s is refused: its part %(part)s unpacks to %(size)d MB from %(packed)d "
                                    "KB, which no real sheet does."),
                           {"part": member.filename, "size": member.file_size // 2**20,
                            "packed": member.compress_size // 1024})
    limit = max(max_rows * XLSX_BYTES_PER_ROW, XLSX_BYTES_MIN)
    unpacked = sum(member.file_size for member in members)
    if unpacked > limit:
        raise _refused(name, N_("%(name)s unpacks to %(size)d MB, more than the %(limit)d MB one import takes."),
                       {"size": unpacked // 2**20, "limit": limit // 2**20})


def _unreadable(name: str, exc: BaseException) -> TableError:
    error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _refused(name, NOT_XLSX, {"error": error})


def _limited(rows: Iterator[tuple[int, tuple]], name: str, max_rows: int) -> Iterator[tuple[int, tuple]]:
    """``rows``, stopping with a :class:`TableError` at the first row past ``max_rows``."""
    for number, values in rows:
        if number > max_rows:
            raise _refused(name, TOO_MANY_ROWS, {"limit": max_rows})
        yield number, values


def _open_xlsx(path: Path, name: str, sheet: str | None, count: bool, max_rows: int) -> Sheet:
    """Any failure to read the workbook, on opening or while its rows are read (broken XML, a bad cell, date or
    column name, entities, a damaged zip), is a :class:`TableError` saying the file is not a readable .xlsx."""
    from openpyxl import load_workbook

    check_xlsx(path, name, max_rows)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises what its parsers raise: ParseError, ValueError, KeyError, ...
        raise _unreadable(name, exc) from exc
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise TableError([Problem(None, None, None, N_("The workbook has no sheet %(name)s."), {"name": sheet})])
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]

    def records() -> Iterator[tuple[int, tuple]]:
        try:
            yield from _limited(enumerate(worksheet.iter_rows(values_only=True), start=1), name, max_rows)
        except TableError:
            raise
        except Exception as exc:
            raise _unreadable(name, exc) from exc

    try:
        total = worksheet.max_row  # as the sheet states it (not trusted: the rows are counted as they are read)
        if total is None and count:  # written in streaming mode (as export does): no size recorded, so count
            total = sum(1 for _row in records())
    except BaseException:
        workbook.close()
        raise
    return Sheet(records(), total, workbook.close)


_CSV_ENCODINGS = ("utf-8-sig", "gb18030", "big5")


def _csv_encoding(path: Path, names: dict[str, str]) -> str:
    """UTF-8 (with or without BOM) or UTF-16 by BOM; else the one of GB18030 and Big5 whose first lines
    name the most known columns (Excel on a Chinese Windows saves CSV in the system's code page)."""
    with open(path, "rb") as handle:
        head = handle.read(64 * 1024)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    best, best_hits = None, -1
    for encoding in _CSV_ENCODINGS:
        try:
            sample = codecs.getincrementaldecoder(encoding)().decode(head, final=len(head) < 64 * 1024)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig":
            return encoding
        hits = sum(1 for cell in re.split(r"[,\t;\r\n]", sample[:4096]) if normalise_header(cell.strip('"')) in names)
        if hits > best_hits:
            best, best_hits = encoding, hits
    return best or "utf-8-sig"


def _open_csv(path: Path, name: str, encoding: str | None, names: dict[str, str], count: bool,
              max_rows: int) -> Sheet:
    encoding = encoding or _csv_encoding(path, names)
    try:
        with open(path, newline="", encoding=encoding) as probe:
            first = probe.readline()
    except (LookupError, UnicodeDecodeError) as exc:
        raise TableError([Problem(None, None, None, N_("Cannot read %(name)s as text in %(encoding)s: %(error)s"),
                                  {"name": name, "encoding": encoding, "error": str(exc)})]) from exc
    delimiter = max((",", "\t", ";"), key=first.count)
    total = None
    if count:
        with open(path, newline="", encoding=encoding, errors="replace") as counter:
            total = sum(1 for _row in _limited(enumerate(csv.reader(counter, delimiter=delimiter), start=1),
                                               name, max_rows))
    handle = open(path, newline="", encoding=encoding)

    def records() -> Iterator[tuple[int, tuple]]:
        try:
            for number, values in _limited(enumerate(csv.reader(handle, delimiter=delimiter), start=1), name,
                                           max_rows):
                yield number, tuple(values)
        except UnicodeDecodeError as exc:
            raise TableError([Problem(None, None, None, N_("Cannot read %(name)s as text in %(encoding)s: "
                                                           "%(error)s"),
                                      {"name": name, "encoding": encoding, "error": str(exc)})]) from exc

    return Sheet(records(), total, handle.close)


XLSX_SHEET_BYTES_PER_ROW = 300
"""Unpacked worksheet XML per row assumed by :func:`estimate_rows` when an .xlsx states no size (a row of the
table's dozen columns with shared strings is 200 to 400 bytes)."""


def estimate_rows(path: str | Path) -> int | None:
    """About how many rows the sheet at ``path`` has, cheaply, without reading a cell: a .csv's line breaks
    (one pass over the bytes; a quoted multi-line cell counts more than once), an .xlsx's first worksheet as it
    states its size, or else its unpacked worksheet XML at ``XLSX_SHEET_BYTES_PER_ROW`` bytes per row. None when
    the file cannot be read this way (the full read then says what is wrong)."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            lines, last = 0, b""
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
            return lines + (1 if last not in (b"", b"\n") else 0)
        with zipfile.ZipFile(path) as archive:
            sheets = [member for member in archive.infolist() if member.filename.startswith("xl/worksheets/")
                      and member.filename.endswith(".xml")]
            if not sheets:
                return None
            first = min(sheets, key=lambda member: member.filename)
            with archive.open(first) as part:
                head = part.read(4096).decode("utf-8", "replace")
        stated = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
        return int(stated.group(1)) if stated else first.file_size // XLSX_SHEET_BYTES_PER_ROW
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return None


def open_sheet(path: str | Path, *, sheet: str | None = None, encoding: str | None = None,
               names: dict[str, str] | None = None, count: bool = False, name: str | None = None,
               max_rows: int = MAX_ROWS) -> Sheet:
    """Open an .xlsx or .csv file for streaming; raises :class:`TableError` for anything else. With ``count``
    the number of rows is known up front (``total``), at the cost of one more streaming pass if need be. ``name``
    is the file's name in messages (default: the path's). A sheet of more than ``max_rows`` rows (counted as
    they are read) raises :class:`TableError` when the row past the limit is reached."""
    path = Path(path)
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, name, sheet, count, max_rows)
    if suffix in (".csv", ".txt"):
        return _open_csv(path, name, encoding, names or header_names(), count, max_rows)
    raise TableError([Problem(None, None, None, N_("%(name)s is not an .xlsx or .csv file."), {"name": name})])


# Cell values ----------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0``, text stripped, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def unescape_csv(text: str) -> str:
    """Undo :func:`escape_text`'s apostrophe (CSV only: an xlsx cell keeps its text exactly)."""
    if len(text) > 1 and text[0] == "'" and (text[1] in FORMULA_START or text[1] == "'"):
        return text[1:]
    return text


def escape_text(text: str) -> str:
    """Keep spreadsheet programs from running CS text as a formula (CSV injection): prefix an apostrophe."""
    if text.startswith(FORMULA_START) or (text.startswith("'") and len(text) > 1):
        return "'" + text
    return text


TITLE_DERIVED = 60
"""The most characters of a title taken from a description (with its ``…``)."""
# Where a description's first sentence ends: Chinese full stops, exclamation and question marks end it at once, a
# "." only before a space or the end (so "v1.2" and "3.5%" stay whole); a line break always.
_SENTENCE_END = re.compile(r"[。！？!?]|\.(?=\s|$)|\n")
_JOINERS = "\u200d\ufe0e\ufe0f"  # zero-width joiner and variation selectors belong to the character before


def derive_title(description: str, limit: int = TITLE_DERIVED) -> str:
    """The title of a need whose sheet has only its 問題詳細描述: the text's first line or sentence (a question or
    exclamation mark is kept, a full stop dropped), its spaces collapsed, cut to ``limit`` characters ending in
    ``…`` when longer, never inside a character (a combining mark or an emoji sequence) or, in Latin text, a
    word."""
    text = description.strip()
    end = _SENTENCE_END.search(text, 1)
    first = text[: end.start() + (end.group() in "！？!?")] if end else text
    first = " ".join(first.split())
    if len(first) <= limit:
        return first
    cut = limit - 1
    while cut > 1 and (unicodedata.combining(first[cut]) or first[cut] in _JOINERS or first[cut - 1] == "\u200d"):
        cut -= 1
    if first[cut].isascii() and first[cut].isalnum() and first[cut - 1].isascii() and first[cut - 1].isalnum():
        space = first.rfind(" ", 0, cut)
        if space > limit // 2:
            cut = space
    return first[:cut].rstrip() + "…"


_DATE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:時时](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?)?秒?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_sheet_time(value: object, zone: dt.tzinfo) -> dt.datetime | None:
    """A 反饋時間 cell -> an aware datetime, or None when it is not a date.

    Accepts date cells, ``2026-11-20 09:30``, ``2026/11/20``, ``2026.11.20 9:30:15``, ``2026年11月20日 09:30``
    and ISO 8601 with an offset; wall-clock values are taken in ``zone``.
    """
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if not 1 <= value < 2958466:
            return None
        moment = from_excel(value)
    else:
        match = _DATE.match(cell_text(value))
        if not match:
            return None
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        try:
            moment = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                 int(second or 0), int((fraction or "0").ljust(6, "0")))
        except ValueError:
            return None
        if offset:
            offset = "+00:00" if offset == "Z" else offset
            sign = 1 if offset[0] == "+" else -1
            digits = offset[1:].replace(":", "")
            delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return moment.replace(tzinfo=dt.timezone(sign * delta)).astimezone(dt.UTC)
    if moment.tzinfo is None:
        # Excel stores times as day fractions; a read-back 09:29:59.999 is 09:30.
        moment = (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


