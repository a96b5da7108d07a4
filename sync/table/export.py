"""Exporting the requirement table, xlsx (formatted: header, widths, urgency colours, links) or csv
(formula-safe), with live status and tracker links; an export imports back unchanged. Rows are written as they
are read, so memory stays flat and a download starts at once at any table size."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.need import STAGE_NAMES, stage_name
from plugin.settings import Settings
from sync.ledger.search import matching
from sync.ledger.store import Attachment, Need
from sync.table.changes import time_text
from sync.table.columns import EXPORTED as COLUMNS
from sync.table.columns import URGENCY_COLOURS
from sync.table.sheets import escape_text
from sync.table.workbook import STYLE, SheetStream

if TYPE_CHECKING:
    from sync.runtime import Runtime

FORMATS = ("xlsx", "csv")
FETCH_ROWS = 400
"""Needs read from the database per round trip (with one query for their screenshots) while rows are written."""
CSV_CHUNK_ROWS = 200
"""CSV rows encoded at a time, between two chunks handed on."""
_FIELDS = (Need.id, Need.ref, Need.category, Need.title, Need.description, Need.urgency, Need.reporter_name,
           Need.reported_at, Need.owner, Need.status, Need.remarks, Need.customer, Need.stage, Need.reporter_email,
           Need.reporter_channel, Need.linked_to, Need.issue_key, Need.issue_url)
_WRAPPED = ("description", "remarks", "screenshots")
_LINKED = tuple(index for index, column in enumerate(COLUMNS) if column.key in ("issue", "issue_url"))
_URGENCY = next(index for index, column in enumerate(COLUMNS) if column.key == "urgency")


# Export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """The names one export shows for the config's keys, looked up once per export rather than per row."""

    categories: dict[str, str]
    urgencies: dict[str, str]
    statuses: dict[str, str]
    customers: dict[str, str]
    stages: dict[str, str]
    levels: dict[str, int]
    """Urgency key -> its colour's position in URGENCY_COLOURS (the least urgent share the last colour)."""

    @classmethod
    def of(cls, settings: Settings, locale: str, customers: CustomerBook = CustomerBook()) -> Names:
        def named(items):
            return {item.key: item.name.get(locale) for item in items}

        return cls(categories=named(settings.categories), urgencies=named(settings.urgencies),
                   statuses=named(settings.statuses),
                   customers={customer.key: customer.name for customer in customers.records},
                   stages={stage: stage_name(stage, locale) for stage in STAGE_NAMES},
                   levels={urgency.key: min(index, len(URGENCY_COLOURS) - 1)
                           for index, urgency in enumerate(settings.urgencies)})


def export_values(need, screenshots, names: Names, zone: dt.tzinfo) -> list:
    """One need (a row of ``_FIELDS``) as the table's cells in ``COLUMNS`` order: text, or a local datetime
    for 反饋時間. A key the config no longer knows is shown as stored."""
    return [
        need.ref,
        names.categories.get(need.category, need.category or ""),
        need.description or "",
        "\n".join(screenshots),
        names.urgencies.get(need.urgency, need.urgency or ""),
        need.reporter_name,
        need.reported_at.astimezone(zone).replace(tzinfo=None, microsecond=0),
        need.owner or "",
        names.statuses.get(need.status, need.status or ""),
        need.remarks or "",
        names.customers.get(need.customer, need.customer),
        names.stages.get(need.stage, need.stage or ""),
        need.reporter_email or "",
        need.reporter_channel or "",
        need.linked_to or "",
        need.title,
        need.issue_key or "",
        need.issue_url or "",
    ]


def _needs_query(runtime: Runtime, filters: Mapping[str, str] | None, search: str, refs: Sequence[str] | None):
    query = select(*_FIELDS).order_by(Need.id)
    if refs is not None:
        query = query.where(Need.ref.in_(refs))
    for name, value in (filters or {}).items():
        if value:
            query = query.where(getattr(Need, name) == value)
    query = query.where(matching(search, runtime.engine.dialect.name, runtime.customers()))
    return query.execution_options(yield_per=FETCH_ROWS)


