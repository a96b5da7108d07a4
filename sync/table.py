"""The requirement table as a spreadsheet: streaming import (dry run first) and formatted export, xlsx or csv.

Import reads the sheet row by row (openpyxl read-only mode, or the csv module), in batches, so a
10,000-row sheet is never held in memory. Every row goes through ``plugin.need.validate_need``; a row with
any problem is refused as a whole and named by row and column, the others are written. Rows are matched
by their sequence number (序號), so importing the same sheet again updates instead of duplicating:

- ``N-0042`` (Cocreate's own form, as exported) is the need with that ref. When it does not exist yet
  (the sheet comes from another Cocreate), the need is created with that ref and number, unless the
  number is already taken.
- Any other number or code the CS team uses (``17``, ``CS-2024-003``) is kept as the need's ref verbatim;
  it needs a digit and may use letters, digits, ``.``, ``_`` and ``-`` (it also names the tracker's marker
  label); anything else is refused.
- No sequence number: the row becomes a new need with the next ``N-`` ref (a warning says that importing
  the sheet again would add it again).

Column 問題詳細描述 holds the need's title and description: the first line is the title (cut at
``TITLE_MAX``), the rest the description; export writes them back the same way, so export -> import
round-trips without change. Status (狀態) takes any configured status name or key, in any language; a
need that has a tracker issue takes its status from the tracker, so the sheet's status is then ignored
(with a warning). Export-only columns (tracker issue and link) and screenshots are not imported.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from plugin.need import N_, STAGE_NAMES, STAGES, TITLE_MAX, FieldError, InvalidNeed, NeedInput, validate_need
from plugin.settings import LOCALES, Settings
from sync.catalogs import catalog
from sync.intake import format_ref
from sync.ledger.store import Need, StatusChange, utcnow
from sync.loop.status import status_name

BATCH_ROWS = 400
"""Rows validated and written per transaction (with their ``sync_needs`` jobs)."""

SYNC_CHUNK = 200
"""Refs per ``sync_needs`` job after an import (Jira creates 50 issues per bulk call within it)."""

HEADER_SCAN_ROWS = 10
"""A title row or two may sit above the header row; look this far down for it."""

REF_MAX = 32
# A sheet's own sequence number: it becomes the ref, so it must suit a URL (/needs/17) and a tracker label
# (cocreate-17); the digit keeps it apart from the pages beside it (/needs/new, /needs/export).
_REF = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9._-]*$")
_COCREATE_REF = re.compile(r"^[Nn]-(\d{1,9})$")
_ANGLE_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of the table: its key, its header in each language, its export width, other header names
    it is known by, and whether import reads it (the tracker's issue and link are export-only)."""

    key: str
    headers: Mapping[str, str]
    width: int
    importable: bool = True
    aliases: tuple[str, ...] = ()


def _column(key: str, zh_hant: str, zh_hans: str, en: str, width: int, *aliases: str,
            importable: bool = True) -> Column:
    return Column(key, {"zh_Hant": zh_hant, "zh_Hans": zh_hans, "en": en}, width, importable, aliases)


COLUMNS: tuple[Column, ...] = (
    # The seed's columns, in its order ...
    _column("ref", "序號", "序号", "Ref", 10, "編號", "编号", "No.", "No", "#", "Sequence number"),
    _column("category", "產品類別", "产品类别", "Product category", 14, "類別", "类别", "Category", "Product"),
    _column("description", "問題詳細描述", "问题详细描述", "Description", 60,
            "問題描述", "问题描述", "需求描述", "Detailed description", "Problem description"),
    _column("screenshots", "問題截圖", "问题截图", "Screenshots", 18, "截圖", "截图", "Screenshot"),
    _column("urgency", "緊急程度", "紧急程度", "Urgency", 10, "優先級", "优先级", "Priority"),
    _column("reporter", "反饋人", "反馈人", "Reporter", 16, "反饋者", "反馈者"),
    _column("reported_at", "反饋時間", "反馈时间", "Time reported", 18,
            "反饋日期", "反馈日期", "Reported at", "Date reported"),
    _column("owner", "跟進人", "跟进人", "Owner", 12, "負責人", "负责人", "Follow-up"),
    _column("status", "狀態", "状态", "Status", 12, "State"),
    _column("remarks", "說明", "说明", "Remarks", 40, "備註", "备注", "Notes"),
    # ... then what Cocreate adds.
    _column("customer", "客戶", "客户", "Customer", 16, "客戶名稱", "客户名称", "Company"),
    _column("stage", "階段", "阶段", "Stage", 12),
    _column("reporter_email", "反饋人郵箱", "反馈人邮箱", "Reporter e-mail", 24, "E-mail", "Email"),
    _column("reporter_channel", "反饋渠道", "反馈渠道", "Reporter channel", 14, "Channel"),
    _column("linked_to", "關聯到", "关联到", "Linked to", 16),
    _column("issue", "研發工單", "研发工单", "Tracker issue", 16, importable=False),
    _column("issue_url", "工單連結", "工单链接", "Tracker link", 40, importable=False),
)
COLUMN = {column.key: column for column in COLUMNS}
FIELD_KEYS = tuple(COLUMN)
"""The column keys ``table.aliases`` in the config may name."""


