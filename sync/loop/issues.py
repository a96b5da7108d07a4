"""Creating a tracker issue exactly once, for a need or an action item: the intent is recorded before the
create call and the issue's marker label is looked for on retry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from plugin.base import IssueSpec, IssueState
from plugin.errors import TrackerError
from sync.ledger.store import utcnow

# Jira's and GitHub's search see a new issue only after a short delay: a marker search sooner than this
# after the create may miss it, so the retry waits instead of creating a second issue.
SEARCH_LAG = dt.timedelta(seconds=30)

@dataclass
class RetryLater(Exception):
    """Not a failure: the sync must wait (another worker holds the need, or a linked need has no issue yet)."""

    reason: str
    retry_after: float = 2.0
    retryable = True

    def __str__(self) -> str:
        return self.reason


def create_issue_once(session, adapter, row, spec: IssueSpec,
                      prepare: Callable[[IssueSpec], IssueSpec] | None = None) -> tuple[IssueState, bool]:
    """Find or create the issue of ``row`` (a need or an action item, which has no issue yet), never two.

    An earlier try's issue is looked for by ``spec.marker``; within ``SEARCH_LAG`` of that try, RetryLater
    waits for the tracker's search instead of creating another. Before the create call the intent is
    committed, after it the key; a create refused outright clears the intent (nothing to look for).
    ``prepare`` changes the spec (and may set more of ``row``, committed with the intent) only when an issue
    is about to be created. Returns the issue and whether it was created here.
    """
    state = adapter.find_by_marker(spec.project, spec.marker) if row.sync_intent_at else None
    if state is None and row.sync_intent_at and utcnow() - row.sync_intent_at < SEARCH_LAG:
        wait = (row.sync_intent_at + SEARCH_LAG - utcnow()).total_seconds()
        raise RetryLater(f"{row.ref}: an earlier try may have created the issue; waiting for the tracker's "
                         f"search to show it", retry_after=max(wait, 1.0))
    created = state is None
    if created:
        if prepare is not None:
            spec = prepare(spec)
        row.sync_intent_at = utcnow()
        session.commit()  # the intent is durable before the create call
        try:
            state = adapter.create_issue(spec)
        except TrackerError as exc:
            if not exc.retryable:  # refused outright: nothing was created, no marker to look for
                row.sync_intent_at = None
                session.commit()
            raise
    row.issue_key, row.issue_url = state.key, state.url
    session.commit()  # the key is durable before anything else can fail
    return state, created
