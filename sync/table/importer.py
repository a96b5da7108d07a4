"""Importing the requirement table: streaming, dry run first, rows matched by 序號.

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

Column 問題詳細描述 is the need's whole description. The title comes from the title column (標題) when the
sheet has one and the row fills it; else it is taken from the description (its first line or sentence,
``sheets.derive_title``), and a need whose description the row leaves as it is keeps its title. Export
writes both columns, so export -> import round-trips without change. A row updates its need only where a
field really differs (``changes.same_value``), and the report lists each such field, old and new. Status
(狀態) takes any configured status name or key, in any language; a need that has a tracker issue takes its
status from the tracker, so the sheet's status is then ignored (with a warning). Export-only columns
(tracker issue and link) and screenshots are not imported.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from dataclasses import field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from plugin.customer import CustomerBook
from plugin.need import (
    N_,
    STAGE_NAMES,
    STAGES,
    FieldError,
    InvalidNeed,
    NeedInput,
    stage_name,
    validate_need,
)
from plugin.settings import LOCALES, Settings
from sync.intake import format_ref
from sync.ledger.edits import change_fields
from sync.ledger.pgcopy import copy_needs
from sync.ledger.projects import project_lookup
from sync.ledger.store import Need, StatusChange, utcnow
from sync.loop.outbound import sync_state_at_intake
from sync.loop.status import status_name
from sync.projects.paging import page_contacts
from sync.similar import similar_needs
from sync.table.changes import FieldChange, same_value, value_text
from sync.table.columns import (
    COLUMN,
    COLUMNS,
    ImportReport,
    Problem,
    TableError,
)
from sync.table.sheets import (
    Sheet,
    cell_text,
    column_letter,
    configured_aliases,
    derive_title,
    header_names,
    normalise_header,
    open_sheet,
    parse_sheet_time,
    unescape_csv,
)

if TYPE_CHECKING:
    from sync.runtime import Runtime

BATCH_ROWS = 400
"""Rows validated and written per transaction (with their ``sync_needs`` jobs)."""

ANALYZE_ROWS = 1000
"""On PostgreSQL, an import that writes this many needs or more ends with ANALYZE of the tables it wrote: until
autovacuum gets round to it the planner reads /needs pages with the row counts of before the import."""

SYNC_CHUNK = 200
"""Refs per ``sync_needs`` job after an import (Jira creates 50 issues per bulk call within it)."""

HEADER_SCAN_ROWS = 10
"""A title row or two may sit above the header row; look this far down for it."""

REF_MAX = 32
# A sheet's own sequence number: it becomes the ref, so it must suit a URL (/needs/17) and a tracker label
# (cocreate-17); the digit keeps it apart from the pages beside it (/needs/new, /needs/export).
REF_PATTERN = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9._-]*$")
COCREATE_REF = re.compile(r"^[Nn]-(\d{1,9})$")
ANGLE_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*$")

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


def _find_header(sheet: Sheet, names: dict[str, str], report: ImportReport, default_language: str) -> _Header:
    for number, values in sheet.rows:
        keys = [names.get(normalise_header(value)) for value in values]
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
        written = cell_text(value)
        if key is None:
            if written:
                report.add_warning(Problem(number, written, column_letter(index),
                                          N_("Unknown column; it is not imported.")))
            continue
        if key in positions:
            problems.append(Problem(number, written, column_letter(index),
                                    N_("Same column as %(other)s (%(letter)s); keep one of them."),
                                    {"other": labels[key], "letter": column_letter(positions[key])}))
            continue
        positions[key], labels[key] = index, written
    language = _sheet_language(labels, default_language)
    header = _Header(number, positions, labels, language)
    if "description" not in positions:
        problems.append(Problem(number, COLUMN["description"].headers[language], None,
                                N_("The sheet has no such column; every need needs its description.")))
    if problems:
        raise TableError(problems, language)
    return header


def _script(locale: str) -> frozenset[str]:
    """The characters only ``locale``'s headers use of the two Chinese scripts' (號 or 号, 類 or 类, ...)."""
    others = {other for other in ("zh_Hant", "zh_Hans") if other != locale}
    return frozenset("".join(column.headers[locale] for column in COLUMNS)) - frozenset(
        "".join(column.headers[other] for column in COLUMNS for other in others))


_SCRIPTS = {"zh_Hant": _script("zh_Hant"), "zh_Hans": _script("zh_Hans")}


def _sheet_language(labels: dict[str, str], default_language: str) -> str:
    """The language of a sheet's headers (key -> header as written): the one most of them are written in exactly;
    between equals, the one whose script's own characters they use most (編號 is zh_Hant, 编号 zh_Hans), or whose
    headers are plain Latin (en); then the config's language."""
    written = {key: normalise_header(label) for key, label in labels.items()}

    def score(locale: str) -> tuple[int, int]:
        exact = sum(1 for key, label in written.items() if normalise_header(COLUMN[key].headers[locale]) == label)
        if locale == "en":
            return exact, sum(1 for label in written.values() if label.isascii())
        return exact, sum(1 for label in written.values() for char in label if char in _SCRIPTS[locale])

    return max((default_language, *LOCALES), key=score)


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
                value = unescape_csv(value)
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
    customers: CustomerBook
    """The customer column resolves as the form does: key, name or other name, else the row is refused."""
    stages: _Lookup
    actor: str | None
    dry_run: bool
    sync_state: str
    """What a created or changed need's sync state starts as (``sync_state_at_intake``)."""
    similar_checked: int = 0
    projects: dict[str, tuple[int, str]] = dc_field(default_factory=dict)
    """Project key and name (casefolded) -> (id, customer): a row's 項目 names one of them."""
    default_project: str | None = None


