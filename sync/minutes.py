"""Meeting minutes: one page per co-creation meeting, linked to needs, versioned, with action items that
become tracker issues on request.

The minutes are the reference both sides return to, so every save keeps the earlier text
(:class:`MinutesVersion`), a save is all-or-nothing, and bad input is refused with a message naming the
field. Minutes marked ``shared`` appear, read-only, on the customer's status page
(:func:`shared_minutes_for_customer`); ``internal`` ones never do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

from plugin.base import IssueSpec
from plugin.errors import TrackerError
from plugin.need import N_, FieldError, InvalidInput
from plugin.settings import LOCALES, Settings
from sync.catalogs import catalog
from sync.jobs.leases import leased
from sync.ledger.store import ActionItem, MeetingMinutes, MinutesVersion, Need, NeedMinutes, utcnow
from sync.loop import mapping
from sync.loop.issues import RetryLater, create_issue_once
from sync.loop.links import minutes_link

log = logging.getLogger("cocreate.minutes")

VISIBILITIES = ("internal", "shared")
TOPIC_MAX = 200
NAME_MAX = 200
TEXT_MAX = 20_000
ACTION_MAX = 1_000
URL_MAX = 500
ATTENDEES_MAX = 100
ACTION_ITEMS_MAX = 100
IMPORT_MAX_BYTES = 1_048_576

FIELDS = ("customer", "topic", "date", "time", "place", "attendees", "key_points", "decisions", "open_questions",
          "action_items", "needs", "visibility", "external_url")
"""What a minutes page holds, by the names the form, the import files and the errors use."""
ACTION_ITEM_FIELDS = ("text", "owner", "due_date")

_REF = re.compile(r"^N-\d+$", re.IGNORECASE)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")
_LIST_SPLIT = re.compile(r"\s*(?:\n|,|，|、|;|；)\s*")
_REF_SPLIT = re.compile(r"[\s,，、;；]+")


# Checking input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionItemInput:
    """One checked action item; ``id`` is set when it is an existing item being edited."""

    text: str
    owner: str
    due_date: dt.date | None
    id: int | None = None


@dataclass(frozen=True)
class MinutesInput:
    """Minutes that passed every check, ready to be stored."""

    customer: str
    topic: str
    meeting_date: dt.date
    meeting_time: dt.time | None
    place: str
    attendees: tuple[str, ...]
    key_points: str
    decisions: str
    open_questions: str
    visibility: str
    external_url: str | None
    needs: tuple[str, ...]
    action_items: tuple[ActionItemInput, ...] = ()


class InvalidMinutes(InvalidInput):
    """Submitted or imported minutes have problems; ``errors`` names each field (``action_items.2.owner``
    for the owner of the second action item) with a message."""


class MinutesConflict(Exception):
    """The minutes were saved by someone else after the editor opened them; nothing was written."""

    def __init__(self, minutes_id: int, expected: int, current: int):
        self.minutes_id, self.expected, self.current = minutes_id, expected, current
        super().__init__(f"minutes {minutes_id} are at version {current}, not {expected}: reload and edit again")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    """``YYYY-MM-DD`` text (or a date, as YAML gives it) -> a date; None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    try:
        return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def parse_time(value: Any) -> dt.time | None:
    """``HH:MM`` -> a time; None when it is not one."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 14:30 as the base-60 integer 870.
        return dt.time(value // 60, value % 60)
    match = _TIME.match(_text(value))
    return dt.time(int(match.group(1)), int(match.group(2))) if match else None


def _split_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_text(item) for item in value if _text(item)]
    return [item for item in _LIST_SPLIT.split(_text(value)) if item]


def validate_minutes(data: dict, settings: Settings, session: Session, *, today: dt.date,
                     existing: MeetingMinutes | None = None) -> MinutesInput:
    """Check minutes from the form or an import file against the limits, the people directory and the needs.

    ``data`` uses the names of :data:`FIELDS`; ``action_items`` is a list of dicts with ``text``, ``owner``,
    ``due_date`` (and ``id`` when editing). A due date before ``today`` is refused unless it is an existing
    item's unchanged date. Raises :class:`InvalidMinutes` listing every problem at once.
    """
    errors: list[FieldError] = []
    for key in sorted(set(data) - set(FIELDS), key=str):
        errors.append(FieldError(str(key), N_("Unknown field.")))

    def text(key: str, limit: int, required: bool = False) -> str:
        value = _text(data.get(key))
        if required and not value:
            errors.append(FieldError(key, N_("This field is required.")))
        elif len(value) > limit:
            errors.append(FieldError(key, N_("At most %(limit)d characters."), {"limit": limit}))
        return value

    customer = text("customer", NAME_MAX, required=True)
    topic = text("topic", TOPIC_MAX, required=True)
    place = text("place", NAME_MAX)
    key_points = text("key_points", TEXT_MAX)
    decisions = text("decisions", TEXT_MAX)
    open_questions = text("open_questions", TEXT_MAX)

    meeting_date = parse_date(data.get("date"))
    if not _text(data.get("date")):
        errors.append(FieldError("date", N_("This field is required.")))
    elif meeting_date is None:
        errors.append(FieldError("date", N_("%(value)s is not a date; write it as YYYY-MM-DD."),
                                 {"value": _text(data.get("date"))}))

    meeting_time = None
    if _text(data.get("time")):
        meeting_time = parse_time(data.get("time"))
        if meeting_time is None:
            errors.append(FieldError("time", N_("%(value)s is not a time; write it as HH:MM."),
                                     {"value": _text(data.get("time"))}))

    attendees = _split_list(data.get("attendees"))
    if len(attendees) > ATTENDEES_MAX:
        errors.append(FieldError("attendees", N_("At most %(limit)d attendees."), {"limit": ATTENDEES_MAX}))
    for name in attendees:
        if len(name) > NAME_MAX:
            errors.append(FieldError("attendees", N_("At most %(limit)d characters."), {"limit": NAME_MAX}))
            break

    visibility = _text(data.get("visibility")) or "internal"
    if visibility not in VISIBILITIES:
        errors.append(FieldError("visibility", N_("%(value)s is not a visibility; use internal or shared."),
                                 {"value": visibility}))

    external_url = text("external_url", URL_MAX) or None
    if external_url and not re.match(r"^https?://[^\s/]+", external_url):
        errors.append(FieldError("external_url", N_("Give an address starting with http:// or https://.")))

    refs = _check_needs(data.get("needs"), customer, session, errors)
    items = _check_action_items(data.get("action_items"), settings, today, existing, errors)

    if errors:
        raise InvalidMinutes(errors)
    return MinutesInput(
        customer=customer, topic=topic, meeting_date=meeting_date, meeting_time=meeting_time, place=place,
        attendees=tuple(attendees), key_points=key_points, decisions=decisions, open_questions=open_questions,
        visibility=visibility, external_url=external_url, needs=tuple(refs), action_items=tuple(items),
    )


def _check_needs(value: Any, customer: str, session: Session, errors: list[FieldError]) -> list[str]:
    if isinstance(value, (list, tuple)):
        wanted = [_text(item) for item in value if _text(item)]
    else:
        wanted = [item for item in _REF_SPLIT.split(_text(value)) if item]
    refs: list[str] = []
    for item in wanted:
        if not _REF.match(item):
            errors.append(FieldError("needs", N_("%(value)s is not a need ref such as N-0042."), {"value": item}))
        elif item.upper() not in refs:
            refs.append(item.upper())
    found = {need.ref: need for need in session.scalars(select(Need).where(Need.ref.in_(refs)))} if refs else {}
    for ref in refs:
        need = found.get(ref)
        if need is None:
            errors.append(FieldError("needs", N_("There is no need %(ref)s."), {"ref": ref}))
        elif customer and need.customer != customer:
            # Shared minutes show their needs to the customer: another customer's need must not appear there.
            errors.append(FieldError("needs", N_("%(ref)s is a need of %(other)s, not of %(customer)s."),
                                     {"ref": ref, "other": need.customer, "customer": customer}))
    return refs


def _check_action_items(value: Any, settings: Settings, today: dt.date, existing: MeetingMinutes | None,
                        errors: list[FieldError]) -> list[ActionItemInput]:
    if value in (None, ""):
        value = []
    if not isinstance(value, (list, tuple)):
        errors.append(FieldError("action_items", N_("Give a list of action items, each with text, owner "
                                                    "and due_date.")))
        return []
    current = {item.id: item for item in existing.action_items} if existing is not None else {}
    items: list[ActionItemInput] = []
    kept: set[int] = set()
    for number, row in enumerate(value, start=1):
        prefix = f"action_items.{number}"
        if not isinstance(row, dict):
            errors.append(FieldError(prefix, N_("Give text, owner and due_date for each action item.")))
            continue
        for key in sorted(set(row) - set(ACTION_ITEM_FIELDS) - {"id"}, key=str):
            errors.append(FieldError(f"{prefix}.{key}", N_("Unknown field.")))
        item_id = None
        if _text(row.get("id")):
            item_id = int(_text(row["id"])) if _text(row["id"]).isdigit() else -1
            if item_id not in current:
                errors.append(FieldError(f"{prefix}.id", N_("This action item is not on these minutes.")))
                continue
            kept.add(item_id)
        text, owner, due_text = _text(row.get("text")), _text(row.get("owner")), _text(row.get("due_date"))
        if not (text or owner or due_text) and item_id is None:
            continue  # an empty row of the form
        if not text:
            errors.append(FieldError(f"{prefix}.text", N_("This field is required.")))
        elif len(text) > ACTION_MAX:
            errors.append(FieldError(f"{prefix}.text", N_("At most %(limit)d characters."), {"limit": ACTION_MAX}))
        if not owner:
            errors.append(FieldError(f"{prefix}.owner", N_("This field is required.")))
        elif settings.person(owner) is None:
            errors.append(FieldError(f"{prefix}.owner", N_("%(value)s is not in the people directory."),
                                     {"value": owner}))
        due_date = None
        if due_text:
            due_date = parse_date(row.get("due_date"))
            unchanged = item_id is not None and current[item_id].due_date == due_date
            if due_date is None:
                errors.append(FieldError(f"{prefix}.due_date", N_("%(value)s is not a date; write it as "
                                                                  "YYYY-MM-DD."), {"value": due_text}))
            elif due_date < today and not unchanged:
                errors.append(FieldError(f"{prefix}.due_date", N_("%(value)s is in the past."),
                                         {"value": due_date.isoformat()}))
        items.append(ActionItemInput(text=text, owner=owner, due_date=due_date, id=item_id))
    if len(items) > ACTION_ITEMS_MAX:
        errors.append(FieldError("action_items", N_("At most %(limit)d action items."), {"limit": ACTION_ITEMS_MAX}))
    for item_id, item in current.items():
        if item_id not in kept and item.issue_key:
            errors.append(FieldError("action_items", N_("Action item %(ref)s already has issue %(key)s and "
                                                        "cannot be removed."),
                                     {"ref": item.ref, "key": item.issue_key}))
    return items


# Saving, with versions ----------------------------------------------------------------------------


def snapshot(data: MinutesInput) -> dict[str, Any]:
    """Minutes content as one JSON document, as kept in :class:`MinutesVersion` and compared between saves."""
    return {
        "customer": data.customer,
        "topic": data.topic,
        "date": data.meeting_date.isoformat(),
        "time": data.meeting_time.strftime("%H:%M") if data.meeting_time else None,
        "place": data.place,
        "attendees": list(data.attendees),
        "key_points": data.key_points,
        "decisions": data.decisions,
        "open_questions": data.open_questions,
        "action_items": [{"text": item.text, "owner": item.owner,
                          "due_date": item.due_date.isoformat() if item.due_date else None}
                         for item in data.action_items],
        "needs": sorted(data.needs),
        "visibility": data.visibility,
        "external_url": data.external_url,
    }


def as_input(minutes: MeetingMinutes) -> MinutesInput:
    """Stored minutes (items and need links loaded) as the input that would save them unchanged."""
    return MinutesInput(
        customer=minutes.customer, topic=minutes.topic, meeting_date=minutes.meeting_date,
        meeting_time=minutes.meeting_time, place=minutes.place, attendees=tuple(minutes.attendees or ()),
        key_points=minutes.key_points, decisions=minutes.decisions, open_questions=minutes.open_questions,
        visibility=minutes.visibility, external_url=minutes.external_url,
        needs=tuple(link.need.ref for link in minutes.need_links),
        action_items=tuple(ActionItemInput(item.text, item.owner, item.due_date, item.id)
                           for item in minutes.action_items),
    )


def _apply(session: Session, minutes: MeetingMinutes, data: MinutesInput) -> None:
    """Write ``data`` onto ``minutes``: fields, action items (matched by id) and need links."""
    minutes.customer, minutes.topic = data.customer, data.topic
    minutes.meeting_date, minutes.meeting_time = data.meeting_date, data.meeting_time
    minutes.place, minutes.attendees = data.place, list(data.attendees)
    minutes.key_points, minutes.decisions, minutes.open_questions = data.key_points, data.decisions, data.open_questions
    minutes.visibility, minutes.external_url = data.visibility, data.external_url
    current = {item.id: item for item in minutes.action_items}
    items = []
    for position, given in enumerate(data.action_items):
        item = current.get(given.id) if given.id is not None else None
        if item is None:
            item = ActionItem()
        item.position, item.text, item.owner, item.due_date = position, given.text, given.owner, given.due_date
        items.append(item)
    minutes.action_items = items
    needs = {need.ref: need for need in session.scalars(select(Need).where(Need.ref.in_(data.needs)))}
    links = {link.need_id: link for link in minutes.need_links}
    minutes.need_links = [links.get(needs[ref].id) or NeedMinutes(need=needs[ref]) for ref in data.needs]


def _record_need_syncs(runtime, session: Session, refs: set[str]) -> list:
    """The issues of these needs list their minutes: record the jobs that bring them up to date in
    ``session``'s transaction; ``runtime.queue.send`` them after the commit."""
    if runtime.settings.tracker is None:
        return []
    return [runtime.queue.record(session, "sync_need", ref, ref=ref) for ref in sorted(refs)]