# Fill and font of the urgency cell, by position in the config (0 = most urgent), as on the /needs page.
URGENCY_COLOURS = (("FEF3F2", "B42318"), ("FFF6ED", "C4320A"), ("FEFBE8", "8A6100"), ("F2F4F7", "475467"))


class TableError(ValueError):
    """The file cannot be imported at all (not a table, no header row, ...); ``problems`` says why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(problem.render() for problem in problems))


# Problems -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem of one row and column (``row`` None: the whole file), with an untranslated message.

    ``row`` is the sheet's own row number (as Excel shows it); ``letter`` the column's letter in the sheet
    (None when the sheet lacks the column); ``column`` its header as written in the sheet.
    """

    row: int | None
    column: str | None
    letter: str | None
    message: str
    params: dict = field(default_factory=dict)

    def text(self, translate: Callable[[str], str] = lambda text: text) -> str:
        """The message alone, translated."""
        return translate(self.message) % self.params if self.params else translate(self.message)

    def render(self, translate: Callable[[str], str] = lambda text: text) -> str:
        """``row 5, 緊急程度 (E): Unknown urgency 超急.``"""
        text = self.text(translate)
        where = []
        if self.row is not None:
            where.append(translate(N_("row %(row)d")) % {"row": self.row})
        if self.column:
            where.append(f"{self.column} ({self.letter})" if self.letter else self.column)
        return f"{', '.join(where)}: {text}" if where else text


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    filename: str
    language: str = "en"
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    synced_refs: list[str] = field(default_factory=list)
    sync_jobs: int = 0

    @property
    def refused(self) -> int:
        return len(self.refused_rows)

    @property
    def ok(self) -> bool:
        return not self.problems


# Reading sheets -------------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _normalise_header(value: object) -> str:
    text = "" if value is None else str(value)
    text = re.sub(r"[\s\u3000]+", "", text).rstrip(":：*").casefold()
    return text


def header_names(aliases: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Normalised header text -> column key, from every language, the built-in variants and ``aliases``."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.key, *column.headers.values(), *column.aliases):
            names.setdefault(_normalise_header(name), column.key)
    for key, extra in (aliases or {}).items():
        if key not in COLUMN:
            raise ValueError(f"table.aliases: unknown column {key!r}; use one of {', '.join(FIELD_KEYS)}")
        for name in extra:
            names[_normalise_header(name)] = key  # configured aliases win over the built-in variants
    return names


def configured_aliases(settings: Settings) -> dict[str, list[str]]:
    """``table.aliases`` from the config: column key -> extra header names."""
    return dict(settings.table.aliases)


class _Sheet:
    """Rows of one worksheet or CSV file as ``(row_number, values)``, read lazily."""

    def __init__(self, rows: Iterator[tuple[int, tuple]], total: int | None, close: Callable[[], None]):
        self.rows = rows
        self.total = total
        self.close = close


def _open_xlsx(path: Path, sheet: str | None, count: bool) -> _Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise TableError([Problem(None, None, None, N_("Cannot read %(name)s as an .xlsx workbook: %(error)s"),
                                  {"name": path.name, "error": str(exc) or type(exc).__name__})]) from exc
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise TableError([Problem(None, None, None, N_("The workbook has no sheet %(name)s."), {"name": sheet})])
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    total = worksheet.max_row
    if total is None and count:  # written in streaming mode (as export does): no size recorded, so count
        total = sum(1 for _row in worksheet.iter_rows(values_only=True))
    rows = ((number, values) for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1))
    return _Sheet(rows, total, workbook.close)


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
        hits = sum(1 for cell in re.split(r"[,\t;\r\n]", sample[:4096]) if _normalise_header(cell.strip('"')) in names)
        if hits > best_hits:
            best, best_hits = encoding, hits
    return best or "utf-8-sig"


