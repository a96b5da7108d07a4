"""A customer record as every part of Cocreate reads it, and the book of them a need's customer is resolved in.

The records live in the store (``sync.ledger.customers`` loads a :class:`CustomerBook` from it); this module is
the plain data and the lookups, so that the mapping, the notices and the pages share one rule for "which
customer is this name".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from plugin.settings import Channel, Contact
from plugin.text import fold_name


@dataclass(frozen=True)
class CustomerRecord:
    """One customer company. ``config_fields`` are the fields the YAML file sets (re-applied at every start, so
    not editable elsewhere); empty when the file does not name the customer. A merged customer keeps its record
    with ``merged_into`` naming where its needs went."""

    key: str
    name: str
    locale: str = "zh_Hans"
    aliases: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    channels: tuple[Channel, ...] = ()
    tier: str | None = None
    annual_revenue: int | None = None
    config_fields: frozenset[str] = frozenset()
    merged_into: str | None = None

    @property
    def from_config(self) -> bool:
        return bool(self.config_fields)

    @property
    def names(self) -> tuple[str, ...]:
        """The name first, then the aliases: every spelling that resolves to this customer."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class CustomerBook:
    """Every customer record, by key, with the lookups by key, name or alias. A book is a snapshot: a web
    request or a job takes one (``Runtime.customers()``) and reads it throughout."""

    records: tuple[CustomerRecord, ...] = ()
    version: int = 0
    _by_key: dict[str, CustomerRecord] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_name: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        for record in self.records:
            self._by_key[record.key] = record
        # Keys first, then names and aliases: a name can never shadow another customer's key.
        for record in self.records:
            self._by_name.setdefault(fold_name(record.key), record.key)
        for record in self.records:
            for name in record.names:
                self._by_name.setdefault(fold_name(name), record.key)

    def get(self, key: str | None) -> CustomerRecord | None:
        """The record stored under ``key`` (a merged one included), or None."""
        return self._by_key.get(key) if key else None

    def current(self, key: str | None) -> CustomerRecord | None:
        """The record ``key`` stands for now: a merged customer's is the one it was merged into."""
        record = self.get(key)
        seen = set()
        while record is not None and record.merged_into and record.key not in seen:
            seen.add(record.key)
            record = self._by_key.get(record.merged_into, record)
        return record

    def resolve(self, text: str | None) -> str | None:
        """The key of the customer whose key, name or alias ``text`` is (width, case and spacing ignored),
        following a merge; None when no customer is called that."""
        if not text or not text.strip():
            return None
        key = self._by_name.get(fold_name(text))
        record = self.current(key)
        return record.key if record else None

    def owner_of(self, name: str) -> CustomerRecord | None:
        """The customer already called ``name`` (key, name or alias), merged ones included; for the check that
        two customers never share a spelling."""
        return self.get(self._by_name.get(fold_name(name)))

    def name(self, key: str) -> str:
        """The customer's name, or ``key`` itself when there is no such customer."""
        record = self.get(key)
        return record.name if record else key

    def active(self) -> list[CustomerRecord]:
        """The customers a need can name: every one not merged into another, by name."""
        return sorted((record for record in self.records if not record.merged_into),
                      key=lambda record: fold_name(record.name))

    def keys_matching(self, word: str) -> list[str]:
        """Keys of the customers whose name or an alias contains ``word`` (for search)."""
        folded = fold_name(word)
        return [record.key for record in self.records
                if any(folded in fold_name(name) for name in record.names)]


def book_of(records: Iterable[CustomerRecord], version: int = 0) -> CustomerBook:
    return CustomerBook(tuple(records), version)