def create_minutes(runtime, data: MinutesInput, created_by: str | None = None) -> MeetingMinutes:
    """Store new minutes (version 1) with their action items and need links in one transaction, then
    queue a sync of every linked need so that its issue links to the page."""
    with runtime.Session.begin() as session:
        minutes = MeetingMinutes(version=1, created_by=created_by, updated_by=created_by)
        session.add(minutes)
        _apply(session, minutes, data)
        minutes.versions.append(MinutesVersion(version=1, content=snapshot(data), edited_by=created_by))
        jobs = _record_need_syncs(runtime, session, set(data.needs))
    runtime.queue.send(*jobs)
    return minutes


def update_minutes(runtime, minutes_id: int, data: MinutesInput, edited_by: str | None,
                   expected_version: int) -> MeetingMinutes:
    """Save an edit as a new version, keeping every earlier one. Raises :class:`MinutesConflict` (writing
    nothing) when someone saved since ``expected_version``; an edit that changes nothing makes no version."""
    with runtime.Session.begin() as session:
        minutes = load_minutes(session, minutes_id)
        if minutes is None:
            raise KeyError(minutes_id)
        if minutes.version != expected_version:
            raise MinutesConflict(minutes_id, expected_version, minutes.version)
        before, after = snapshot(as_input(minutes)), snapshot(data)
        if after == before:
            return minutes
        # Compare-and-set on the version: two editors can never both write version n + 1.
        moved = session.execute(
            update(MeetingMinutes).where(MeetingMinutes.id == minutes_id, MeetingMinutes.version == expected_version)
            .values(version=expected_version + 1).execution_options(synchronize_session=False)).rowcount
        if not moved:
            raise MinutesConflict(minutes_id, expected_version, expected_version + 1)
        _apply(session, minutes, data)
        minutes.version = expected_version + 1
        minutes.updated_by, minutes.updated_at = edited_by, utcnow()
        minutes.versions.append(MinutesVersion(version=minutes.version, content=after, edited_by=edited_by))
        changed = set(before["needs"]) ^ set(after["needs"])
        if (before["topic"], before["date"]) != (after["topic"], after["date"]):
            changed |= set(after["needs"])  # the links' titles carry topic and date
        jobs = _record_need_syncs(runtime, session, changed)
    runtime.queue.send(*jobs)
    return minutes