def _open_csv(path: Path, encoding: str | None, names: dict[str, str], count: bool) -> _Sheet:
    encoding = encoding or _csv_encoding(path, names)
    try:
        with open(path, newline="", encoding=encoding) as probe:
            first = probe.readline()
    except (LookupError, UnicodeDecodeError) as exc:
        raise TableError([Problem(None, None, None, N_("Cannot read %(name)s as text in %(encoding)s: %(error)s"),
                                  {"name": path.name, "encoding": encoding, "error": str(exc)})]) from exc
    delimiter = max((",", "\t", ";"), key=first.count)
    total = None
    if count:
        with open(path, newline="", encoding=encoding, errors="replace") as counter:
            total = sum(1 for _row in csv.reader(counter, delimiter=delimiter))
    handle = open(path, newline="", encoding=encoding)

    def records() -> Iterator[tuple[int, tuple]]:
        try:
            for number, values in enumerate(csv.reader(handle, delimiter=delimiter), start=1):
                yield number, tuple(values)
        except UnicodeDecodeError as exc:
            raise TableError([Problem(None, None, None, N_("Cannot read %(name)s as text in %(encoding)s: "
                                                           "%(error)s"),
                                      {"name": path.name, "encoding": encoding, "error": str(exc)})]) from exc

    return _Sheet(records(), total, handle.close)


def open_sheet(path: str | Path, *, sheet: str | None = None, encoding: str | None = None,
               names: dict[str, str] | None = None, count: bool = False) -> _Sheet:
    """Open an .xlsx or .csv file for streaming; raises :class:`TableError` for anything else. With ``count``
    the number of rows is known up front (``total``), at the cost of one more streaming pass if need be."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet, count)
    if suffix in (".csv", ".txt"):
        return _open_csv(path, encoding, names or header_names(), count)
    raise TableError([Problem(None, None, None, N_("%(name)s is not an .xlsx or .csv file."), {"name": path.name})])


# Cell values ----------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0``, text stripped, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _unescape_csv(text: str) -> str:
    """Undo :func:`_escape_text`'s apostrophe (CSV only: an xlsx cell keeps its text exactly)."""
    if len(text) > 1 and text[0] == "'" and (text[1] in _FORMULA_START or text[1] == "'"):
        return text[1:]
    return text


def _escape_text(text: str) -> str:
    """Keep spreadsheet programs from running CS text as a formula (CSV injection): prefix an apostrophe."""
    if text.startswith(_FORMULA_START) or (text.startswith("'") and len(text) > 1):
        return "'" + text
    return text


def split_description(text: str) -> tuple[str, str]:
    """A 問題詳細描述 cell -> (title, description): the first line is the title, the rest the description.

    A first line longer than ``TITLE_MAX`` is cut (ending in …) and the description keeps the whole text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    first, _sep, rest = text.partition("\n")
    first = first.strip()
    if len(first) > TITLE_MAX:
        return first[: TITLE_MAX - 1] + "…", text
    return first, rest.strip()


def join_description(title: str, description: str) -> str:
    """The inverse of :func:`split_description`."""
    if not description:
        return title
    first = description.partition("\n")[0].strip()
    if len(title) == TITLE_MAX and title.endswith("…") and len(first) > TITLE_MAX and first.startswith(title[:-1]):
        return description
    return f"{title}\n{description}"


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
        match = _DATE.match(_cell_text(value))
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


# Import -----------------------------------------------------------------------------------------


class _Lookup:
    """Names -> key, matched without case: a configured item's key and its name in every language."""

    def __init__(self, pairs):
        self.by_name: dict[str, str] = {}
        for key, names in pairs:
            for name in names:
                if name:
                    self.by_name.setdefault(name.strip().casefold(), key)

    @classmethod
    def of_items(cls, items) -> _Lookup:
        return cls((item.key, (item.key, item.name.zh_Hans, item.name.zh_Hant, item.name.en)) for item in items)

    def __call__(self, text: str) -> str | None:
        return self.by_name.get(text.strip().casefold())


