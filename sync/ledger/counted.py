"""A process's copy of records every process may change (customers, people), reloaded when their counter moves."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import select, update
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