def load_minutes(session: Session, minutes_id: int) -> MeetingMinutes | None:
    """The minutes with items, versions and linked needs loaded (usable after the session closes)."""
    return session.scalars(
        select(MeetingMinutes).where(MeetingMinutes.id == minutes_id).options(
            selectinload(MeetingMinutes.action_items), selectinload(MeetingMinutes.versions),
            selectinload(MeetingMinutes.need_links).selectinload(NeedMinutes.need))
    ).one_or_none()


def minutes_for_need(session: Session, need_id: int) -> list[MeetingMinutes]:
    """The minutes a need was discussed in, newest meeting first (for the need's page)."""
    return list(session.scalars(
        select(MeetingMinutes).join(NeedMinutes).where(NeedMinutes.need_id == need_id)
        .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc())))


@dataclass(frozen=True)
class Change:
    """One field that differs between a version and the one before it."""

    field: str
    before: str
    after: str


@dataclass(frozen=True)
class VersionEntry:
    version: int
    edited_by: str | None
    edited_at: dt.datetime
    changes: tuple[Change, ...]
    content: dict[str, Any]


def _as_text(key: str, value: Any) -> str:
    if key == "action_items":
        return "\n".join(" · ".join(part for part in (item["text"], item["owner"], item.get("due_date") or "") if part)
                         for item in value or [])
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


