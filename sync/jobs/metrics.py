"""Tracker call counters (per process) and the adapter wrapper that records them."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from plugin.errors import TrackerError

TRACKER_CALLS = Counter("cocreate_tracker_calls", "Calls to the tracker by operation and outcome",
                        ["tracker", "operation", "outcome"])
TRACKER_SECONDS = Histogram("cocreate_tracker_call_seconds", "Time of tracker calls", ["tracker", "operation"],
                            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
_OPERATIONS = ("whoami", "find_account", "find_by_marker", "create_issue", "create_issues", "get_issue", "update_issue",
               "add_comment", "list_comments", "set_link", "remove_link", "add_attachment", "updated_since",
               "register_webhook", "milestone_due", "get_release", "release_issues", "released_since")


class InstrumentedAdapter:
    """Wraps a tracker adapter: every contract call is counted by outcome (``ok`` or the error's class)."""

    def __init__(self, adapter):
        self.wrapped = adapter
        self.kind = adapter.kind

    def __getattr__(self, name):
        attribute = getattr(self.wrapped, name)
        if name not in _OPERATIONS:
            return attribute

        def call(*args, **kwargs):
            started = time.perf_counter()
            outcome = "ok"
            try:
                return attribute(*args, **kwargs)
            except TrackerError as exc:
                outcome = type(exc).__name__
                raise
            finally:
                TRACKER_CALLS.labels(self.kind, name, outcome).inc()
                TRACKER_SECONDS.labels(self.kind, name).observe(time.perf_counter() - started)

        return call