@dataclass
class _Header:
    """Where each column is in the sheet."""

    row: int
    positions: dict[str, int]  # column key -> index
    labels: dict[str, str]  # column key -> header as written
    language: str

    def label(self, key: str) -> tuple[str, str | None]:
        """The column's header as the sheet writes it and its letter, or its name in the sheet's language."""
        if key in self.positions:
            return self.labels[key], column_letter(self.positions[key])
        return COLUMN[key].headers[self.language], None


def _find_header(sheet: _Sheet, names: dict[str, str], report: ImportReport, default_language: str) -> _Header:
    for number, values in sheet.rows:
        keys = [names.get(_normalise_header(value)) for value in values]
        if sum(1 for key in keys if key) >= 2:
            return _read_header(number, values, keys, report, default_language)
        if number >= HEADER_SCAN_ROWS:
            break
    expected = "、".join(column.headers["zh_Hant"] for column in COLUMNS[:10])
    raise TableError([Problem(None, None, None, N_("No header row found in the first %(rows)d rows; the header row "
                                                   "names the columns, e.g. %(expected)s."),
                              {"rows": HEADER_SCAN_ROWS, "expected": expected})])


def _read_header(number: int, values: tuple, keys: list[str | None], report: ImportReport,
                 default_language: str) -> _Header:
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    problems = []
    for index, (value, key) in enumerate(zip(values, keys)):
        written = _cell_text(value)
        if key is None:
            if written:
                report.warnings.append(Problem(number, written, column_letter(index),
                                               N_("Unknown column; it is not imported.")))
            continue
        if key in positions:
            problems.append(Problem(number, written, column_letter(index),
                                    N_("Same column as %(other)s (%(letter)s); keep one of them."),
                                    {"other": labels[key], "letter": column_letter(positions[key])}))
            continue
        positions[key], labels[key] = index, written
    # The sheet's language: the one most of its headers are written in (ties: the config's language).
    written = {key: _normalise_header(label) for key, label in labels.items()}
    language = max((default_language, *LOCALES), key=lambda locale: sum(
        1 for key, label in written.items() if _normalise_header(COLUMN[key].headers[locale]) == label))
    header = _Header(number, positions, labels, language)
    if "description" not in positions:
        problems.append(Problem(number, COLUMN["description"].headers[language], None,
                                N_("The sheet has no such column; every need needs its description.")))
    if problems:
        raise TableError(problems)
    return header


@dataclass
class _Row:
    number: int
    cells: dict[str, object]
    ref: str | None = None


def _clean(header: _Header, number: int, values: tuple, csv_text: bool) -> _Row | None:
    cells: dict[str, object] = {}
    for key, index in header.positions.items():
        if not COLUMN[key].importable:
            continue
        value = values[index] if index < len(values) else None
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
            if csv_text:
                value = _unescape_csv(value)
        cells[key] = value
    if all(value in (None, "") for value in cells.values()):
        return None  # blank rows between and after the data are common in kept sheets
    return _Row(number, cells)


@dataclass
class _Context:
    settings: Settings
    header: _Header
    zone: dt.tzinfo
    default_customer: str | None
    now: dt.datetime
    categories: _Lookup
    urgencies: _Lookup
    statuses: _Lookup
    customers: _Lookup
    stages: _Lookup
    actor: str | None
    dry_run: bool


_NEED_FIELD_COLUMN = {
    "title": "description", "description": "description", "reporter_name": "reporter",
}