def history(minutes: MeetingMinutes) -> list[VersionEntry]:
    """Every version, newest first, each with what it changed; the earlier text stays readable."""
    entries = []
    previous: dict[str, Any] | None = None
    for version in minutes.versions:
        changes = ()
        if previous is not None:
            changes = tuple(Change(key, _as_text(key, previous.get(key)), _as_text(key, version.content.get(key)))
                            for key in FIELDS if previous.get(key) != version.content.get(key))
        entries.append(VersionEntry(version.version, version.edited_by, version.edited_at, changes, version.content))
        previous = version.content
    return entries[::-1]


# What the customer sees ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SharedActionItem:
    text: str
    owner: str
    due_date: dt.date | None


@dataclass(frozen=True)
class SharedNeed:
    ref: str
    title: str
    status: str


@dataclass(frozen=True)
class SharedMinutes:
    """Minutes as the customer's status page shows them: content only, read-only. No tracker keys, no
    author, no earlier versions: what is internal is left out here, not hidden by a template."""

    id: int
    topic: str
    meeting_date: dt.date
    meeting_time: dt.time | None
    place: str
    attendees: tuple[str, ...]
    key_points: str
    decisions: str
    open_questions: str
    external_url: str | None
    action_items: tuple[SharedActionItem, ...]
    needs: tuple[SharedNeed, ...]
    updated_at: dt.datetime


