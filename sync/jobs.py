"""The jobs Cocreate runs in the background, by name; ``sync.queue.Queue`` runs them with retries."""

from __future__ import annotations

import logging

from sqlalchemy import select

from sync.ledger.store import Need, utcnow

log = logging.getLogger("cocreate.jobs")

JOBS: dict = {}
"""Job name -> function(runtime, *args)."""


def job(function):
    JOBS[function.__name__] = function
    return function


@job
def sync_need(runtime, ref: str) -> None:
    """Bring the tracker issue of need ``ref`` in line with the need (level-triggered, safe to repeat)."""
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is None:
            log.warning("sync_need: no need %s", ref)
            return
        if runtime.settings.tracker is None:
            need.sync_state = "waiting_for_tracker"
            need.sync_error = None
            need.synced_at = utcnow()
            return
    from sync.outbound import sync_need_to_tracker

    sync_need_to_tracker(runtime, ref)


@job
def sync_needs(runtime, refs: list[str]) -> None:
    """Sync many needs together (after an import): new issues are created in bulk where the tracker can."""
    from sync.outbound import sync_needs_bulk

    if runtime.settings.tracker is None:
        for ref in refs:
            sync_need(runtime, ref)  # records "waiting for tracker"
        return
    outcomes = sync_needs_bulk(runtime, refs)
    failed = {ref: outcome for ref, outcome in outcomes.items() if outcome not in ("synced", "busy")}
    for ref, outcome in outcomes.items():
        if outcome == "busy":  # another worker has it now; its own job finishes it
            log.info("sync_needs: %s busy elsewhere", ref)
    if failed:
        log.warning("sync_needs: %d of %d failed: %s", len(failed), len(refs), failed)


@job
def reconcile(runtime) -> None:
    """Apply tracker changes a webhook may have missed (also run periodically by the consumer)."""
    from sync.reconcile import reconcile as run

    run(runtime)


from sync import (  # noqa: E402,F401  register apply_issue_change and deliver_outbox
    inbound,
    minutes,  # noqa: E402,F401  registers create_action_item_issue
    outbox,
    sla,  # noqa: E402,F401  registers check_sla
)
