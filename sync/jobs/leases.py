"""Short leases on rows being synced (needs, action items), so that two workers never work one row at once.

A lease is taken with a conditional update (free, or run out), renewed by the queue's heartbeat while the
work runs, and released at the end; a killed worker stops renewing and its lease runs out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import or_, update

from sync.ledger.store import utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime


@contextlib.contextmanager
def leased(runtime: Runtime, model, condition) -> Iterator[str | None]:
    """Take the lease of the ``model`` rows matching ``condition`` that no one else holds; yields the owner id
    (rows with ``sync_lease_owner`` equal to it are this worker's), or None when none could be taken."""
    owner = uuid.uuid4().hex
    now = utcnow()
    with runtime.Session.begin() as session:
        taken = session.execute(
            update(model)
            .where(condition, or_(model.sync_lease_until.is_(None), model.sync_lease_until < now))
            .values(sync_lease_owner=owner, sync_lease_until=now + runtime.queue.lease)
            .execution_options(synchronize_session=False)
        ).rowcount
    if not taken:
        yield None
        return

    def renew(session, until: dt.datetime) -> None:
        session.execute(update(model).where(model.sync_lease_owner == owner).values(sync_lease_until=until)
                        .execution_options(synchronize_session=False))

    try:
        with runtime.queue.renewing(renew):
            yield owner
    finally:
        with runtime.Session.begin() as session:
            session.execute(update(model).where(model.sync_lease_owner == owner)
                            .values(sync_lease_owner=None, sync_lease_until=None)
                            .execution_options(synchronize_session=False))