def shared_minutes_for_customer(session: Session, customer_key: str) -> list[SharedMinutes]:
    """The minutes marked shared with customer ``customer_key``, newest meeting first; internal minutes
    never appear. For the customer status page (``/s/<token>``)."""
    rows = session.scalars(
        select(MeetingMinutes)
        .where(MeetingMinutes.customer == customer_key, MeetingMinutes.visibility == "shared")
        .options(selectinload(MeetingMinutes.action_items),
                 selectinload(MeetingMinutes.need_links).selectinload(NeedMinutes.need))
        .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc()))
    return [SharedMinutes(
        id=row.id, topic=row.topic, meeting_date=row.meeting_date, meeting_time=row.meeting_time, place=row.place,
        attendees=tuple(row.attendees or ()), key_points=row.key_points, decisions=row.decisions,
        open_questions=row.open_questions, external_url=row.external_url,
        action_items=tuple(SharedActionItem(item.text, item.owner, item.due_date) for item in row.action_items),
        needs=tuple(SharedNeed(link.need.ref, link.need.title, link.need.status) for link in row.need_links
                    if link.need.customer == customer_key),
        updated_at=row.updated_at,
    ) for row in rows]


# Markdown and YAML -------------------------------------------------------------------------------

_HEADER_FIELDS = ("customer", "date", "time", "place", "attendees", "visibility", "external_url")
_SECTIONS = ("key_points", "decisions", "action_items", "open_questions", "needs")
_COLUMNS = ("text", "owner", "due_date")


@functools.cache
def _labels(locale: str) -> dict[str, str]:
    """Headings and field names of the Markdown files and of action-item issues in ``locale``; an import
    understands any language's."""
    words = catalog(locale)
    return {
        "customer": words.gettext("Customer"),
        "date": words.gettext("Date"),
        "time": words.gettext("Time"),
        "place": words.gettext("Place"),
        "attendees": words.gettext("Attendees"),
        "visibility": words.gettext("Visibility"),
        "external_url": words.gettext("External page"),
        "key_points": words.gettext("Key points"),
        "decisions": words.gettext("Decisions"),
        "action_items": words.gettext("Action items"),
        "open_questions": words.gettext("Open questions"),
        "needs": words.pgettext("minutes", "Needs"),
        "text": words.gettext("Action"),
        "owner": words.pgettext("minutes", "Owner"),
        "due_date": words.gettext("Due date"),
        "action_item": words.gettext("Meeting action item"),
        "internal": words.gettext("Internal"),
        "shared": words.gettext("Shared with the customer"),
    }


def label(key: str, locale: str) -> str:
    return _labels(locale)[key]


