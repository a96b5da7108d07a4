"""What importing a row changes in its need, field by field: values are compared as a reader sees them (line
endings, trailing spaces, Unicode composition and seconds' fractions do not count), and each real change is kept
as old -> new, so a dry run can say which rows and which fields an import would change."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from plugin.customer import CustomerBook
from plugin.need import stage_name
from plugin.settings import Settings
from sync.loop.status import status_name
from sync.table.columns import COLUMN

SHOWN_CHARS = 60
"""Old and new values are shortened to about this many characters where they are shown."""
EMPTY = "—"

_FIELD_COLUMN = {"reporter_name": "reporter"}


@dataclass(frozen=True)
class FieldChange:
    """One field of one need an import changes: the need's ``ref``, the sheet's ``row``, the need's ``field``
    (``NeedInput``'s names, and ``status``), and the stored and the sheet's value as text (keys for the configured
    lists, times in the import's zone)."""

    ref: str
    row: int
    field: str
    old: str
    new: str


def comparable(value):
    """``value`` as compared: text with ``\\n`` line ends, no trailing spaces on a line or around it, composed
    (NFC); None as empty text; a time in UTC to the second."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).replace(microsecond=0)
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
        return "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return value


def same_value(old, new) -> bool:
    return comparable(old) == comparable(new)


def time_text(moment: dt.datetime) -> str:
    """``2026-11-23 14:30`` (seconds only when there are any); the year always has four digits, as the import
    reads it (``%Y`` writes year 1 as ``1``)."""
    text = f"{moment.year:04d}-{moment:%m-%d %H:%M}"
    return f"{text}:{moment.second:02d}" if moment.second else text


def value_text(value, zone: dt.tzinfo) -> str:
    """A stored or imported value as a :class:`FieldChange` keeps it."""
    if isinstance(value, dt.datetime):
        return time_text(comparable(value).astimezone(zone))
    return comparable(value)


def field_label(field: str, locale: str) -> str:
    """The field's name in ``locale``: its column's header (問題詳細描述, 反饋人 ...)."""
    return COLUMN[_FIELD_COLUMN.get(field, field)].headers[locale]


def _named(settings: Settings, customers: CustomerBook, field: str, value: str, locale: str) -> str:
    if not value:
        return EMPTY
    if field in ("category", "urgency"):
        item = getattr(settings, field)(value)
        return item.name.get(locale) if item else value
    if field == "status":
        return status_name(settings, value, locale)
    if field == "customer":
        return customers.name(value)
    if field == "stage":
        return stage_name(value, locale) or value
    return value


def shorten(old: str, new: str, limit: int = SHOWN_CHARS) -> tuple[str, str]:
    """``old`` and ``new`` on one line each (a line break shown as ``↵``, other runs of spaces as one), cut to about
    ``limit`` characters; where one is long, from a little before the first character they differ in, so that the
    shortened texts still show the difference."""

    def one_line(text: str) -> str:
        return "↵".join(" ".join(line.split()) for line in text.strip().split("\n"))

    old, new = one_line(old), one_line(new)
    same = next((index for index, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    start = max(same - limit // 3, 0) if max(len(old), len(new)) > limit else 0

    def cut(text: str) -> str:
        part = text[start:]
        part = part if len(part) <= limit else part[: limit - 1].rstrip() + "…"
        return ("…" + part.lstrip()) if start else part

    return cut(old), cut(new)


def describe(change: FieldChange, settings: Settings, locale: str,
             customers: CustomerBook = CustomerBook()) -> tuple[str, str, str]:
    """``(field name, old, new)`` as a person reads them in ``locale``: names for the configured lists' keys, long
    texts shortened, ``—`` for empty."""
    old, new = (_named(settings, customers, change.field, value, locale) for value in (change.old, change.new))
    return (field_label(change.field, locale), *shorten(old, new))
