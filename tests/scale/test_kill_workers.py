"""kill -9 of workers at chosen and at random points of a sync and of the status loop, many times over:
every need still gets exactly one issue, every status change exactly one comment, one customer notice and one
owner e-mail.

Each trial is one need. A hook in the fake tracker (or the notice recorder) kills the worker that is calling at
the trial's point, before or after the tracker makes the change; "random" trials kill a worker at a random
moment. A supervisor starts a new worker whenever one dies, as systemd's ``Restart=always`` would. The jobs of a
killed worker are taken over by the others' heartbeat once their lease runs out (2 s on test clocks).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

from plugin.need import validate_need
from sync.intake import create_need, format_ref
from tests.notify.servers import Reply
from tests.scale.cluster import Cluster, need_json, wait_until

WAVES = 2
TRIALS_PER_WAVE = 12
WORKERS = 3
POINTS = (
    ("create", "before"),  # the create call reached the tracker, which has not made the issue yet
    ("create", "after"),  # the tracker made the issue; the worker never learns its number
    ("create+search", "after"),  # as above, then the retry is killed again while it looks for the marker
    ("get", "before"),  # apply_issue_change reading the issue after the webhook
    ("comment", "after"),  # the status comment is on the issue; the worker dies before recording it as sent
    ("notice", "after"),  # the customer got the notice; the worker dies before recording it as sent
    ("random-sync", None),  # a random worker at a random moment while the needs sync
    ("random-status", None),  # a random worker at a random moment while the status changes go out
    ("create", "after"),
    ("comment", "after"),
    ("get", "before"),
    ("random-sync", None),
)


class Chaos:
    """Arms the kill points of the trials and counts the kills that happened."""

    def __init__(self, cluster: Cluster, seed: int):
        self.cluster = cluster
        self.random = random.Random(seed)
        self.kills: Counter = Counter()
        self.armed: Counter = Counter()
        self._notice_refs: set[str] = set()
        self._lock = threading.Lock()
        cluster.recorder.respond_with(self._notice)

    def _kill(self, point: str):
        def kill(caller: str) -> None:
            self.cluster.kill(caller)
            with self._lock:
                self.kills[point] += 1

        return kill

    def arm(self, point: str, subject: str, when: str | None) -> None:
        if point == "notice":
            with self._lock:
                self._notice_refs.add(subject)
        elif point == "create+search":
            self.cluster.tracker.on("create", subject, self._kill("create"), when="after")
            self.cluster.tracker.on("search", subject, self._kill("search"), when="before")
        else:
            self.cluster.tracker.on(point, subject, self._kill(point), when=when)
        self.armed.update(point.split("+"))

    def _notice(self, request) -> Reply:
        caller = self.cluster.notice_sender(request)
        ref = json.loads(request.body).get("data", {}).get("need_ref")
        with self._lock:
            armed = ref in self._notice_refs
            self._notice_refs.discard(ref)
        if armed:
            self._kill("notice")(caller)
        return Reply(200)

    def random_kill(self, point: str, within: float) -> threading.Thread:
        """Kill a random live worker at a random moment in the next ``within`` seconds."""

        def later() -> None:
            time.sleep(self.random.uniform(0.0, within))
            workers = self.cluster.workers()
            if workers:
                self.cluster.kill(self.random.choice(workers).name)
                with self._lock:
                    self.kills[point] += 1

        self.armed[point] += 1
        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread


def test_kill_9_at_random_points_loses_and_duplicates_nothing(cluster, scale_report):
    chaos = Chaos(cluster, seed=20261123)
    web = cluster.start_web()
    trials = 0
    with cluster.supervised_workers(WORKERS) as started:
        for wave in range(WAVES):
            first = wave * TRIALS_PER_WAVE + 1
            refs = [format_ref(number) for number in range(first, first + TRIALS_PER_WAVE)]
            for ref, (point, when) in zip(refs, POINTS, strict=True):
                if point in ("create", "create+search"):
                    chaos.arm(point, ref, when)
            random_kills = [chaos.random_kill("random-sync", 1.5) for point, _ in POINTS if point == "random-sync"]
            for ref in refs:
                answer = cluster.post_need(web, f"Kill trial {ref}")
                assert (answer.status_code, answer.json()["ref"]) == (201, ref)
            needs = cluster.wait_synced(first + TRIALS_PER_WAVE - 1, timeout=60)
            for thread in random_kills:
                thread.join()

            keys = {need.ref: need.issue_key for need in needs}
            for ref, (point, when) in zip(refs, POINTS, strict=True):
                if point in ("get", "comment"):
                    chaos.arm(point, keys[ref], when)
                elif point == "notice":
                    chaos.arm(point, ref, when)
            random_kills = [chaos.random_kill("random-status", 1.5) for point, _ in POINTS
                            if point == "random-status"]
            for ref in refs:
                issue = cluster.tracker.close_issue(keys[ref])
                assert cluster.deliver(web, "closed", issue).status_code == 202
            for thread in random_kills:
                thread.join()
            cluster.wait_settled(timeout=60, what=f"wave {wave + 1} to settle")
            trials += len(refs)

    audit = cluster.final_audit(expected_needs=trials)
    assert audit.problems == [], "\n".join(audit.problems)
    assert (audit.needs, audit.issues, audit.comments, audit.notices, audit.mails) == (trials,) * 5
    assert chaos.kills == chaos.armed, "every armed kill point was reached"
    rescued = cluster.log_count("its worker stopped") + cluster.log_count("was in no queue")
    targeted = sum(count for point, count in chaos.kills.items() if not point.startswith("random"))
    assert rescued >= targeted, "the job of every worker killed mid-job was taken over"
    scale_report(trials=trials, kills=sum(chaos.kills.values()), kills_by_point=dict(sorted(chaos.kills.items())),
                 workers_started=len(started), jobs_taken_over_from_dead_workers=rescued, **audit.counts(),
                 lost=0, duplicated=0)


def test_embedded_serve_survives_kill_9(make_cluster, tmp_path, scale_report):
    """The embedded default (SQLite store and queue, jobs inside ``cocreate serve``) killed while creating issues,
    and started again each time as systemd would: one issue per need, nothing lost."""
    cluster = make_cluster(database_url=f"sqlite:///{tmp_path / 'home' / 'cocreate.db'}", queue_url="")
    killed: list[str] = []

    def kill(caller: str) -> None:
        cluster.kill(caller)
        killed.append(caller)

    # Filed before the server starts (the server is also the worker: a kill takes the web side down too).
    runtime = cluster.runtime
    refs = [create_need(runtime, validate_need(need_json(f"Embedded need {n}"), runtime.settings)).ref
            for n in range(6)]
    cluster.tracker.on("create", refs[0], kill, when="before")
    cluster.tracker.on("create", refs[2], kill, when="after")
    serve = cluster.start_serve(wait=False)

    def synced() -> bool:
        needs = cluster.needs()
        return len(needs) == len(refs) and all(need.sync_state == "synced" for need in needs)

    starts = 1
    while True:
        wait_until(lambda: not serve.alive or (len(killed) == 2 and synced()), 60, "a kill or every sync")
        if serve.alive:
            break
        serve = cluster.start_serve(wait=False)
        starts += 1
    cluster.wait_settled(timeout=30)
    audit = cluster.final_audit(expected_needs=len(refs))
    assert audit.problems == [], "\n".join(audit.problems)
    assert len(killed) == 2 and audit.issues == len(refs)
    scale_report(store="SQLite (WAL)", queue="SQLite", kills=len(killed), starts=starts, needs=audit.needs,
                 issues=audit.issues, lost=0, duplicated=0)