def _names(keys) -> dict[str, str]:
    """Any language's name (and the key itself, with spaces or underscores) -> the key."""
    names = {}
    for key in keys:
        for text in (*(label(key, locale) for locale in LOCALES), key, key.replace("_", " ")):
            names[text.casefold()] = key
    return names


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _section_text(text: str) -> str:
    # A line starting with # would read as a heading on import: escape it as Markdown does.
    return "\n".join("\\" + line if line.startswith("#") else line for line in text.replace("\r\n", "\n").split("\n"))


def minutes_markdown(minutes: MeetingMinutes, settings: Settings, locale: str) -> str:
    """The minutes as a Markdown file in ``locale``'s words; :func:`parse_markdown` reads it back."""
    customer = settings.customer(minutes.customer)
    lines = [f"# {minutes.topic}", ""]
    values = {
        "customer": minutes.customer + (f" ({customer.name})" if customer and customer.name != minutes.customer
                                        else ""),
        "date": minutes.meeting_date.isoformat(),
        "time": minutes.meeting_time.strftime("%H:%M") if minutes.meeting_time else "",
        "place": minutes.place,
        "attendees": ", ".join(minutes.attendees or []),
        "visibility": label(minutes.visibility, locale),
        "external_url": minutes.external_url or "",
    }
    for key in _HEADER_FIELDS:
        if values[key]:
            lines.append(f"- {label(key, locale)}: {values[key].replace(chr(10), ' ')}")
    for key in ("key_points", "decisions"):
        if getattr(minutes, key):
            lines += ["", f"## {label(key, locale)}", "", _section_text(getattr(minutes, key))]
    if minutes.action_items:
        lines += ["", f"## {label('action_items', locale)}", "",
                  "| " + " | ".join(label(column, locale) for column in _COLUMNS) + " |",
                  "|" + "---|" * len(_COLUMNS)]
        for item in minutes.action_items:
            due = item.due_date.isoformat() if item.due_date else ""
            lines.append(f"| {_cell(item.text)} | {_cell(item.owner)} | {due} |")
    if minutes.open_questions:
        lines += ["", f"## {label('open_questions', locale)}", "", _section_text(minutes.open_questions)]
    if minutes.need_links:
        lines += ["", f"## {label('needs', locale)}", ""]
        for link in minutes.need_links:
            lines.append(f"- {link.need.ref} {link.need.title.replace(chr(10), ' ')}")
    return "\n".join(lines).rstrip() + "\n"


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body.removeprefix("|")
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells, current, escaped = [], [], False
    for char in body:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(char)
    cells.append("".join(current))
    return [cell.strip().replace("<br>", "\n") for cell in cells]


def parse_markdown(text: str) -> dict[str, Any]:
    """Read minutes written as Markdown (the format :func:`minutes_markdown` writes) into the dict
    :func:`validate_minutes` takes. Raises :class:`InvalidMinutes` naming an unknown field, section or
    column, or the line that does not fit."""
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    fields, sections, columns = _names(_HEADER_FIELDS), _names(_SECTIONS), _names(_COLUMNS)
    section: str | None = None
    body: dict[str, list[str]] = {}
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip()
        if line.startswith("# ") and section is None and "topic" not in data:
            data["topic"] = line[2:].strip()
        elif line.startswith("## "):
            name = line[3:].strip()
            section = sections.get(name.casefold())
            if section is None:
                errors.append(FieldError(name, N_("Unknown section (line %(line)d)."), {"line": number}))
                section = "unknown"
            body.setdefault(section, [])
        elif section is None:
            if not line.strip():
                continue
            match = re.match(r"^\s*[-*]\s*([^:：]+?)\s*[:：]\s*(.*)$", line)
            key = fields.get(match.group(1).casefold()) if match else None
            if match is None:
                errors.append(FieldError("file", N_("Line %(line)d: write header fields as '- Field: value'."),
                                         {"line": number}))
            elif key is None:
                errors.append(FieldError(match.group(1), N_("Unknown field (line %(line)d)."), {"line": number}))
            else:
                data[key] = match.group(2).strip()
        else:
            body[section].append(line)
    if "customer" in data:
        data["customer"] = re.sub(r"\s*\(.*\)$", "", data["customer"])  # "acme (ACME Corp)" as exported
    for key in ("key_points", "decisions", "open_questions"):
        if key in body:
            data[key] = "\n".join(line[1:] if line.startswith("\\#") else line for line in body[key]).strip()
    if "action_items" in body:
        data["action_items"] = _parse_table(body["action_items"], columns, errors)
    if "needs" in body:
        refs = []
        for line in body["needs"]:
            if not line.strip():
                continue
            match = re.match(r"^\s*[-*]\s*(N-\d+)\b", line, re.IGNORECASE)
            if match is None:
                errors.append(FieldError("needs", N_("Write each need as '- N-0042 title'.")))
            else:
                refs.append(match.group(1))
        data["needs"] = refs
    if "visibility" in data:
        data["visibility"] = _names(VISIBILITIES).get(data["visibility"].casefold(), data["visibility"])
    if errors:
        raise InvalidMinutes(errors)
    return data


