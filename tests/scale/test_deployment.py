"""The scaled-out deployment for real: web processes (``cocreate serve --no-worker`` and gunicorn with
``deploy/gunicorn.conf.py``) and several ``cocreate worker`` processes on one PostgreSQL store and one Redis queue."""

from __future__ import annotations

import itertools

from tests.scale.cluster import Process

NEEDS = 30
CLOSED = 10


def test_web_processes_and_workers_share_postgresql_and_redis(make_cluster, scale_report):
    cluster = make_cluster(migrate=False)  # every process starts on an empty database at once and migrates
    webs = [cluster.start_web(wait=False), cluster.start_web(wait=False), cluster.start_gunicorn(wait=False)]
    workers = [cluster.start_worker(), cluster.start_worker()]
    for web in webs:
        health = cluster.wait_healthy(web)
        assert health["database"] == {"status": "ok", "dialect": "postgresql"}
        assert health["queue"]["backend"] == "RedisHuey"

    answers = [cluster.post_need(web, f"Deployment need {number}")
               for number, web in zip(range(NEEDS), itertools.cycle(webs))]
    assert [answer.status_code for answer in answers] == [201] * NEEDS
    needs = cluster.wait_synced(NEEDS, timeout=60)

    for need, web in zip(needs[:CLOSED], itertools.cycle(webs)):
        issue = cluster.tracker.close_issue(need.issue_key)
        assert cluster.deliver(web, "closed", issue).status_code == 202
    cluster.wait_settled(timeout=60)

    audit = cluster.final_audit(expected_needs=NEEDS)
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.needs, audit.issues, audit.comments, audit.notices, audit.mails) == (
        NEEDS, NEEDS, CLOSED, CLOSED, CLOSED)
    callers = {exchange.caller for exchange in cluster.tracker.exchanges}
    assert callers == {worker.name for worker in workers}, "both workers took jobs from the shared queue"
    assert all(process.alive for process in [*webs, *workers])
    scale_report(web_processes=_describe(webs), workers=len(workers), **audit.counts(),
                 tracker_requests_by_worker=dict(sorted(
                     (name, sum(1 for e in cluster.tracker.exchanges if e.caller == name)) for name in callers)))


def _describe(webs: list[Process]) -> list[str]:
    return [web.name for web in webs]