_NEED_FIELD_COLUMN = {
    "title": "description", "description": "description", "reporter_name": "reporter",
}


def _need_data(row: _Row, existing: Need | None, ctx: _Context) -> dict:
    """The fields ``validate_need`` takes: the stored need's, overlaid by the sheet's columns."""
    data = {item.name: getattr(existing, item.name) for item in fields(NeedInput)} if existing is not None else {}
    cells = row.cells

    def text_of(key: str) -> str:
        return cell_text(cells.get(key))

    if "description" in cells:
        description = text_of("description")
        title = text_of("title")
        if not title and existing is not None and same_value(existing.description, description):
            title = existing.title  # the description as stored: the title it was given stays
        data["title"], data["description"] = title or derive_title(description), description
    # Names in any language become keys; what matches none is left for validate_need to name.
    for key, lookup in (("category", ctx.categories), ("urgency", ctx.urgencies), ("stage", ctx.stages),
                        ("customer", ctx.customers.resolve)):
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
        match = ANGLE_EMAIL.match(written)
        if match and not text_of("reporter_email"):
            written, data["reporter_email"] = match.group("name"), match.group("email")
        data["reporter_name"] = written
    if "reported_at" in cells and cells["reported_at"] not in (None, ""):
        raw = cells["reported_at"]
        data["reported_at"] = parse_sheet_time(raw, ctx.zone) or cell_text(raw)
    return data


def _column_for(field_name: str, header: _Header) -> str:
    if field_name == "title" and "title" in header.positions:
        return "title"
    if field_name == "reporter_email" and "reporter_email" not in header.positions and "reporter" in header.positions:
        return "reporter"
    return _NEED_FIELD_COLUMN.get(field_name, field_name)


def _row_problem(row: int, key: str, header: _Header, message: str, params: dict | None = None) -> Problem:
    label, letter = header.label(key)
    return Problem(row, label, letter, message, params or {})


def _row_ref(row: _Row, header: _Header) -> tuple[str | None, Problem | None]:
    written = cell_text(row.cells.get("ref"))
    if not written:
        return None, None
    match = COCREATE_REF.match(written)
    if match:
        return format_ref(int(match.group(1))), None
    if len(written) > REF_MAX or not REF_PATTERN.match(written):
        return None, _row_problem(row.number, "ref", header, N_(
            "A sequence number needs a digit and may use letters, digits, '.', '_' and '-', up to %(limit)d "
            "characters."),
            {"limit": REF_MAX})
    return written, None


