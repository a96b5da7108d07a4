"""Customer records in the store: the book every process reads (reloaded when the ``customers`` counter moves),
the checks and writes of the admin page, CLI and API, the YAML file applied at start, merges, and the
status-page links (unguessable, signed with the secret key; revocable, a new nonce).

The YAML ``customers:`` list is configuration-as-code: at every start each customer it names gets the fields the
file sets (``Customer.config_fields``), and those fields cannot be changed elsewhere; every other field, and
every customer the file does not name, is managed in the store."""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.customer import CustomerBook, CustomerRecord, book_of
from plugin.need import N_, FieldError, InvalidInput
from plugin.settings import CUSTOMER_KEY, LOCALES, Channel, Contact
from plugin.settings import Customer as ConfiguredCustomer
from sync.ledger import counted
from sync.ledger.counted import CountedCache
from sync.ledger.demand import queue_customer_issues
from sync.ledger.edits import change_fields
from sync.ledger.report_months import forget_kept_reports
from sync.ledger.store import Customer, MeetingMinutes, Need, utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime

COUNTER = "customers"
"""The :class:`~sync.ledger.store.Counter` every customer change bumps."""

FIELDS = ("name", "aliases", "locale", "contacts", "channels", "tier", "annual_revenue")
"""The fields of a customer that can be set (the key is given once, at creation)."""


class InvalidCustomer(InvalidInput):
    """A customer's submitted fields have problems; ``errors`` names each field with a message."""


class UnknownCustomer(LookupError):
    """No customer has the key asked for."""

    def __init__(self, key: str):
        super().__init__(f"no customer {key}")
        self.key = key


# Reading -------------------------------------------------------------------------------------------


def record_of(row: Customer) -> CustomerRecord:
    return CustomerRecord(
        key=row.key, name=row.name, locale=row.locale, aliases=tuple(row.aliases or ()),
        contacts=tuple(Contact.model_validate(item) for item in row.contacts or ()),
        channels=tuple(Channel.model_validate(item) for item in row.channels or ()),
        tier=row.tier, annual_revenue=row.annual_revenue, config_fields=frozenset(row.config_fields or ()),
        merged_into=row.merged_into,
    )


class CustomerCache(CountedCache):
    """This process's copy of the customers (:class:`~sync.ledger.counted.CountedCache`)."""

    counter, model = COUNTER, Customer

    def apply_config(self) -> None:
        apply_config(self._runtime)

    def book_of(self, rows, version):
        return book_of((record_of(row) for row in rows), version)


def bump(session: Session) -> None:
    """Count a change of the customers, in the transaction that makes it."""
    counted.bump(session, COUNTER)


def need_counts(session: Session) -> dict[str, int]:
    """How many needs name each customer text (keys, and texts that match no record)."""
    rows = session.execute(select(Need.customer, func.count(Need.id)).group_by(Need.customer))
    return {customer: count for customer, count in rows}


def unlinked_customers(counts: dict[str, int], book: CustomerBook) -> list[tuple[str, int, str | None]]:
    """Of the needs' customer texts (``counts``, from :func:`need_counts`), those that are no customer's key, with
    their count and the key they would resolve to (by name or alias), for the admin page's "link to customer"."""
    return [(text, count, book.resolve(text)) for text, count in sorted(counts.items())
            if book.get(text) is None]


# The file ------------------------------------------------------------------------------------------


def _configured_values(customer: ConfiguredCustomer) -> dict[str, Any]:
    """The fields the file sets for ``customer``, as the store keeps them."""
    named = customer.model_fields_set | {"name"}
    return {name: _as_stored(name, getattr(customer, name)) for name in FIELDS if name in named}


def apply_config(runtime: Runtime) -> None:
    """Write the fields the file sets over each customer it names (:func:`sync.ledger.counted.apply_config`)."""
    configured = {customer.key: customer for customer in runtime.settings.customers}

    def new_row(key: str) -> Customer:
        customer = configured[key]
        return Customer(key=key, name=customer.name, locale=customer.locale, aliases=[], contacts=[], channels=[],
                        config_fields=[])

    counted.apply_config(runtime, CustomerCache, "key",
                         {key: _configured_values(customer) for key, customer in configured.items()}, new_row)


# Checks and writes ---------------------------------------------------------------------------------


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").replace("\n", ",").split(",")
    if not isinstance(value, list | tuple):
        raise TypeError
    return list(dict.fromkeys(str(item).strip() for item in value if str(item).strip()))


