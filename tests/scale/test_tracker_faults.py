"""The tracker misbehaves for a while, then recovers: 5xx and timeouts (some after the tracker already made the
change, as behind a gateway), and a storm of 429s with ``Retry-After``. Every need ends with one issue, every
status change with one comment and one notice; retries after a 429 wait at least ``Retry-After``."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict

from tests.scale.cluster import wait_until

NEEDS = 16
RETRY_AFTER = 2


def test_5xx_and_timeout_windows_then_recovery(cluster, scale_report):
    tracker = cluster.tracker
    web = cluster.start_web()
    workers = [cluster.start_worker(), cluster.start_worker()]
    wait_until(lambda: all(w.alive for w in workers) and cluster.log_count("consumer started") >= 2, 30,
               "the workers to start")

    # While the needs come in: 1.5 s of 502/503 (a third of them after the issue was made), then 1.5 s in which
    # the tracker holds every request past the client's timeout (every other one after making the change).
    opened = time.monotonic()
    tracker.fail_window(1.5, 503, after_change=0.34)
    for number in range(NEEDS // 2):
        assert cluster.post_need(web, f"Fault need {number}").status_code == 201
    wait_until(lambda: tracker.faults()["5xx"] + tracker.faults()["5xx after the change"], 5, "a 5xx")
    time.sleep(max(0.0, opened + 1.5 - time.monotonic()))  # one window after the other
    tracker.timeout_window(1.5, hang=2.5, after_change=0.5)
    for number in range(NEEDS // 2, NEEDS):
        assert cluster.post_need(web, f"Fault need {number}").status_code == 201
    needs = cluster.wait_synced(NEEDS, timeout=60)

    # The status loop through another window: reading the issue and posting the comment fail for a while.
    tracker.fail_window(1.5, 502, after_change=0.34)
    for need in needs:
        assert cluster.deliver(web, "closed", tracker.close_issue(need.issue_key)).status_code == 202
    cluster.wait_settled(timeout=60)

    audit = cluster.final_audit(expected_needs=NEEDS)
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.needs, audit.issues, audit.comments, audit.notices, audit.mails) == (NEEDS,) * 5
    faults = tracker.faults()
    assert faults["5xx after the change"] and faults["timeout after the change"] and faults["timeout"]
    scale_report(faults_injected=dict(faults), tracker_requests=len(tracker.exchanges),
                 retries=cluster.log_count("; try "), **audit.counts(), lost=0, duplicated=0)


def test_429_storm_is_waited_out_honouring_retry_after(cluster, scale_report):
    tracker = cluster.tracker
    web = cluster.start_web()
    cluster.start_worker()
    cluster.start_worker()
    wait_until(lambda: cluster.log_count("consumer started") >= 2, 30, "the workers to start")

    tracker.rate_limit_window(3.0, retry_after=RETRY_AFTER)
    for number in range(NEEDS):
        assert cluster.post_need(web, f"Rate-limited need {number}").status_code == 201
    needs = cluster.wait_synced(NEEDS, timeout=60)
    for need, web_process in zip(needs, itertools.cycle([web])):
        assert cluster.deliver(web_process, "closed", tracker.close_issue(need.issue_key)).status_code == 202
    cluster.wait_settled(timeout=60)

    # Each need's sync is the only job asking about its marker: after a 429, its next request must wait.
    by_need = defaultdict(list)
    for exchange in tracker.exchanges:
        if exchange.operation in ("create", "search"):
            by_need[exchange.subject].append(exchange)
    gaps = []
    for exchanges in by_need.values():
        for earlier, later in itertools.pairwise(exchanges):
            if earlier.status == 429:
                gaps.append(later.at - earlier.at)
    storm = tracker.faults()["429"]
    assert storm >= NEEDS and len(gaps) >= NEEDS
    assert min(gaps) >= RETRY_AFTER - 0.05, f"a retry came {min(gaps):.2f}s after a 429 saying {RETRY_AFTER}s"

    audit = cluster.final_audit(expected_needs=NEEDS)
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.needs, audit.issues, audit.comments, audit.notices) == (NEEDS,) * 4
    scale_report(answered_429=storm, retry_after_s=RETRY_AFTER, retries_after_429=len(gaps),
                 shortest_wait_after_429_s=round(min(gaps), 3), **audit.counts(), lost=0, duplicated=0)
