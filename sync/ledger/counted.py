"""A process's copy of records every process may change (customers, people), reloaded when their counter moves."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sync.ledger.store import Counter

if TYPE_CHECKING:
    from sync.runtime import Runtime

B = TypeVar("B")


class CountedCache(Generic[B]):
    """Each :meth:`book` reads the records' counter (one primary-key read) and reloads the records only when some
    process changed them since: a change made on any web process is seen by the next request or job of every
    other, without a restart. The config file's records are applied once, at the first read."""

    counter: str
    model: Any

    def __init__(self, runtime: Runtime):
        self._runtime = runtime
        self._book: B | None = None
        self._applied = False
        self._lock = threading.Lock()

    def apply_config(self) -> None:
        raise NotImplementedError

    def book_of(self, rows: Sequence[Any], version: int) -> B:
        raise NotImplementedError

    def book(self) -> B:
        if not self._applied:
            with self._lock:
                if not self._applied:
                    self.apply_config()
                    self._applied = True
        with self._runtime.Session() as session:
            version = session.scalar(select(Counter.value).where(Counter.name == self.counter)) or 0
            cached = self._book
            if cached is not None and cached.version == version:
                return cached
            rows = session.scalars(select(self.model).order_by(self.model.id)).all()
            book = self.book_of(rows, version)
        self._book = book
        return book


def bump(session: Session, counter: str) -> None:
    """Count a change of the records ``counter`` counts, in the transaction that makes it."""
    session.execute(update(Counter).where(Counter.name == counter).values(value=Counter.value + 1))


def apply_config(runtime: Runtime, cache: type[CountedCache], key: str, configured: Mapping[str, Mapping[str, Any]],
                 new_row: Callable[[str], Any]) -> None:
    """Write the fields the file sets (``configured``: each record's ``key`` -> its fields as stored) over the
    records it names, creating those not yet stored with ``new_row``, and forget the file's claim on records it no
    longer names (``config_fields``). Changes only what differs, so an unchanged file at start bumps nothing."""
    try:
        _apply_config(runtime, cache, key, configured, new_row)
    except IntegrityError:
        # Another process starting at the same moment inserted the same records first; the second pass finds
        # them and compares again.
        _apply_config(runtime, cache, key, configured, new_row)


def _apply_config(runtime: Runtime, cache: type[CountedCache], key: str,
                  configured: Mapping[str, Mapping[str, Any]], new_row: Callable[[str], Any]) -> None:
    with runtime.Session.begin() as session:
        rows = {getattr(row, key): row for row in session.scalars(select(cache.model))}
        changed = False
        for name, values in configured.items():
            row = rows.get(name)
            if row is None:
                row = new_row(name)
                session.add(row)
                changed = True
            for field, value in values.items():
                if getattr(row, field) != value:
                    setattr(row, field, value)
                    changed = True
            if list(row.config_fields or ()) != sorted(values):
                row.config_fields = sorted(values)
                changed = True
        for name, row in rows.items():
            if name not in configured and row.config_fields:
                row.config_fields = []
                changed = True
        if changed:
            bump(session, cache.counter)