def checked_fields(data: Mapping[str, Any], book: CustomerBook, *, key: str | None = None,
                   current: CustomerRecord | None = None) -> dict[str, Any]:
    """The store's values for the fields in ``data`` (all of :data:`FIELDS` at creation, those sent for an
    edit of ``current``), each checked; raises :class:`InvalidCustomer` listing every problem.

    A channel may carry ``index``, the position of one of ``current``'s channels: its ``url`` and ``secret`` are
    kept when not sent, so that a page showing them masked never has to send them back."""
    errors: list[FieldError] = []
    creating = current is None
    key = key if creating else current.key
    allowed = set(FIELDS) | ({"key"} if creating else set())
    for name in sorted(set(data) - allowed):
        errors.append(FieldError(name, N_("Unknown field.")))
    if creating:
        if not isinstance(key, str) or not key.strip():
            errors.append(FieldError("key", N_("This field is required.")))
        elif len(key) > 64 or not re.fullmatch(CUSTOMER_KEY, key):
            errors.append(FieldError("key", N_("A key is lower-case letters, digits, '-' and '_', at most 64.")))
        elif book.get(key) is not None:
            errors.append(FieldError("key", N_("There is already a customer %(key)s."), {"key": key}))
    values: dict[str, Any] = {}
    if "name" in data or creating:
        name = data.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            errors.append(FieldError("name", N_("This field is required.")))
        elif len(name) > 200:
            errors.append(FieldError("name", N_("At most %(limit)d characters."), {"limit": 200}))
        values["name"] = name
    if "aliases" in data or creating:
        try:
            aliases = _names(data.get("aliases"))
        except TypeError:
            errors.append(FieldError("aliases", N_("A list of names.")))
            aliases = []
        if any(len(alias) > 200 for alias in aliases):
            errors.append(FieldError("aliases", N_("At most %(limit)d characters."), {"limit": 200}))
        values["aliases"] = aliases
    if "locale" in data or creating:
        locale = (data.get("locale") or "zh_Hans")
        wanted = str(locale).replace("-", "_").lower()
        found = next((item for item in LOCALES if item.lower() == wanted), None)
        if found is None:
            errors.append(FieldError("locale", N_("Unknown language %(value)s."), {"value": locale}))
        values["locale"] = found or "zh_Hans"
    if "tier" in data or creating:
        tier = data.get("tier")
        tier = str(tier).strip() if tier not in (None, "") else None
        if tier and len(tier) > 32:
            errors.append(FieldError("tier", N_("At most %(limit)d characters."), {"limit": 32}))
        values["tier"] = tier
    if "annual_revenue" in data or creating:
        revenue = data.get("annual_revenue")
        if revenue in (None, ""):
            values["annual_revenue"] = None
        else:
            try:
                number = int(str(revenue).replace(",", "").strip()) if not isinstance(revenue, bool) else -1
            except ValueError:
                number = -1
            if number < 0 or number >= 2**62:
                errors.append(FieldError("annual_revenue", N_("A whole number, 0 or more.")))
            values["annual_revenue"] = max(number, 0)
    if "contacts" in data or creating:
        values["contacts"] = _checked_items(data.get("contacts") or [], Contact, "contacts", errors)
    if "channels" in data or creating:
        channels = []
        for item in data.get("channels") or []:
            if isinstance(item, Mapping) and "index" in item:
                item = dict(item)
                index = item.pop("index")
                old = current.channels[index] if (current and isinstance(index, int)
                                                  and 0 <= index < len(current.channels)) else None
                if old is None:
                    errors.append(FieldError("channels", N_("No channel %(index)s to keep."), {"index": index}))
                    continue
                for secret in ("url", "secret"):
                    if not item.get(secret) and old.kind == item.get("kind"):
                        item[secret] = getattr(old, secret)
            channels.append(item)
        values["channels"] = _checked_items(channels, Channel, "channels", errors)
    if "name" in values or "aliases" in values:
        name = values.get("name", current.name if current else "")
        aliases = values.get("aliases", list(current.aliases) if current else [])
        for spelling in [key or "", name, *aliases]:
            owner = book.owner_of(spelling) if spelling else None
            if owner is not None and owner.key != key:
                errors.append(FieldError("aliases" if spelling in aliases else "name",
                                         N_("%(name)s is already a name of customer %(other)s."),
                                         {"name": spelling, "other": owner.name}))
    for name in sorted((current.config_fields if current else frozenset()) & set(values)):
        if values[name] != stored_value(current, name):
            errors.append(FieldError(name, N_("Set in the config file, which is applied at every start: change "
                                              "it there.")))
    if errors:
        raise InvalidCustomer(errors)
    return values


