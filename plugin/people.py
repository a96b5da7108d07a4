"""The people directory as every part of Cocreate reads it: who an owner as CS typed it is, and who a tracker
account belongs to.

The records live in the store (``sync.ledger.people`` loads a :class:`PeopleBook` from it); this module is the
plain data and the lookups, so that assignment, owner notices, SLA escalation and the comment check share one
rule for "which person is this".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PERSON_FIELDS = ("name", "email", "jira_account_id", "github_login")
"""The fields of a person (the name is unique)."""


@dataclass(frozen=True)
class PersonRecord:
    """One person of the team. ``config_fields`` are the fields the YAML file sets (re-applied at every start, so
    not editable elsewhere); empty when the file does not name the person."""

    name: str
    email: str | None = None
    jira_account_id: str | None = None
    github_login: str | None = None
    id: int | None = None
    config_fields: frozenset[str] = frozenset()

    @property
    def from_config(self) -> bool:
        return bool(self.config_fields)


@dataclass(frozen=True)
class PeopleBook:
    """Every person, with the lookups by owner and by tracker account. A book is a snapshot: a web request or a
    job takes one (``Runtime.people()``) and reads it throughout."""

    records: tuple[PersonRecord, ...] = ()
    version: int = 0

    def person(self, owner: str | None) -> PersonRecord | None:
        """The person an owner as CS typed it names: by name, then by e-mail, ignoring case and surrounding
        spaces; None when nobody is called that."""
        wanted = owner.strip().casefold() if owner else ""
        if not wanted:
            return None
        return next((p for p in self.records if p.name.casefold() == wanted), None) or next(
            (p for p in self.records if p.email and p.email.casefold() == wanted), None)

    def with_identity(self, field: str, value: str | None) -> PersonRecord | None:
        """The person whose ``field`` (``jira_account_id``, ``github_login``) is ``value``."""
        if not value:
            return None
        return next((p for p in self.records if getattr(p, field) == value), None)

    def get(self, person_id: int) -> PersonRecord | None:
        return next((p for p in self.records if p.id == person_id), None)

    def names(self) -> list[str]:
        return [p.name for p in self.records]


def people_of(records: Iterable[PersonRecord], version: int = 0) -> PeopleBook:
    return PeopleBook(tuple(sorted(records, key=lambda p: p.name.casefold())), version)
