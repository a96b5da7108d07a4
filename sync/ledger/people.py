"""People records in the store: the book every process reads (reloaded when the ``people`` counter moves), the
checks and writes of /admin/people, and the YAML file applied at start.

The YAML ``people:`` list is configuration-as-code: at every start each person it names gets the fields the file
sets (``Person.config_fields``), and those fields cannot be changed elsewhere; every other field, and every
person the file does not name, is managed on /admin/people."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plugin.need import N_, FieldError, InvalidInput
from plugin.people import PERSON_FIELDS, PeopleBook, PersonRecord, people_of
from sync.ledger import counted
from sync.ledger.counted import CountedCache
from sync.ledger.store import Person

if TYPE_CHECKING:
    from sync.runtime import Runtime

COUNTER = "people"
"""The :class:`~sync.ledger.store.Counter` every change of a person bumps."""

LIMITS = {"name": 200, "email": 320, "jira_account_id": 128, "github_login": 64}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*")


class InvalidPerson(InvalidInput):
    """A person's submitted fields have problems; ``errors`` names each field with a message."""


class UnknownPerson(LookupError):
    """No person has the id asked for."""


def record_of(row: Person) -> PersonRecord:
    return PersonRecord(name=row.name, email=row.email, jira_account_id=row.jira_account_id,
                        github_login=row.github_login, id=row.id, config_fields=frozenset(row.config_fields or ()))


class PeopleCache(CountedCache):
    """This process's copy of the people directory (:class:`~sync.ledger.counted.CountedCache`)."""

    counter, model = COUNTER, Person

    def apply_config(self) -> None:
        apply_config(self._runtime)

    def book_of(self, rows, version):
        return people_of((record_of(row) for row in rows), version)


def bump(session: Session) -> None:
    """Count a change of the people directory, in the transaction that makes it."""
    counted.bump(session, COUNTER)


# The file ------------------------------------------------------------------------------------------


def apply_config(runtime: Runtime) -> None:
    """Write the fields the file sets over each person it names (:func:`sync.ledger.counted.apply_config`)."""
    configured = {person.name: {field: getattr(person, field) for field in person.model_fields_set | {"name"}}
                  for person in runtime.settings.people}
    counted.apply_config(runtime, PeopleCache, "name", configured,
                         lambda name: Person(name=name, config_fields=[]))


# Checks and writes ---------------------------------------------------------------------------------


def checked_fields(data: Mapping[str, Any], book: PeopleBook, current: PersonRecord | None = None) -> dict[str, Any]:
    """The store's values for :data:`PERSON_FIELDS` from ``data`` (blank is none, the name is required), each
    checked; raises :class:`InvalidPerson` listing every problem, the fields the file sets among them."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for field in PERSON_FIELDS:
        value = data.get(field)
        value = value.strip() if isinstance(value, str) else None
        values[field] = value or None
        if value and len(value) > LIMITS[field]:
            errors.append(FieldError(field, N_("At most %(limit)d characters."), {"limit": LIMITS[field]}))
    if not values["name"]:
        errors.append(FieldError("name", N_("This field is required.")))
    if values["email"] and not EMAIL.fullmatch(values["email"]):
        errors.append(FieldError("email", N_("Not an e-mail address.")))
    if values["github_login"] and not GITHUB_LOGIN.fullmatch(values["github_login"]):
        errors.append(FieldError("github_login", N_("A GitHub login is letters, digits and single hyphens.")))
    mine = current.id if current else None
    for field in PERSON_FIELDS:
        value = values[field]
        if field == "name" or not value:
            continue
        other = next((p for p in book.records if p.id != mine and (getattr(p, field) or "").casefold()
                      == value.casefold()), None)
        if other is not None:
            errors.append(FieldError(field, N_("%(name)s has this already."), {"name": other.name}))
    if values["name"]:
        other = next((p for p in book.records if p.id != mine and p.name.casefold() == values["name"].casefold()),
                     None)
        if other is not None:
            errors.append(FieldError("name", N_("There is already a person called %(name)s."),
                                     {"name": other.name}))
    for field in sorted(current.config_fields if current else ()):
        if field in values and values[field] != getattr(current, field):
            errors.append(FieldError(field, N_("Set in the config file, which is applied at every start: change "
                                               "it there.")))
    if errors:
        raise InvalidPerson(errors)
    return values


def add_person(runtime: Runtime, data: Mapping[str, Any]) -> PersonRecord:
    """Store a new person from ``data`` (:data:`PERSON_FIELDS`), checked by :func:`checked_fields`."""
    values = checked_fields(data, runtime.people())
    try:
        with runtime.Session.begin() as session:
            row = Person(config_fields=[], **values)
            session.add(row)
            session.flush()
            bump(session)
            return record_of(row)
    except IntegrityError as exc:  # the same name added by someone else a moment ago
        raise InvalidPerson([FieldError("name", N_("There is already a person called %(name)s."),
                                        {"name": values["name"]})]) from exc


def edit_person(runtime: Runtime, person_id: int, data: Mapping[str, Any]) -> PersonRecord:
    """Set the fields of person ``person_id`` to ``data``; changing a field the file sets is refused."""
    book = runtime.people()
    current = book.get(person_id)
    if current is None:
        raise UnknownPerson(person_id)
    values = checked_fields(data, book, current)
    with runtime.Session.begin() as session:
        row = session.get(Person, person_id)
        for field, value in values.items():
            setattr(row, field, value)
        bump(session)
        return record_of(row)


def remove_person(runtime: Runtime, person_id: int) -> PersonRecord:
    """Take a person out of the directory; one the file names is refused (it would come back at the next start)."""
    current = runtime.people().get(person_id)
    if current is None:
        raise UnknownPerson(person_id)
    if current.from_config:
        raise InvalidPerson([FieldError("name", N_("Named in the config file, which is applied at every start: "
                                                   "remove it there."))])
    with runtime.Session.begin() as session:
        session.delete(session.get(Person, person_id))
        bump(session)
    return current