def _need_data(row: _Row, existing: Need | None, ctx: _Context) -> dict:
    """The fields ``validate_need`` takes: the stored need's, overlaid by the sheet's columns."""
    data = {item.name: getattr(existing, item.name) for item in fields(NeedInput)} if existing is not None else {}
    cells = row.cells

    def text_of(key: str) -> str:
        return _cell_text(cells.get(key))

    if "description" in cells:
        data["title"], data["description"] = split_description(text_of("description"))
    # Names in any language become keys; what matches none is left for validate_need to name.
    for key, lookup in (("category", ctx.categories), ("urgency", ctx.urgencies), ("stage", ctx.stages),
                        ("customer", ctx.customers)):
        if key in cells:
            written = text_of(key)
            data[key] = lookup(written) or written
    if not data.get("customer") and ctx.default_customer:
        data["customer"] = ctx.default_customer
    for key in ("owner", "remarks", "reporter_email", "reporter_channel", "linked_to"):
        if key in cells:
            data[key] = text_of(key)
    if "reporter" in cells:
        written = text_of("reporter")
        match = _ANGLE_EMAIL.match(written)
        if match and not text_of("reporter_email"):
            written, data["reporter_email"] = match.group("name"), match.group("email")
        data["reporter_name"] = written
    if "reported_at" in cells and cells["reported_at"] not in (None, ""):
        raw = cells["reported_at"]
        data["reported_at"] = parse_sheet_time(raw, ctx.zone) or _cell_text(raw)
    return data


def _column_for(field_name: str, header: _Header) -> str:
    if field_name == "reporter_email" and "reporter_email" not in header.positions and "reporter" in header.positions:
        return "reporter"
    return _NEED_FIELD_COLUMN.get(field_name, field_name)


def _row_problem(row: int, key: str, header: _Header, message: str, params: dict | None = None) -> Problem:
    label, letter = header.label(key)
    return Problem(row, label, letter, message, params or {})


def _row_ref(row: _Row, header: _Header) -> tuple[str | None, Problem | None]:
    written = _cell_text(row.cells.get("ref"))
    if not written:
        return None, None
    match = _COCREATE_REF.match(written)
    if match:
        return format_ref(int(match.group(1))), None
    if len(written) > REF_MAX or not _REF.match(written):
        return None, _row_problem(row.number, "ref", header, N_(
            "A sequence number needs a digit and may use letters, digits, '.', '_' and '-', up to %(limit)d "
            "characters."),
            {"limit": REF_MAX})
    return written, None


def _same(need: Need, name: str, value) -> bool:
    current = getattr(need, name)
    if name == "reported_at":
        return current.replace(microsecond=0) == value.replace(microsecond=0)
    return current == value


def import_table(runtime, path: str | Path, *, dry_run: bool, default_customer: str | None = None,
                 timezone: str = "UTC", aliases: Mapping[str, Sequence[str]] | None = None,
                 actor: str | None = None, sheet: str | None = None, encoding: str | None = None,
                 progress: Callable[[int, int | None], None] | None = None, now: dt.datetime | None = None,
                 filename: str | None = None) -> ImportReport:
    """Import (or with ``dry_run`` only check) the table at ``path`` into the store; headers are matched in
    every language, by the built-in variants, ``table.aliases`` from the config and ``aliases``.

    Every row is checked; rows with problems are refused whole and listed, one :class:`Problem` per problem,
    by row and column. A real import writes the other rows in batches of ``BATCH_ROWS``, each batch in one
    transaction with its ``sync_needs`` jobs (created and changed needs, ``SYNC_CHUNK`` refs per job). A file
    that cannot be read as a table raises :class:`TableError`. ``progress(rows_done, rows_total_or_None)`` is
    called per batch.
    """
    path = Path(path)
    settings = runtime.settings
    report = ImportReport(dry_run=dry_run, filename=filename or path.name)
    names = header_names({**configured_aliases(settings), **(aliases or {})})
    opened = open_sheet(path, sheet=sheet, encoding=encoding, names=names, count=progress is not None)
    try:
        header = _find_header(opened, names, report, settings.locale)
        report.language = header.language
        customer = settings.customer(default_customer) if default_customer else None
        ctx = _Context(
            settings=settings, header=header, zone=ZoneInfo(timezone),
            default_customer=customer.key if customer else default_customer, now=now or utcnow(),
            categories=_Lookup.of_items(settings.categories), urgencies=_Lookup.of_items(settings.urgencies),
            statuses=_Lookup.of_items(settings.statuses),
            customers=_Lookup((item.key, (item.key, item.name)) for item in settings.customers),
            stages=_Lookup((key, (key, *STAGE_NAMES[key].values())) for key in STAGES),
            actor=actor, dry_run=dry_run,
        )
        total = opened.total - header.row if opened.total else None
        csv_text = path.suffix.lower() in (".csv", ".txt")
        seen: dict[str, int] = {}
        batch: list[_Row] = []
        done = 0
        for number, values in opened.rows:
            row = _clean(header, number, values, csv_text)
            if row is None:
                continue
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                _import_batch(runtime, batch, ctx, seen, report)
                done += len(batch)
                batch = []
                if progress:
                    progress(done, total)
        if batch:
            _import_batch(runtime, batch, ctx, seen, report)
            done += len(batch)
        if progress:
            progress(done, total)
    finally:
        opened.close()
    return report


