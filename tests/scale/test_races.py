"""Deliveries arriving twice, late and out of order, at two web processes at once; four workers racing on the
same needs, the same status change and the same reconcile. One issue per need, one comment and one notice per
real change of customer-facing status."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

from plugin.need import validate_need
from sync.intake import create_need
from sync.ledger.store import Delivery
from tests.scale.cluster import need_json, wait_until

ISSUES = 8
STEPS = (("closed", "completed"), ("reopened", None), ("closed", "not_planned"))
"""What R&D does to every issue, in order: each step is one change the customer hears of (done, back to
received, declined)."""


def test_duplicate_and_out_of_order_deliveries(cluster, scale_report):
    webs = [cluster.start_web(), cluster.start_web()]
    cluster.start_worker()
    cluster.start_worker()
    for number in range(ISSUES):
        assert cluster.post_need(webs[number % 2], f"Delivery need {number}").status_code == 201
    needs = cluster.wait_synced(ISSUES, timeout=60)

    shuffle = random.Random(7)
    sent: list[tuple[str, str, dict]] = []  # every (delivery id, action, issue snapshot) so far
    answers: Counter = Counter()
    lock = threading.Lock()
    for action, reason in STEPS:
        for need in needs:
            if action == "closed":
                issue = cluster.tracker.close_issue(need.issue_key, reason)
            else:
                issue = cluster.tracker.reopen_issue(need.issue_key)
            sent.append((str(uuid.uuid4()), action, issue))
        # This step's deliveries, each two or three times, plus redeliveries of older ones (stale payloads that
        # arrive late), shuffled and posted from four threads to both web processes at once.
        batch = [item for item in sent[-ISSUES:] for _ in range(shuffle.choice((2, 3)))]
        batch += shuffle.sample(sent, k=min(len(sent), ISSUES))
        shuffle.shuffle(batch)

        def post(part: list) -> None:
            for index, (delivery, action_taken, snapshot) in enumerate(part):
                answer = cluster.deliver(webs[index % 2], action_taken, snapshot, delivery_id=delivery)
                with lock:
                    answers[answer.json()["result"]] += 1

        threads = [threading.Thread(target=post, args=(batch[start::4],)) for start in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cluster.wait_settled(timeout=60)

    changes = ISSUES * len(STEPS)
    audit = cluster.final_audit(expected_needs=ISSUES)
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.comments, audit.notices, audit.mails, audit.status_changes) == (changes,) * 4
    assert cluster.deliveries() == len(sent), "each delivery id is stored once"
    assert set(answers) == {"queued", "duplicate"}
    final = {need.ref: need.status for need in cluster.needs()}
    assert set(final.values()) == {"declined"}
    scale_report(deliveries_posted=sum(answers.values()), distinct_deliveries=len(sent),
                 answered=dict(answers), **audit.counts(), lost=0, duplicated=0)


def test_four_workers_race_on_the_same_needs(cluster, scale_report):
    runtime = cluster.runtime
    refs = []
    for number in range(5):
        need = create_need(runtime, validate_need(need_json(f"Raced need {number}"), runtime.settings),
                           created_by="scale")
        refs.append(need.ref)
        for _ in range(3):  # four sync jobs for each need, all queued before any worker runs
            runtime.queue.enqueue("sync_need", need.ref, ref=need.ref)
    for _ in range(4):
        runtime.queue.enqueue("reconcile")
    workers = [cluster.start_worker() for _ in range(4)]
    needs = cluster.wait_synced(len(refs), timeout=60)
    cluster.wait_settled(timeout=60)

    for need in needs:
        cluster.tracker.close_issue(need.issue_key)
        for _ in range(4):  # four workers apply the same change at once
            runtime.queue.enqueue("apply_issue_change", "github", need.issue_key, ref=need.issue_key)
    cluster.wait_settled(timeout=60)

    audit = cluster.final_audit(expected_needs=len(refs))
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.issues, audit.comments, audit.notices, audit.mails) == (len(refs),) * 4
    busy = cluster.log_count("is being synced by another worker")
    takers = {exchange.caller for exchange in cluster.tracker.exchanges}
    assert len(takers) >= 2 and all(worker.alive for worker in workers)
    with runtime.Session() as session:
        assert session.query(Delivery).count() == 0  # nothing came in through webhooks here
    scale_report(workers=len(workers), sync_jobs=4 * len(refs),
                 apply_jobs=4 * len(refs), reconcile_jobs=4, lease_refusals=busy,
                 workers_that_called_the_tracker=len(takers), **audit.counts(), lost=0, duplicated=0)


def test_the_sweep_queues_jobs_whose_message_was_lost(cluster, scale_report):
    """Jobs recorded in the ledger whose message never reached Redis (the recording process died, or Redis lost
    it): a worker's heartbeat sweep finds them in no queue and sends them."""
    runtime = cluster.runtime
    for number in range(6):
        create_need(runtime, validate_need(need_json(f"Unqueued need {number}"), runtime.settings),
                    created_by="scale")
    cluster.runtime.queue.huey.flush()  # Redis forgets every message (a restart without persistence)
    assert cluster.runtime.queue.pending_count() == 0
    cluster.start_worker()
    needs = cluster.wait_synced(6, timeout=30)
    wait_until(cluster.settled, 30, "the sweep")
    audit = cluster.final_audit(expected_needs=6)
    assert audit.problems == [], "\n".join(audit.problems)
    swept = cluster.log_count("was in no queue")
    assert swept == 6
    scale_report(messages_lost=6, jobs_sent_again_by_the_sweep=swept, needs=len(needs), issues=audit.issues)