def _parse_table(lines: list[str], columns: dict[str, str], errors: list[FieldError]) -> list[dict[str, str]]:
    rows = [line for line in lines if line.strip()]
    if not rows:
        return []
    if not all(line.lstrip().startswith("|") for line in rows):
        errors.append(FieldError("action_items", N_("Write the action items as a table with the columns "
                                                    "Action, Owner and Due date.")))
        return []
    header = _split_row(rows[0])
    keys = []
    for name in header:
        key = columns.get(name.casefold())
        if key is None:
            errors.append(FieldError(name, N_("Unknown column of the action items.")))
        keys.append(key)
    items = []
    for line in rows[1:]:
        cells = _split_row(line)
        if all(re.fullmatch(r":?-{3,}:?", cell) for cell in cells):
            continue
        items.append({key: cell for key, cell in zip(keys, cells, strict=False) if key})
    return items


def parse_yaml(text: str) -> dict[str, Any]:
    """Read minutes written as YAML (keys as in :data:`FIELDS`) into the dict :func:`validate_minutes` takes."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidMinutes([FieldError("file", N_("Not valid YAML (line %(line)d): %(problem)s"),
                                         {"line": mark.line + 1 if mark else 1,
                                          "problem": getattr(exc, "problem", None) or str(exc)})]) from exc
    if not isinstance(data, dict):
        raise InvalidMinutes([FieldError("file", N_("The YAML file must hold one mapping of fields."))])
    return {str(key): value for key, value in data.items()}


def parse_minutes_file(filename: str, content: bytes) -> dict[str, Any]:
    """An uploaded ``.md`` or ``.yaml``/``.yml`` file -> the dict :func:`validate_minutes` takes."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix not in ("md", "markdown", "yaml", "yml"):
        raise InvalidMinutes([FieldError("file", N_("Upload a .md, .yaml or .yml file."))])
    if len(content) > IMPORT_MAX_BYTES:
        raise InvalidMinutes([FieldError("file", N_("The file is larger than %(size)s."), {"size": "1 MB"})])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidMinutes([FieldError("file", N_("The file is not UTF-8 text."))]) from exc
    return parse_markdown(text) if suffix in ("md", "markdown") else parse_yaml(text)


# Links from trackers ------------------------------------------------------------------------------


# Action items -> issues ---------------------------------------------------------------------------


def action_item_project(settings: Settings, minutes: MeetingMinutes) -> str:
    """Where an action item's issue goes: the project of the first linked need's category, else of the
    first configured category."""
    needs = [link.need for link in minutes.need_links]
    category = needs[0].category if needs else settings.categories[0].key
    return mapping.project_for(settings, category)