def stored_value(record: CustomerRecord, name: str) -> Any:
    """A field of ``record`` as the store keeps it (lists of plain dicts for contacts and channels)."""
    return _as_stored(name, getattr(record, name))


def _as_stored(name: str, value: Any) -> Any:
    if name == "contacts":
        return [item.model_dump(exclude_none=True) for item in value]
    if name == "channels":
        return [item.model_dump(exclude_none=True, exclude_defaults=True) | {"kind": item.kind} for item in value]
    if name == "aliases":
        return list(value)
    return value


def _checked_items(items: Any, model, field: str, errors: list[FieldError]) -> list[dict]:
    if not isinstance(items, list):
        errors.append(FieldError(field, N_("A list.")))
        return []
    checked = []
    for position, item in enumerate(items, 1):
        try:
            value = model.model_validate(item)
        except ValidationError as exc:
            problem = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
            errors.append(FieldError(field, N_("Item %(number)d: %(problem)s"),
                                     {"number": position, "problem": problem}))
            continue
        checked.append(_as_stored(field, [value])[0])
    return checked


def new_key(name: str, book: CustomerBook) -> str:
    """A free key for a customer called ``name``: its Latin letters and digits (``ACME Corp.`` -> ``acme-corp``),
    else ``customer-N``; a number is added when the key is taken."""
    base = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", name).lower()).strip("-")[:48].strip("-")
    base = base or "customer"
    if base != "customer" and book.get(base) is None:
        return base
    number = 1 if base != "customer" else len(book.records) + 1
    while book.get(f"{base}-{number}") is not None:
        number += 1
    return f"{base}-{number}"


def add_customer(runtime: Runtime, data: Mapping[str, Any]) -> CustomerRecord:
    """Store a new customer from ``data`` (``key`` and :data:`FIELDS`), checked by :func:`checked_fields`."""
    values = checked_fields(data, runtime.customers(), key=data.get("key"))
    try:
        with runtime.Session.begin() as session:
            row = Customer(key=data["key"], config_fields=[], **values)
            session.add(row)
            session.flush()
            bump(session)
            record = record_of(row)
    except IntegrityError as exc:  # the same key added by someone else a moment ago
        raise InvalidCustomer([FieldError("key", N_("There is already a customer %(key)s."),
                                          {"key": data["key"]})]) from exc
    return record


def edit_customer(runtime: Runtime, key: str, data: Mapping[str, Any]) -> CustomerRecord:
    """Change the fields of customer ``key`` that ``data`` holds; fields the file sets are refused. A new tier or
    revenue queues the sync of each issue the customer asks for, which writes its new demand score."""
    book = runtime.customers()
    current = book.get(key)
    if current is None:
        raise UnknownCustomer(key)
    values = checked_fields(data, book, current=current)
    values = {name: value for name, value in values.items() if name not in current.config_fields}
    with runtime.Session.begin() as session:
        row = session.scalars(select(Customer).where(Customer.key == key)).one()
        weighed = any(getattr(row, name) != values[name] for name in ("tier", "annual_revenue") if name in values)
        if "annual_revenue" in values and row.annual_revenue != values["annual_revenue"]:
            forget_kept_reports(session)  # the VOC report weighs delivered needs by revenue
        for name, value in values.items():
            setattr(row, name, value)
        bump(session)
        jobs = queue_customer_issues(runtime, session, key) if weighed else []
        record = record_of(row)
    runtime.queue.send(*jobs)
    return record


def relink_needs(session: Session, texts: Iterable[str], key: str, *, actor: str | None) -> int:
    """Make every need whose customer is one of ``texts`` name customer ``key`` instead, each with a field
    history entry; returns how many needs moved."""
    texts = [text for text in texts if text != key]
    if not texts:
        return 0
    moved = 0
    for need in session.scalars(select(Need).where(Need.customer.in_(texts)).order_by(Need.id)):
        moved += bool(change_fields(session, need, {"customer": key}, source="admin", actor=actor))
    return moved


def link_needs(runtime: Runtime, texts: Iterable[str], key: str, *, actor: str | None) -> int:
    """The admin page's "link to customer": needs naming ``texts`` (which match no record) name ``key``."""
    record = runtime.customers().current(key)
    if record is None:
        raise UnknownCustomer(key)
    with runtime.Session.begin() as session:
        return relink_needs(session, texts, record.key, actor=actor)