def _import_batch(runtime, rows: list[_Row], ctx: _Context, seen: dict[str, int], report: ImportReport) -> None:
    """Check one batch of rows and, unless a dry run, write the good ones in one transaction."""
    header = ctx.header
    ref_problems: dict[int, Problem] = {}
    for row in rows:
        row.ref, problem = _row_ref(row, header)
        if problem is not None:
            ref_problems[row.number] = problem
    with (runtime.Session() if ctx.dry_run else runtime.Session.begin()) as db:
        wanted = [row.ref for row in rows if row.ref]
        existing = {need.ref: need for need in db.scalars(select(Need).where(Need.ref.in_(wanted)))}
        numbers = [_number(ref) for ref in wanted if _number(ref) and ref not in existing]
        taken = {need_id: ref for need_id, ref in db.execute(select(Need.id, Need.ref).where(Need.id.in_(numbers)))}
        explicit: list[Need] = []
        numbered: list[Need] = []
        changed_refs: list[str] = []
        for row in rows:
            report.rows += 1
            problems = [ref_problems[row.number]] if row.number in ref_problems else []
            ref = row.ref
            if ref is not None and ref in seen:
                problems.append(_row_problem(row.number, "ref", header,
                                             N_("Sequence number %(ref)s is already used on row %(row)d."),
                                             {"ref": ref, "row": seen[ref]}))
            elif ref is not None:
                seen[ref] = row.number
                if ref not in existing and _number(ref) in taken:
                    problems.append(_row_problem(row.number, "ref", header, N_(
                        "%(ref)s is not in Cocreate and its number is taken by %(other)s; leave the sequence "
                        "number empty to add this row as a new need."), {"ref": ref, "other": taken[_number(ref)]}))
            need = existing.get(ref) if ref else None
            need_input = None
            try:
                need_input = validate_need(_need_data(row, need, ctx), ctx.settings, now=ctx.now)
            except InvalidNeed as exc:
                problems.extend(_need_problems(row.number, exc.errors, header))
            status = _row_status(row, ctx, problems)
            if problems:
                report.problems.extend(problems)
                report.refused_rows.append(row.number)
            elif need is None:
                created = _create(row, ref, need_input, status, ctx, report)
                if created is not None:
                    (explicit if _number(ref) else numbered).append(created)
            elif _update(row, need, need_input, status, ctx, report):
                changed_refs.append(need.ref)
        jobs = []
        if not ctx.dry_run:
            _insert(db, explicit, numbered)
            refs = changed_refs + [need.ref for need in explicit + numbered]
            jobs = [runtime.queue.record(db, "sync_needs", refs[start : start + SYNC_CHUNK])
                    for start in range(0, len(refs), SYNC_CHUNK)]
            report.synced_refs.extend(refs)
            report.sync_jobs += len(jobs)
    runtime.queue.send(*jobs)


def _number(ref: str | None) -> int | None:
    """The number of a ref in Cocreate's own ``N-0042`` form, else None."""
    match = _COCREATE_REF.match(ref or "")
    return int(match.group(1)) if match else None