def import_table(runtime: Runtime, path: str | Path, *, dry_run: bool, default_customer: str | None = None,
                 timezone: str = "UTC", aliases: Mapping[str, Sequence[str]] | None = None,
                 actor: str | None = None, sheet: str | None = None, encoding: str | None = None,
                 progress: Callable[[int, int | None], None] | None = None, now: dt.datetime | None = None,
                 filename: str | None = None, default_project: str | None = None) -> ImportReport:
    """Import (or with ``dry_run`` only check) the table at ``path`` into the store; headers are matched in
    every language, by the built-in variants, ``table.aliases`` from the config and ``aliases``.

    Every row is checked; rows with problems are refused whole and listed, one :class:`Problem` per problem,
    by row and column. A real import writes the other rows in batches of ``BATCH_ROWS``, each batch in one
    transaction with its ``sync_needs`` jobs (created and changed needs, ``SYNC_CHUNK`` refs per job). A file
    that cannot be read as a table raises :class:`TableError`. ``progress(rows_done, rows_total_or_None)`` is
    called per batch. A row's project (項目, its key or name; ``default_project`` for rows naming none) must be
    one of the row's customer; a need whose row names none keeps its project.
    """
    path = Path(path)
    settings = runtime.settings
    report = ImportReport(dry_run=dry_run, filename=filename or path.name)
    names = header_names({**configured_aliases(settings), **(aliases or {})})
    opened = open_sheet(path, sheet=sheet, encoding=encoding, names=names, count=progress is not None,
                        name=report.filename, max_rows=settings.table.max_rows)
    try:
        header = _find_header(opened, names, report, settings.locale)
        report.language = header.language
        book = runtime.customers()
        ctx = _Context(
            settings=settings, header=header, zone=ZoneInfo(timezone),
            default_customer=book.resolve(default_customer) or default_customer, now=now or utcnow(),
            categories=_Lookup.of_items(settings.categories), urgencies=_Lookup.of_items(settings.urgencies),
            statuses=_Lookup.of_items(settings.statuses),
            customers=book,
            stages=_Lookup((key, (key, STAGE_NAMES[key], *(stage_name(key, locale) for locale in LOCALES)))
                           for key in STAGES),
            actor=actor, dry_run=dry_run, sync_state=sync_state_at_intake(runtime),
            projects=project_lookup(runtime), default_project=default_project,
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
    if not dry_run and report.created + report.updated >= ANALYZE_ROWS and runtime.engine.dialect.name == "postgresql":
        with runtime.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE needs, status_history, need_edits")
    return report


def _import_batch(runtime: Runtime, rows: list[_Row], ctx: _Context, seen: dict[str, int],
                  report: ImportReport) -> None:
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
                need_input = validate_need(_need_data(row, need, ctx), ctx.settings, now=ctx.now, customers=ctx.customers)
            except InvalidNeed as exc:
                problems.extend(_need_problems(row.number, exc.errors, header))
            project_id = _row_project(row, need_input, need, ctx, problems)
            status = _row_status(row, ctx, problems)
            if problems:
                report.add_problems(problems)
                report.refused_rows.append(row.number)
            elif need is None:
                created = _create(row, ref, need_input, status, ctx, report, project_id)
                if ctx.dry_run:
                    _note_similar(db, row, need_input, ctx, report)
                if created is not None:
                    (explicit if _number(ref) else numbered).append(created)
            elif _update(db, row, need, need_input, status, ctx, report, project_id):
                changed_refs.append(need.ref)
        jobs = []
        if not ctx.dry_run:
            _insert(db, explicit, numbered)
            refs = changed_refs + [need.ref for need in explicit + numbered]
            # With no tracker configured the needs wait for one (``resume_syncs``): no job could do anything.
            jobs = [runtime.queue.record(db, "sync_needs", refs[start : start + SYNC_CHUNK])
                    for start in range(0, len(refs), SYNC_CHUNK)] if runtime.settings.tracker is not None else []
            report.synced_refs.extend(refs)
            report.sync_jobs += len(jobs)
            for need in explicit + numbered:  # the most urgent needs of a project page its emergency contacts
                jobs += page_contacts(runtime, db, need)
    runtime.queue.send(*jobs)


SIMILAR_CHECKED = 200
"""New rows of a dry run compared with the open needs; beyond them a large sheet is checked without."""


def _note_similar(db, row: _Row, need_input, ctx: _Context, report: ImportReport) -> None:
    """A dry run notes the open need most like a new row (``sync.similar``): CS may rather attach the row to it
    through its "Linked to" column than file it again."""
    if need_input.linked_to or ctx.similar_checked >= SIMILAR_CHECKED:
        return
    ctx.similar_checked += 1
    found = similar_needs(db, ctx.settings, db.get_bind().dialect.name, need_input.title, need_input.description,
                          category=need_input.category, limit=1)
    if found:
        report.add_warning(_row_problem(row.number, "linked_to", ctx.header, N_(
            "Like %(ref)s “%(title)s” (similarity %(score)s): put %(ref)s in “Linked to” to attach this row to it."),
            {"ref": found[0].ref, "title": found[0].title, "score": f"{found[0].score:.2f}"}))


def _number(ref: str | None) -> int | None:
    """The number of a ref in Cocreate's own ``N-0042`` form, else None."""
    match = COCREATE_REF.match(ref or "")
    return int(match.group(1)) if match else None


def _create(row: _Row, ref: str | None, need_input, status: str | None, ctx: _Context,
            report: ImportReport, project_id: int | None = None) -> Need | None:
    header = ctx.header
    if ref is None:
        report.add_warning(_row_problem(row.number, "ref", header, N_(
            "No sequence number: importing this sheet again will add this row again.")))
    if cell_text(row.cells.get("screenshots")):
        report.add_warning(_row_problem(row.number, "screenshots", header, N_(
            "Screenshots are not imported; add them on the need's page.")))
    report.created += 1
    if ctx.dry_run:
        return None
    status = status or ctx.settings.initial_status
    need = Need(ref=ref or f"tmp-{uuid.uuid4().hex[:20]}", status=status, sync_state=ctx.sync_state,
                created_by=ctx.actor, status_changed_at=ctx.now, created_at=ctx.now, project_id=project_id,
                **asdict(need_input))
    if _number(ref):
        need.id = _number(ref)  # the ref's number is the need's number, as for needs filed in Cocreate
    need.history.append(StatusChange(status=status, previous=None, source="import", actor=ctx.actor,
                                     note=f"{report.filename} #{row.number}", at=ctx.now))
    return need


def _update(db, row: _Row, need: Need, need_input, status: str | None, ctx: _Context,
            report: ImportReport, project_id: int | None = None) -> bool:
    """Apply the row to its need, each change kept in its field history; True when a field the tracker shows
    changed (the need must be synced)."""
    values = asdict(need_input) | ({"project_id": project_id} if project_id is not None else {})
    changed = [name for name, value in values.items() if not same_value(getattr(need, name), value)]
    status_changed = status is not None and status != need.status
    if status_changed and need.issue_key:
        report.add_warning(_row_problem(row.number, "status", ctx.header, N_(
            "The tracker sets this need's status (now %(current)s); the sheet's value is not imported."),
            {"current": status_name(ctx.settings, need.status, ctx.header.language)}))
        status_changed = False
    if not changed and not status_changed:
        report.unchanged += 1
        return False
    report.updated += 1
    report.add_changes(
        [FieldChange(need.ref, row.number, name, value_text(getattr(need, name), ctx.zone),
                     value_text(values[name], ctx.zone)) for name in changed]
        + ([FieldChange(need.ref, row.number, "status", need.status, status)] if status_changed else []))
    if ctx.dry_run:
        return False
    change_fields(db, need, {name: values[name] for name in changed}, source="import", actor=ctx.actor,
                  at=ctx.now)
    if set(changed) - {"project_id"}:
        need.sync_state = ctx.sync_state
    if status_changed:
        need.history.append(StatusChange(status=status, previous=need.status, source="import", actor=ctx.actor,
                                         note=f"{report.filename} #{row.number}", at=ctx.now))
        need.status, need.status_changed_at = status, ctx.now
    return bool(set(changed) - {"project_id"})


def _row_project(row: _Row, need_input, need: Need | None, ctx: _Context, problems: list[Problem]) -> int | None:
    """The id of the project the row names (or ``default_project``), checked against the row's customer; None
    when it names none (a stored need keeps its project). A problem goes into ``problems``."""
    written = cell_text(row.cells.get("project")) or ctx.default_project or ""
    if not written:
        return None
    found = ctx.projects.get(written.casefold())
    customer = need_input.customer if need_input is not None else None
    if found is None:
        problems.append(_row_problem(row.number, "project", ctx.header, N_("No project %(key)s."),
                                     {"key": written}))
        return None
    if customer is not None and found[1] != customer:
        problems.append(_row_problem(row.number, "project", ctx.header, N_(
            "Project %(key)s is %(customer)s's, not this need's customer's."),
            {"key": written, "customer": found[1]}))
        return None
    return found[0]


def _need_problems(row: int, errors: list[FieldError], header: _Header) -> list[Problem]:
    return [_row_problem(row, _column_for(error.field, header), header, error.message, error.params)
            for error in errors]


def _row_status(row: _Row, ctx: _Context, problems: list[Problem]) -> str | None:
    written = cell_text(row.cells.get("status"))
    if not written:
        return None
    key = ctx.statuses(written)
    if key is None:
        problems.append(_row_problem(row.number, "status", ctx.header, N_("Unknown status %(value)s."),
                                     {"value": written}))
    return key


def _insert(db, explicit: list[Need], numbered: list[Need]) -> None:
    """Needs with a chosen ``N-`` number go first, so the next automatic number is past theirs."""
    if db.bind.dialect.name == "postgresql":
        copy_needs(db, explicit, numbered, format_ref)
        return
    if explicit:
        db.add_all(explicit)
        db.flush()
    if numbered:
        db.add_all(numbered)
        db.flush()
        for need in numbered:
            if need.ref.startswith("tmp-"):  # no sequence number in the sheet: numbered as intake does
                need.ref = format_ref(need.id)
        db.flush()
