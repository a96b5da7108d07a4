"""The syncs a customer's new tier or revenue queues: its issues' demand scores change (``sync.loop.demand``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync.ledger.store import Need

if TYPE_CHECKING:
    from sync.runtime import Runtime


def queue_customer_issues(runtime: Runtime, session: Session, customer_key: str) -> list:
    """The ``sync_need`` jobs (recorded in ``session``) that bring each issue asked for by ``customer_key`` its new
    demand after the customer's tier or revenue changed: one per issue, for the need owning its body."""
    if runtime.settings.tracker is None:
        return []
    rows = session.execute(select(Need.issue_key, Need.ref, Need.linked_to).where(
        Need.issue_key.in_(select(Need.issue_key).where(Need.customer == customer_key,
                                                        Need.issue_key.is_not(None))))
        .order_by(Need.id)).all()
    owners: dict[str, tuple[str, str | None]] = {}
    for row in rows:
        if row.issue_key not in owners or (row.linked_to is None and owners[row.issue_key][1]):
            owners[row.issue_key] = (row.ref, row.linked_to)
    return [runtime.queue.record(session, "sync_need", ref, ref=ref) for ref, _linked in owners.values()]