def _create(row: _Row, ref: str | None, need_input, status: str | None, ctx: _Context,
            report: ImportReport) -> Need | None:
    header = ctx.header
    if ref is None:
        report.warnings.append(_row_problem(row.number, "ref", header, N_(
            "No sequence number: importing this sheet again will add this row again.")))
    if _cell_text(row.cells.get("screenshots")):
        report.warnings.append(_row_problem(row.number, "screenshots", header, N_(
            "Screenshots are not imported; add them on the need's page.")))
    report.created += 1
    if ctx.dry_run:
        return None
    status = status or ctx.settings.initial_status
    need = Need(ref=ref or f"tmp-{uuid.uuid4().hex[:20]}", status=status, sync_state="pending",
                created_by=ctx.actor, status_changed_at=ctx.now, created_at=ctx.now, **asdict(need_input))
    if _number(ref):
        need.id = _number(ref)  # the ref's number is the need's number, as for needs filed in Cocreate
    need.history.append(StatusChange(status=status, previous=None, source="import", actor=ctx.actor,
                                     note=f"{report.filename} #{row.number}", at=ctx.now))
    return need


def _update(row: _Row, need: Need, need_input, status: str | None, ctx: _Context, report: ImportReport) -> bool:
    """Apply the row to its need; True when a field the tracker shows changed (the need must be synced)."""
    values = asdict(need_input)
    changed = [name for name, value in values.items() if not _same(need, name, value)]
    status_changed = status is not None and status != need.status
    if status_changed and need.issue_key:
        report.warnings.append(_row_problem(row.number, "status", ctx.header, N_(
            "The tracker sets this need's status (now %(current)s); the sheet's value is not imported."),
            {"current": status_name(ctx.settings, need.status, ctx.header.language)}))
        status_changed = False
    if not changed and not status_changed:
        report.unchanged += 1
        return False
    report.updated += 1
    if ctx.dry_run:
        return False
    for name in changed:
        setattr(need, name, values[name])
    if changed:
        need.sync_state = "pending"
    if status_changed:
        need.history.append(StatusChange(status=status, previous=need.status, source="import", actor=ctx.actor,
                                         note=f"{report.filename} #{row.number}", at=ctx.now))
        need.status, need.status_changed_at = status, ctx.now
    return bool(changed)


def _need_problems(row: int, errors: list[FieldError], header: _Header) -> list[Problem]:
    return [_row_problem(row, _column_for(error.field, header), header, error.message, error.params)
            for error in errors]


def _row_status(row: _Row, ctx: _Context, problems: list[Problem]) -> str | None:
    written = _cell_text(row.cells.get("status"))
    if not written:
        return None
    key = ctx.statuses(written)
    if key is None:
        problems.append(_row_problem(row.number, "status", ctx.header, N_("Unknown status %(value)s."),
                                     {"value": written}))
    return key


def _insert(db, explicit: list[Need], numbered: list[Need]) -> None:
    """Needs with a chosen ``N-`` number go first, so the next automatic number is past theirs."""
    if explicit:
        db.add_all(explicit)
        db.flush()
        if db.bind.dialect.name == "postgresql":
            # An explicit id does not move PostgreSQL's sequence; move it, or the next form intake collides.
            db.execute(text("SELECT setval(pg_get_serial_sequence('needs', 'id'), (SELECT MAX(id) FROM needs))"))
    if numbered:
        db.add_all(numbered)
        db.flush()
        for need in numbered:
            if need.ref.startswith("tmp-"):  # no sequence number in the sheet: numbered as intake does
                need.ref = format_ref(need.id)
        db.flush()


# Export -----------------------------------------------------------------------------------------


def export_values(need: Need, settings: Settings, locale: str, zone: dt.tzinfo) -> dict[str, object]:
    """One need as the table's cells (text, or a local datetime for 反饋時間), keyed by column."""
    def name(item, key):
        return item.name.get(locale) if item else (key or "")

    customer = settings.customer(need.customer)
    return {
        "ref": need.ref,
        "category": name(settings.category(need.category), need.category),
        "description": join_description(need.title, need.description or ""),
        "screenshots": "\n".join(attachment.filename for attachment in need.attachments),
        "urgency": name(settings.urgency(need.urgency), need.urgency),
        "reporter": need.reporter_name,
        "reported_at": need.reported_at.astimezone(zone).replace(tzinfo=None, microsecond=0),
        "owner": need.owner or "",
        "status": name(settings.status(need.status), need.status),
        "remarks": need.remarks or "",
        "customer": customer.name if customer else need.customer,
        "stage": STAGE_NAMES[need.stage][locale] if need.stage in STAGE_NAMES else (need.stage or ""),
        "reporter_email": need.reporter_email or "",
        "reporter_channel": need.reporter_channel or "",
        "linked_to": need.linked_to or "",
        "issue": need.issue_key or "",
        "issue_url": need.issue_url or "",
    }


