"""PostgreSQL restarts under load: while needs pour in through the API and webhooks through the receiver, the
database goes away and comes back, twice. Clients retry what got a 5xx (as the JSON API's callers and Jira
do; GitHub redelivers by hand, reconcile covers it); at the end every acknowledged need is stored once and has
one issue, and every status change has one comment and one notice."""

from __future__ import annotations

import threading
import time
from collections import Counter

from tests.scale.cluster import wait_until

LOAD_SECONDS = 5.0
RATE = 15  # needs a second from the load thread


def test_database_restart_under_load(cluster, postgres, scale_report):
    webs = [cluster.start_web(), cluster.start_web()]
    with cluster.supervised_workers(2) as workers:
        wait_until(lambda: cluster.log_count("consumer started") >= 2, 30, "the workers to start")
        _restart_under_load(cluster, postgres, webs, scale_report)
    assert len(workers) == 2, "no worker died: each rode out the restarts"


def _restart_under_load(cluster, postgres, webs, scale_report) -> None:
    answers: Counter = Counter()
    acknowledged: list[str] = []
    stop = threading.Event()

    def load() -> None:
        number = 0
        started = time.monotonic()
        while not stop.is_set() and time.monotonic() - started < LOAD_SECONDS:
            title = f"Restart need {number}"
            answer = cluster.post_need(webs[number % 2], title, attempts=30)
            answers[answer.status_code] += 1
            if answer.status_code == 201:
                acknowledged.append(title)
            number += 1
            time.sleep(max(0.0, started + number / RATE - time.monotonic()))

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(1.5)
    postgres.restart(down_for=0.5)  # fast shutdown: every session is cut, in-flight transactions roll back
    thread.join()
    assert answers[201] == len(acknowledged) and set(answers) == {201}, answers
    needs = cluster.wait_synced(len(acknowledged), timeout=60)
    cluster.wait_settled(timeout=60)

    # The status loop, with the database going away again while the deliveries come in.
    def deliver_all() -> None:
        for index, need in enumerate(needs):
            issue = cluster.tracker.close_issue(need.issue_key)
            answer = cluster.deliver(webs[index % 2], "closed", issue, attempts=30)
            answers[f"webhook {answer.status_code}"] += 1

    thread = threading.Thread(target=deliver_all)
    thread.start()
    time.sleep(0.5)
    postgres.restart(down_for=0.5)
    thread.join()
    cluster.wait_settled(timeout=60)
    wait_until(lambda: all(n.status == "done" for n in cluster.needs()), 30, "every need to be done")

    audit = cluster.final_audit(expected_needs=len(acknowledged))
    assert audit.problems == [], "\n".join(audit.problems)
    assert sorted(need.title for need in cluster.needs()) == sorted(acknowledged)
    assert (audit.issues, audit.comments, audit.notices, audit.mails) == (len(acknowledged),) * 4
    server_errors = cluster.log_count("OperationalError") + cluster.log_count("InterfaceError")
    assert server_errors, "the restarts were felt by the processes"
    assert cluster.client_retries, "some requests met the restarts and were tried again"
    scale_report(database_restarts=2, answers=dict(answers), client_retries=dict(cluster.client_retries),
                 database_errors_logged=server_errors,
                 jobs_retried=cluster.log_count("; try "), jobs_taken_over=cluster.log_count("queued again"),
                 **audit.counts(), lost=0, duplicated=0)
