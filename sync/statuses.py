"""Tracker state -> customer-facing status: pure, driven by the config.

Jira: a per-status override by status name wins; otherwise the status category (``new``,
``indeterminate``, ``done``) picks the configured status with that ``jira_category``. GitHub: a closed
issue is ``done`` when completed and ``declined`` when not planned; an open one takes the most advanced
configured status whose ``github_label`` it carries, else the first status.
"""

from __future__ import annotations

from plugin.base import IssueState
from plugin.settings import Settings

_CATEGORY_FALLBACK = {"new": None, "indeterminate": "in_progress", "done": "done"}
_CLOSED_REASON = {"completed": "done", "not_planned": "declined", "duplicate": "declined"}


def customer_status(settings: Settings, state: IssueState) -> str:
    """The customer-facing status key for the issue's current state."""
    keys = [status.key for status in settings.statuses]
    if settings.tracker and settings.tracker.kind == "jira":
        overrides = {name.casefold(): key for name, key in settings.tracker.jira.status_overrides.items()}
        override = overrides.get(state.status_name.casefold())
        if override in keys:
            return override
        by_category = next((s.key for s in settings.statuses if s.jira_category == state.status_category), None)
        if by_category:
            return by_category
        fallback = _CATEGORY_FALLBACK.get(state.status_category)
        return fallback if fallback in keys else settings.initial_status
    if state.status_category == "done":
        wanted = _CLOSED_REASON.get(state.state_reason or "completed", "done")
        return wanted if wanted in keys else ("done" if "done" in keys else keys[-1])
    labelled = [s.key for s in settings.statuses if s.github_label and s.github_label in state.labels]
    return labelled[-1] if labelled else settings.initial_status
