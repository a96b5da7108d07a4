"""Exporting the requirement table, xlsx (formatted: header, widths, urgency colours, links) or csv
(formula-safe), with live status and tracker links; an export imports back unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plugin.catalogs import catalog
from plugin.need import stage_name
from plugin.settings import Settings
from sync.ledger.search import matching
from sync.ledger.store import Need
from sync.table.columns import COLUMNS, URGENCY_COLOURS
from sync.table.sheets import column_letter, escape_text, join_description

if TYPE_CHECKING:
    from sync.runtime import Runtime

FETCH_ROWS = 400
"""Needs read from the database per round trip while the rows are written."""


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
        "stage": stage_name(need.stage, locale),
        "reporter_email": need.reporter_email or "",
        "reporter_channel": need.reporter_channel or "",
        "linked_to": need.linked_to or "",
        "issue": need.issue_key or "",
        "issue_url": need.issue_url or "",
    }


def _time_text(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment.second else f"{moment:%Y-%m-%d %H:%M}"


def _needs_query(runtime: Runtime, filters: Mapping[str, str] | None, search: str):
    query = select(Need).options(selectinload(Need.attachments)).order_by(Need.id)
    for name, value in (filters or {}).items():
        if value:
            query = query.where(getattr(Need, name) == value)
    query = query.where(matching(search, runtime.engine.dialect.name, runtime.settings.customers))
    return query.execution_options(yield_per=FETCH_ROWS)


def export_table(runtime: Runtime, target, fmt: str, *, locale: str | None = None, timezone: str = "UTC",
                 filters: Mapping[str, str] | None = None, search: str = "") -> int:
    """Write the needs (``filters``: column -> exact value; ``search``: the words of the /needs search box) to
    ``target`` (a path or binary file) as ``fmt`` ``xlsx`` or ``csv``, headers in ``locale`` (default: the
    config's); returns the row count."""
    settings = runtime.settings
    locale = locale or settings.locale
    zone = ZoneInfo(timezone)
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"export format {fmt!r}: use xlsx or csv")
    with runtime.Session() as session:
        needs = session.scalars(_needs_query(runtime, filters, search))
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
            writer.writerow([_time_text(value) if isinstance(value, dt.datetime) else escape_text(value)
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
