"""Meeting minutes as records: checking what CS typed or imported, saving it all-or-nothing with a version
per save, the history of versions, and what a customer's status page shows of shared minutes.

The minutes are the reference both sides return to, so every save keeps the earlier text
(:class:`~sync.ledger.store.MinutesVersion`), a save is all-or-nothing, and bad input is refused with a message
naming the field. Minutes marked ``shared`` appear, read-only, on the customer's status page
(:func:`shared_minutes_for_customer`); ``internal`` ones never do.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

from plugin.need import N_, FieldError, InvalidInput
from plugin.people import PeopleBook
from plugin.settings import Settings
from sync.ledger.projects import project_id_for
from sync.ledger.store import ActionItem, MeetingMinutes, MinutesVersion, Need, NeedMinutes, utcnow
from sync.projects.meetings import carried_id, carry, check_carried

if TYPE_CHECKING:
    from sync.runtime import Runtime

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
REF_MAX = 32

FIELDS = ("customer", "topic", "date", "time", "place", "attendees", "key_points", "decisions", "open_questions",
          "action_items", "needs", "visibility", "external_url", "project")
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
    carried_from: int | None = None
    """New minutes of a project: the earlier meeting's item this one carries on (``sync.projects.meetings``)."""


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
    project_id: int | None = None


class InvalidMinutes(InvalidInput):
    """Submitted or imported minutes have problems; ``errors`` names each field (``action_items.2.owner``
    for the owner of the second action item) with a message."""


class MinutesConflict(Exception):
    """The minutes were saved by someone else after the editor opened them; nothing was written."""

    def __init__(self, minutes_id: int, expected: int, current: int):
        self.minutes_id, self.expected, self.current = minutes_id, expected, current
        super().__init__(f"minutes {minutes_id} are at version {current}, not {expected}: reload and edit again")


_SCALARS = (str, int, float, dt.date, dt.time)
"""What a field written as text may be (YAML reads ``2026-12-01`` as a date and ``14:30`` as a number)."""
_LIST_FIELDS = ("attendees", "needs")