def _needs(runtime: Runtime, session, filters: Mapping[str, str] | None, search: str,
           refs: Sequence[str] | None) -> Iterator[tuple]:
    """``(need, screenshot file names)`` in table order, FETCH_ROWS needs and one screenshot query at a time."""
    for chunk in session.execute(_needs_query(runtime, filters, search, refs)).partitions():
        screenshots = defaultdict(list)
        query = (select(Attachment.need_id, Attachment.filename)
                 .where(Attachment.need_id.in_([need.id for need in chunk])).order_by(Attachment.id))
        for need_id, filename in session.execute(query):
            screenshots[need_id].append(filename)
        for need in chunk:
            yield need, screenshots.get(need.id, ())


class TableExport:
    """The needs matching ``filters`` (column -> exact value) and ``search`` (the words of the /needs search
    box), or only those of ``refs`` when given (the rows selected on /needs), as a ``fmt`` file (``xlsx`` or
    ``csv``), headers in ``locale`` (default: the config's), times in ``timezone``.

    :meth:`chunks` makes the file while the needs are read: its first bytes come before the first query and
    memory stays flat however many needs there are. ``rows`` counts the needs written so far.
    """

    def __init__(self, runtime: Runtime, fmt: str, *, locale: str | None = None, timezone: str = "UTC",
                 filters: Mapping[str, str] | None = None, search: str = "", refs: Sequence[str] | None = None):
        if fmt not in FORMATS:
            raise ValueError(f"export format {fmt!r}: use xlsx or csv")
        self.runtime, self.fmt = runtime, fmt
        self.locale = locale or runtime.settings.locale
        self.zone = ZoneInfo(timezone)
        self.filters, self.search, self.refs = filters, search, refs
        self.rows = 0

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, a chunk at a time."""
        names = Names.of(self.runtime.settings, self.locale, self.runtime.customers())
        with self.runtime.Session() as session:
            rows = self._values(session, names)
            yield from self._csv(rows) if self.fmt == "csv" else self._xlsx(rows, names)

    def _values(self, session, names: Names) -> Iterator[tuple]:
        for need, screenshots in _needs(self.runtime, session, self.filters, self.search, self.refs):
            self.rows += 1
            yield need, export_values(need, screenshots, names, self.zone)

    def _csv(self, rows) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([column.headers[self.locale] for column in COLUMNS])
        # UTF-8 with a BOM: Excel then opens the Chinese text correctly.
        yield "\ufeff".encode() + _drain(buffer)
        for count, (_need, values) in enumerate(rows, start=1):
            writer.writerow([time_text(value) if isinstance(value, dt.datetime) else escape_text(value)
                             for value in values])
            if count % CSV_CHUNK_ROWS == 0:
                yield _drain(buffer)
        if data := _drain(buffer):
            yield data

    def _xlsx(self, rows, names: Names) -> Iterator[bytes]:
        stream = SheetStream(catalog(self.locale).gettext("Requirements"), [column.width for column in COLUMNS])
        base = [STYLE["wrap"] if column.key in _WRAPPED else STYLE["top"] for column in COLUMNS]

        def cells():
            for need, values in rows:
                styles, links = list(base), {}
                if need.urgency in names.levels:
                    styles[_URGENCY] = STYLE["urgency"][names.levels[need.urgency]]
                if need.issue_url and need.issue_url.startswith(("https://", "http://")):
                    for index in _LINKED:
                        styles[index], links[index] = STYLE["link"], need.issue_url
                yield values, styles, links

        yield from stream.chunks([column.headers[self.locale] for column in COLUMNS], cells())


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def export_table(runtime: Runtime, target, fmt: str, *, locale: str | None = None, timezone: str = "UTC",
                 filters: Mapping[str, str] | None = None, search: str = "") -> int:
    """Write the needs (``filters``: column -> exact value; ``search``: the words of the /needs search box) to
    ``target`` (a path or binary file) as ``fmt`` ``xlsx`` or ``csv``, headers in ``locale`` (default: the
    config's); returns the row count."""
    export = TableExport(runtime, fmt, locale=locale, timezone=timezone, filters=filters, search=search)
    if isinstance(target, (str, Path)):
        with open(target, "wb") as handle:
            handle.writelines(export.chunks())
    else:
        target.writelines(export.chunks())
    return export.rows
