"""``python -m tests.scale.launch worker ...``: the real ``cocreate`` command line on test clocks.

The scale tests run ``cocreate worker`` through this module so that what takes minutes in production takes
seconds here; nothing else changes (same click command, same runtime, same queue, same adapter):

- ``sync.jobs.queue.JOB_LEASE`` 2 s (production 30 s): a killed worker's jobs and need leases are taken over sooner;
- ``sync.jobs.queue.BACKOFF_BASE`` 0.25 s (production 2 s): retries come sooner (``Retry-After`` is still honoured);
- ``sync.loop.issues.SEARCH_LAG`` 2 s (production 30 s): the fake tracker's search has no lag to wait for;
- the GitHub client's timeout 2 s (production 15 s), so a tracker that hangs is given up on sooner;
- no write pacing (production: one write a second per process), which only sleeps.

Web processes in the tests run the ``cocreate`` console script itself.
"""

from __future__ import annotations

import datetime as dt
import functools

JOB_LEASE = 2.0
BACKOFF_BASE = 0.25
SEARCH_LAG = dt.timedelta(seconds=2)
TRACKER_TIMEOUT = 2


def apply_test_clocks() -> None:
    import plugin.github.adapter as github_adapter
    import sync.jobs.queue
    import sync.loop.issues

    sync.jobs.queue.JOB_LEASE = JOB_LEASE
    sync.jobs.queue.BACKOFF_BASE = BACKOFF_BASE
    sync.loop.issues.SEARCH_LAG = SEARCH_LAG
    github_adapter.build_github = functools.partial(github_adapter.build_github, timeout=TRACKER_TIMEOUT)
    github_adapter.Pacer = functools.partial(github_adapter.Pacer, per_minute=1_000_000, min_interval=0.0)


if __name__ == "__main__":
    apply_test_clocks()
    from webhooks.cli import main

    main(prog_name="cocreate")