def _time_text(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment.second else f"{moment:%Y-%m-%d %H:%M}"


def _needs_query(filters: Mapping[str, str] | None):
    query = select(Need).options(selectinload(Need.attachments)).order_by(Need.id)
    for name, value in (filters or {}).items():
        if value:
            query = query.where(getattr(Need, name) == value)
    return query.execution_options(yield_per=BATCH_ROWS)


def export_table(runtime, target, fmt: str, *, locale: str | None = None, timezone: str = "UTC",
                 filters: Mapping[str, str] | None = None) -> int:
    """Write the needs (``filters``: column -> exact value) to ``target`` (a path or binary file) as
    ``fmt`` ``xlsx`` or ``csv``, headers in ``locale`` (default: the config's); returns the row count."""
    settings = runtime.settings
    locale = locale or settings.locale
    zone = ZoneInfo(timezone)
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"export format {fmt!r}: use xlsx or csv")
    with runtime.Session() as session:
        needs = session.scalars(_needs_query(filters))
        if fmt == "csv":
            return _write_csv(target, needs, settings, locale, zone)
        return _write_xlsx(target, needs, settings, locale, zone)


def _write_csv(target, needs, settings: Settings, locale: str, zone: dt.tzinfo) -> int:
    own = isinstance(target, (str, Path))
    binary = open(target, "wb") if own else target
    # UTF-8 with a BOM: Excel then opens the Chinese text correctly.
    stream = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(stream)
        writer.writerow([column.headers[locale] for column in COLUMNS])
        count = 0
        for need in needs:
            values = export_values(need, settings, locale, zone)
            writer.writerow([_time_text(value) if isinstance(value, dt.datetime) else _escape_text(value)
                             for value in values.values()])
            count += 1
        return count
    finally:
        stream.detach()
        if own:
            binary.close()


def _write_xlsx(target, needs, settings: Settings, locale: str, zone: dt.tzinfo) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(catalog(locale).gettext("Requirements"))
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[column_letter(index)].width = column.width
    sheet.freeze_panes = "B2"
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E8C")
    border = Border(bottom=Side(style="thin", color="DDE3EA"))
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    link_font = Font(color="1F4E8C", underline="single")
    urgency_styles = []
    for fill, font in URGENCY_COLOURS:
        urgency_styles.append((PatternFill("solid", fgColor=fill), Font(bold=True, color=font)))
    levels = {urgency.key: min(index, len(URGENCY_COLOURS) - 1) for index, urgency in enumerate(settings.urgencies)}

    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, column.headers[locale])
        cell.font, cell.fill, cell.alignment = head_font, head_fill, Alignment(vertical="center")
        header.append(cell)
    sheet.append(header)
    count = 0
    for need in needs:
        values = export_values(need, settings, locale, zone)
        row = []
        for column in COLUMNS:
            value = values[column.key]
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters have no place in the XML
            cell = WriteOnlyCell(sheet, value if value != "" else None)
            if isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss" if value.second else "yyyy-mm-dd hh:mm"
            elif isinstance(value, str) and value:
                cell.data_type = "s"  # text that starts with '=' stays text, never a formula
            cell.alignment = wrap if column.key in ("description", "remarks", "screenshots") else top
            cell.border = border
            if column.key == "urgency" and need.urgency in levels:
                cell.fill, cell.font = urgency_styles[levels[need.urgency]]
            if column.key in ("issue", "issue_url") and need.issue_url and need.issue_url.startswith(("https://",
                                                                                                     "http://")):
                cell.hyperlink, cell.font = need.issue_url, link_font
            row.append(cell)
        sheet.append(row)
        count += 1
    sheet.auto_filter.ref = f"A1:{column_letter(len(COLUMNS) - 1)}{count + 1}"
    workbook.save(target)
    return count