def merge_customers(runtime: Runtime, source: str, target: str, *, actor: str | None) -> tuple[int, int]:
    """Merge customer ``source`` into ``target``: its needs (with their status history) and minutes move, its
    record stays with ``merged_into`` so that its status-page link opens the target's page, saying so. Returns
    (needs moved, minutes moved)."""
    runtime.customers()
    with runtime.Session.begin() as session:
        minutes = merge_rows(session, source, target)
        needs = relink_needs(session, [source], target, actor=actor)
    return needs, minutes


def mask(value: str | None) -> str:
    """A secret or a URL carrying one as a page or an answer shows it: the site and the last two characters."""
    if not value:
        return ""
    match = re.match(r"^[a-z]+://[^/?#]+", value, re.I)
    return f"{match.group(0) if match else ''}/••••{value[-2:] if len(value) > 12 else ''}"


def masked_channel(channel: Channel) -> dict[str, Any]:
    """A channel as shown to an admin: addresses in full, URL and secret masked."""
    shown = {"kind": channel.kind, "to": list(channel.to)}
    if channel.url:
        shown["url"] = mask(channel.url)
    if channel.secret:
        shown["secret"] = "••••••"
    return shown


def merge_rows(session: Session, source: str, target: str) -> int:
    """Mark customer ``source`` merged into ``target`` and move its minutes; returns the minutes moved. Its
    status-page link keeps opening (the target's page). The needs move with :func:`relink_needs`."""
    rows = {row.key: row for row in session.scalars(select(Customer).where(Customer.key.in_([source, target])))}
    if source not in rows:
        raise UnknownCustomer(source)
    if target not in rows:
        raise UnknownCustomer(target)
    if source == target or rows[target].merged_into:
        raise ValueError(f"cannot merge {source} into {target}")
    rows[source].merged_into = target
    # Customers merged into the source earlier now point at the target directly.
    session.execute(update(Customer).where(Customer.merged_into == source).values(merged_into=target))
    moved = session.execute(update(MeetingMinutes).where(MeetingMinutes.customer == source)
                            .values(customer=target)).rowcount
    bump(session)
    return moved


# Status-page links ---------------------------------------------------------------------------------


def _serializer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(runtime.secret_key, salt="cocreate-status-page")


def _customer(session, key: str) -> Customer:
    row = session.scalars(select(Customer).where(Customer.key == key)).one_or_none()
    if row is None:
        raise UnknownCustomer(key)
    return row


def issue_status_token(runtime: Runtime, key: str) -> str:
    """A new status-page token for customer ``key``; every earlier one stops working."""
    runtime.customers()  # the file's customers are stored before the first use
    with runtime.Session.begin() as session:
        row = _customer(session, key)
        row.status_token_nonce = secrets.token_urlsafe(16)
        row.status_token_created_at = utcnow()
        nonce = row.status_token_nonce
    return _serializer(runtime).dumps([key, nonce])


def revoke_status_token(runtime: Runtime, key: str) -> bool:
    runtime.customers()
    with runtime.Session.begin() as session:
        row = _customer(session, key)
        had = row.status_token_nonce is not None
        row.status_token_nonce = None
        row.status_token_created_at = None
    return had


def current_status_token(runtime: Runtime, key: str) -> str | None:
    """The customer's live token (to put in notices), or None when none was issued or it was revoked."""
    with runtime.Session() as session:
        nonce = session.scalars(select(Customer.status_token_nonce).where(Customer.key == key)).one_or_none()
    return _serializer(runtime).dumps([key, nonce]) if nonce else None


def status_link(settings, token: str) -> str:
    """The address of the status page a token opens."""
    return f"{settings.base_url.rstrip('/')}/s/{token}"


def status_page_url(runtime: Runtime, key: str) -> str | None:
    token = current_status_token(runtime, key)
    return status_link(runtime.settings, token) if token else None


def customer_for_token(runtime: Runtime, token: str) -> str | None:
    """The customer key a token was issued for, or None for a forged, malformed or revoked token. A merged
    customer's link still opens: its page is that of the customer it was merged into (``CustomerBook.current``)."""
    try:
        key, nonce = _serializer(runtime).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    with runtime.Session() as session:
        current = session.scalars(select(Customer.status_token_nonce).where(Customer.key == key)).one_or_none()
    if not current or not isinstance(nonce, str) or not hmac.compare_digest(current, nonce):
        return None
    return key