def action_item_spec(settings: Settings, item: ActionItem, minutes: MeetingMinutes, project: str) -> mapping.Mapped:
    """The issue an action item should have. GitHub has no due-date field: the due date is a line of the
    body, and the issue joins a milestone due that day when the repository has one (set by the job);
    Jira gets it in ``duedate`` as well."""
    locale = settings.locale
    assignment = mapping.assignee_for(settings, item.owner)
    customer = settings.customer(minutes.customer)
    customer_name = customer.name if customer else minutes.customer
    link = minutes_link(settings, minutes)
    owner = item.owner + (f" ({assignment.note.split(': ', 1)[1]})" if assignment.note else "")
    rows: list[tuple[str, tuple[mapping.Inline, ...]]] = [
        (mapping.label("minutes", locale), (link.link,)),
        (mapping.label("customer", locale), (customer_name,)),
        (label("date", locale), (minutes.meeting_date.isoformat(),)),
        (label("owner", locale), (owner,)),
    ]
    if item.due_date:
        rows.append((label("due_date", locale), (item.due_date.isoformat(),)))
    needs = [link.need for link in minutes.need_links]
    if needs:
        inlines: list[mapping.Inline] = []
        for index, need in enumerate(needs):
            inlines += ([", "] if index else []) + [mapping.Link(need.ref, mapping.need_url(settings, need.ref))]
        rows.append((label("needs", locale), tuple(inlines)))
    blocks = [mapping.Block("paragraph", inlines=(item.text,)),
              mapping.Block("heading", text=label("action_item", locale) + " · Cocreate"),
              mapping.Block("fields", rows=tuple(rows))]
    body: Any = mapping.render(blocks, mapping.destination(settings))
    if settings.tracker.kind == "github":
        body = f"{mapping.GITHUB_SECTION_START}\n{body}\n{mapping.GITHUB_SECTION_END}"
    first_line = item.text.strip().splitlines()[0] if item.text.strip() else item.ref
    spec = IssueSpec(
        project=project,
        title=f"[{customer_name}] {first_line}"[:250],
        body=body,
        marker=mapping.marker_label(item.ref),
        labels=frozenset({"cocreate", "cocreate-action-item", mapping.marker_label(item.ref)}),
        assignee=assignment.assignee,
        due_date=item.due_date,
        issue_type=settings.tracker.jira.issue_type if settings.tracker.kind == "jira" else "Task",
    )
    return mapping.Mapped(spec=spec, assignment=assignment)


def request_issues(runtime, minutes_id: int, item_ids: list[int] | None = None) -> list[int]:
    """Queue issue creation for the action items ``item_ids`` of the minutes (all without an issue when
    None); returns the ids queued. Items that already have an issue are skipped; asking again for an item
    whose request is still pending is harmless (the job is idempotent) and recovers one whose worker died."""
    if runtime.settings.tracker is None:
        raise RuntimeError("no tracker is connected")
    with runtime.Session.begin() as session:
        query = select(ActionItem).where(ActionItem.minutes_id == minutes_id, ActionItem.issue_key.is_(None))
        if item_ids is not None:
            query = query.where(ActionItem.id.in_(item_ids))
        items = list(session.scalars(query.order_by(ActionItem.position)))
        for item in items:
            item.sync_state, item.sync_error = "pending", None
        queued = [item.id for item in items]
        jobs = [runtime.queue.record(session, "create_action_item_issue", item_id, ref=f"A-{item_id}")
                for item_id in queued]
    runtime.queue.send(*jobs)
    return queued


def create_action_item_issue(runtime, item_id: int) -> None:
    """Create the tracker issue of action item ``item_id`` (once, whatever crashes or repeats happen) and
    link it back to its minutes."""

    with leased(runtime, ActionItem, ActionItem.id == item_id) as owner:
        if owner is None:
            with runtime.Session() as session:
                if session.get(ActionItem, item_id) is None:
                    log.warning("create_action_item_issue: no action item %s", item_id)
                    return
            raise RetryLater(f"A-{item_id} is being handled by another worker")
        try:
            _create_issue(runtime, item_id)
        except TrackerError as exc:
            with runtime.Session.begin() as session:
                item = session.get(ActionItem, item_id)
                item.sync_state = "retrying" if exc.retryable else "failed"
                item.sync_error = str(exc)
            raise


def _create_issue(runtime, item_id: int) -> None:
    settings = runtime.settings
    with runtime.Session() as session:
        item = session.get(ActionItem, item_id)
        if settings.tracker is None:
            item.sync_state, item.sync_error = "failed", "no tracker is connected"
            session.commit()
            return
        adapter = runtime.adapter()
        minutes = load_minutes(session, item.minutes_id)
        if item.issue_key is None:
            project = item.issue_project or action_item_project(settings, minutes)

            def prepare(spec: IssueSpec) -> IssueSpec:
                if item.due_date is not None:  # GitHub: a milestone due that day, when one exists
                    spec = dataclasses.replace(spec, milestone=adapter.milestone_due(project, item.due_date))
                item.issue_project = project  # committed with the intent
                return spec

            state, created = create_issue_once(session, adapter, item,
                                               action_item_spec(settings, item, minutes, project).spec, prepare)
            if not created:
                log.info("action item %s: found issue %s by its marker; not creating another", item.ref, state.key)
        if adapter.kind == "jira":
            link = minutes_link(settings, minutes)
            adapter.set_link(item.issue_key, link.global_id, link.link.url, link.title)
        item.sync_state, item.sync_error, item.synced_at = "synced", None, utcnow()
        session.commit()

