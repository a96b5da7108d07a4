"""A customer need as CS files it: the fields, their limits and the check shared by the form, API and import."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from plugin.catalogs import catalog
from plugin.customer import CustomerBook
from plugin.settings import Settings


def N_(message: str) -> str:
    """Mark a message for translation; it is translated where it is shown (by the web layer, or by
    plugin.catalogs in the language the caller names)."""
    return message


STAGES = ("pre_project", "acceptance", "rollout")
"""The three moments of a project at which the seed collects needs."""
STAGE_NAMES = {"pre_project": N_("Pre-project"), "acceptance": N_("Acceptance"), "rollout": N_("Rollout")}
"""Each stage's name as a catalog message: the pages translate it in the request's language, issue bodies and
sheets through :func:`stage_name`."""

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
NAME_MAX = 200
NOTE_MAX = 2000
"""Longest note CS writes with a status set by hand."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def stage_name(stage: str | None, locale: str) -> str:
    """``stage``'s name in ``locale``; a stage Cocreate does not know is shown as it was stored."""
    return catalog(locale).gettext(STAGE_NAMES[stage]) if stage in STAGE_NAMES else (stage or "")


@dataclass(frozen=True)
class FieldError:
    """A problem with one field: an untranslated message and the values it names."""

    field: str
    message: str
    params: dict = field(default_factory=dict)

    def render(self, translate=lambda text: text) -> str:
        return translate(self.message) % self.params if self.params else translate(self.message)


@dataclass(frozen=True)
class NeedInput:
    """A need that passed every check, ready to be stored."""

    category: str
    title: str
    description: str
    urgency: str
    reporter_name: str
    reporter_email: str | None
    reporter_channel: str | None
    reported_at: dt.datetime
    owner: str | None
    remarks: str
    stage: str | None
    customer: str
    linked_to: str | None


class InvalidInput(ValueError):
    """Submitted or imported input has problems; ``errors`` names each field with a message."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{error.field}: {error.render()}" for error in errors))

    def by_field(self, translate=lambda text: text) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for error in self.errors:
            result.setdefault(error.field, []).append(error.render(translate))
        return result


class InvalidNeed(InvalidInput):
    """The submitted need has problems; ``errors`` names each field with a message."""


def parse_datetime(value: object) -> dt.datetime | None:
    """ISO 8601 text or a datetime -> an aware UTC datetime; naive values are taken as UTC."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 falls before year 1 in UTC
        return None


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


NEED_FIELDS = (
    "category", "title", "description", "urgency", "reporter_name", "reporter_email", "reporter_channel",
    "reported_at", "owner", "remarks", "stage", "customer", "linked_to",
)
"""The fields a need is filed with (form, JSON API, table import), as ``validate_need`` takes them."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether every store can keep ``text``: PostgreSQL refuses NUL in text, and no driver encodes an unpaired
    surrogate (which JSON's ``\\ud800`` escapes produce)."""
    return _UNSTORABLE.search(text) is None


EARLIEST_REPORTED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""No need is older: a year-1 time has no spreadsheet date (Excel's start in 1900) and no instant in every zone."""


UNKNOWN_CUSTOMER = N_("No customer is called %(value)s: pick one from the list (names and other names are "
                      "known), or ask an admin to add it.")
"""The customer of a need matches no record: refused, never kept as a second spelling."""


def validate_need(data: dict, settings: Settings, now: dt.datetime | None = None, *,
                  customers: CustomerBook | None = None) -> NeedInput:
    """Check a submitted need against the limits and the configured categories and urgencies.

    With ``customers`` (every form, the API and the import pass the store's), the customer as typed (key, name
    or other name, width and case ignored) becomes the customer's key, and a customer no record names is
    refused. Raises :class:`InvalidNeed` listing every problem at once.
    """
    now = now or dt.datetime.now(dt.UTC)
    errors: list[FieldError] = []
    allowed = set(NEED_FIELDS)
    for key in sorted(set(data) - allowed):
        errors.append(FieldError(key, N_("Unknown field.")))

    def required(key: str, limit: int) -> str:
        value = _text(data, key)
        if not value:
            errors.append(FieldError(key, N_("This field is required.")))
        elif len(value) > limit:
            errors.append(FieldError(key, N_("At most %(limit)d characters."), {"limit": limit}))
        return value

    def optional(key: str, limit: int) -> str | None:
        value = _text(data, key)
        if len(value) > limit:
            errors.append(FieldError(key, N_("At most %(limit)d characters."), {"limit": limit}))
        return value or None

    title = required("title", TITLE_MAX)
    description = optional("description", DESCRIPTION_MAX) or ""
    reporter_name = required("reporter_name", NAME_MAX)
    customer = required("customer", NAME_MAX)
    if customer and customers is not None and len(customer) <= NAME_MAX:
        resolved = customers.resolve(customer)
        if resolved is None:
            errors.append(FieldError("customer", UNKNOWN_CUSTOMER, {"value": customer}))
        customer = resolved or customer

    category = _text(data, "category")
    if not category:
        errors.append(FieldError("category", N_("This field is required.")))
    elif settings.category(category) is None:
        errors.append(FieldError("category", N_("Unknown category %(value)s."), {"value": category}))

    urgency = _text(data, "urgency")
    if not urgency:
        errors.append(FieldError("urgency", N_("This field is required.")))
    elif settings.urgency(urgency) is None:
        errors.append(FieldError("urgency", N_("Unknown urgency %(value)s."), {"value": urgency}))

    reporter_email = optional("reporter_email", 320)
    if reporter_email and not _EMAIL.match(reporter_email):
        errors.append(FieldError("reporter_email", N_("Not a valid e-mail address.")))

    raw_reported = data.get("reported_at")
    if raw_reported in (None, ""):
        reported_at = now
    else:
        reported_at = parse_datetime(raw_reported)
        if reported_at is None:
            errors.append(FieldError("reported_at", N_("Not a valid date and time, e.g. 2026-11-23 14:30.")))
        elif reported_at > now + dt.timedelta(minutes=5):
            errors.append(FieldError("reported_at", N_("The time reported cannot be in the future.")))
        elif reported_at < EARLIEST_REPORTED:
            errors.append(FieldError("reported_at", N_("The time reported must be in 1970 or later.")))

    stage = optional("stage", 32)
    if stage and stage not in STAGES:
        errors.append(FieldError("stage", N_("Unknown stage %(value)s."), {"value": stage}))
    reporter_channel = optional("reporter_channel", 64)
    owner = optional("owner", NAME_MAX)
    remarks = optional("remarks", DESCRIPTION_MAX) or ""
    linked_to = optional("linked_to", 300)

    for key in sorted(allowed & set(data)):
        value = data.get(key)
        if isinstance(value, str) and not storable(value):
            errors.append(FieldError(key, N_("Contains a NUL character or an unpaired surrogate.")))

    if errors:
        raise InvalidNeed(errors)
    return NeedInput(
        category=category,
        title=title,
        description=description,
        urgency=urgency,
        reporter_name=reporter_name,
        reporter_email=reporter_email,
        reporter_channel=reporter_channel,
        reported_at=reported_at or now,
        owner=owner,
        remarks=remarks,
        stage=stage,
        customer=customer,
        linked_to=linked_to,
    )