def _text(value: Any) -> str:
    """A scalar (see :func:`_shape_errors`) as stripped text."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _shape_errors(data: dict) -> list[FieldError]:
    """Fields holding a list or mapping where text is expected (a YAML import can hold anything): checked
    before any value is turned into text."""
    errors = []

    def scalar(value: Any) -> bool:
        return value is None or isinstance(value, _SCALARS)

    for key, value in data.items():
        if key not in FIELDS:
            continue  # refused as unknown, never read
        if key == "action_items":
            rows = value if isinstance(value, (list, tuple)) else []
            for number, row in enumerate(rows, start=1):
                if isinstance(row, dict):
                    errors += [FieldError(f"action_items.{number}.{name}", N_("Write this as plain text, not a "
                                                                              "list or mapping."))
                               for name, item in row.items() if name in (*ACTION_ITEM_FIELDS, "id") and not scalar(item)]
        elif key in _LIST_FIELDS and isinstance(value, (list, tuple)):
            if not all(scalar(item) for item in value):
                errors.append(FieldError(key, N_("Write each entry of this list as plain text.")))
        elif not scalar(value):
            errors.append(FieldError(key, N_("Write this as plain text, not a list or mapping.")))
    return errors


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
    errors = _shape_errors(data)
    if errors:
        raise InvalidMinutes(errors)
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
    check_carried(session, items, customer, today, errors)
    try:
        project_id = project_id_for(session, _text(data.get("project")), customer)
    except InvalidInput as exc:
        errors.extend(exc.errors)

    if errors:
        raise InvalidMinutes(errors)
    return MinutesInput(
        customer=customer, topic=topic, meeting_date=meeting_date, meeting_time=meeting_time, place=place,
        attendees=tuple(attendees), key_points=key_points, decisions=decisions, open_questions=open_questions,
        visibility=visibility, external_url=external_url, needs=tuple(refs), action_items=tuple(items),
        project_id=project_id,
    )


def _check_needs(value: Any, customer: str, session: Session, errors: list[FieldError]) -> list[str]:
    if isinstance(value, (list, tuple)):
        wanted = [_text(item) for item in value if _text(item)]
    else:
        wanted = [item for item in _REF_SPLIT.split(_text(value)) if item]
    refs: list[str] = []
    for item in wanted:
        # Cocreate's own refs are N-0042 in any case; an imported ref (17, CS-2024-003) is kept as written.
        ref = item.upper() if _REF.match(item) else item
        if len(ref) > REF_MAX:
            errors.append(FieldError("needs", N_("%(value)s is not a need ref such as N-0042."), {"value": item}))
        elif ref not in refs:
            refs.append(ref)
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
        for key in sorted(set(row) - set(ACTION_ITEM_FIELDS) - {"id", "carried"}, key=str):
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
        elif len(owner) > NAME_MAX:
            errors.append(FieldError(f"{prefix}.owner", N_("At most %(limit)d characters."), {"limit": NAME_MAX}))
        due_date = None
        if due_text:
            due_date = parse_date(row.get("due_date"))
            carried = carried_id(row.get("carried")) if item_id is None else None  # checked by check_carried
            unchanged = carried is not None or (item_id is not None and current[item_id].due_date == due_date)
            if due_date is None:
                errors.append(FieldError(f"{prefix}.due_date", N_("%(value)s is not a date; write it as "
                                                                  "YYYY-MM-DD."), {"value": due_text}))
            elif due_date < today and not unchanged:
                errors.append(FieldError(f"{prefix}.due_date", N_("%(value)s is in the past."),
                                         {"value": due_date.isoformat()}))
        items.append(ActionItemInput(text=text, owner=owner, due_date=due_date, id=item_id,
                                     carried_from=carried_id(row.get("carried")) if item_id is None else None))
    if len(items) > ACTION_ITEMS_MAX:
        errors.append(FieldError("action_items", N_("At most %(limit)d action items."), {"limit": ACTION_ITEMS_MAX}))
    for item_id, item in current.items():
        if item_id not in kept and item.issue_key:
            errors.append(FieldError("action_items", N_("Action item %(ref)s already has issue %(key)s and "
                                                        "cannot be removed."),
                                     {"ref": item.ref, "key": item.issue_key}))
    return items


def unassigned_owners(data: MinutesInput, people: PeopleBook) -> list[str]:
    """The action-item owners the people directory does not know: accepted, but their issues are created
    unassigned (the minutes page says so)."""
    return sorted({item.owner for item in data.action_items if people.person(item.owner) is None})


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
        **({"project_id": data.project_id} if data.project_id is not None else {}),
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
        project_id=minutes.project_id,
    )


def _apply(session: Session, minutes: MeetingMinutes, data: MinutesInput) -> None:
    """Write ``data`` onto ``minutes``: fields, action items (matched by id) and need links."""
    minutes.customer, minutes.topic = data.customer, data.topic
    minutes.meeting_date, minutes.meeting_time = data.meeting_date, data.meeting_time
    minutes.place, minutes.attendees = data.place, list(data.attendees)
    minutes.key_points, minutes.decisions, minutes.open_questions = data.key_points, data.decisions, data.open_questions
    minutes.visibility, minutes.external_url, minutes.project_id = data.visibility, data.external_url, data.project_id
    current = {item.id: item for item in minutes.action_items}
    items = []
    for position, given in enumerate(data.action_items):
        item = current.get(given.id) if given.id is not None else None
        if item is None:
            item = ActionItem()
            carry(session, item, given.carried_from)
        item.position, item.text, item.owner, item.due_date = position, given.text, given.owner, given.due_date
        items.append(item)
    minutes.action_items = items
    needs = {need.ref: need for need in session.scalars(select(Need).where(Need.ref.in_(data.needs)))}
    links = {link.need_id: link for link in minutes.need_links}
    minutes.need_links = [links.get(needs[ref].id) or NeedMinutes(need=needs[ref]) for ref in data.needs]


def _record_need_syncs(runtime: Runtime, session: Session, refs: set[str]) -> list:
    """The issues of these needs list their minutes: record the jobs that bring them up to date in
    ``session``'s transaction; ``runtime.queue.send`` them after the commit."""
    if runtime.settings.tracker is None:
        return []
    return [runtime.queue.record(session, "sync_need", ref, ref=ref) for ref in sorted(refs)]


def create_minutes(runtime: Runtime, data: MinutesInput, created_by: str | None = None) -> MeetingMinutes:
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


def update_minutes(runtime: Runtime, minutes_id: int, data: MinutesInput, edited_by: str | None,
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


