"""Outbound sync benchmark: tracker calls per need, and the time to sync many needs at 50 ms per call.

Drives the real adapters (the ``jira`` and ``PyGithub`` clients) against the stateful fake trackers of the
test suite, each call held for ``--latency`` seconds as a remote tracker would. Prints:

- calls per synced need: first sync (create), unchanged re-sync, an edit by CS;
- the time to sync ``--needs`` needs one job each on ``--workers`` threads, and (Jira) through bulk creation.

GitHub's content-creation pace (80 a minute, 1 s apart) is counted, not slept: its floor is printed beside
the measured time without pacing. Usage: ``.venv/bin/python bench/sync_bench.py [--needs 1000]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import responses

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plugin.need import validate_need  # noqa: E402
from sync.intake import create_need, update_need  # noqa: E402
from sync.loop import outbound  # noqa: E402
from tests.factories import NOW, need_data  # noqa: E402
from tests.github.fake_github import FakeGitHub  # noqa: E402
from tests.jira.fake_jira import FakeJira  # noqa: E402
from tests.sync.trackers import tracker_runtime  # noqa: E402


def slow(mock: responses.RequestsMock, latency: float) -> None:
    """Hold every answer of the fake tracker for ``latency`` seconds."""
    for registered in mock.registered():
        callback = registered.callback

        def delayed(request, _callback=callback):
            time.sleep(latency)
            return _callback(request)

        registered.callback = delayed


def calls(mock, since: int) -> Counter:
    return Counter(f"{call.request.method}" for call in list(mock.calls)[since:])


def file_needs(runtime, count: int) -> list[str]:
    return [create_need(runtime, validate_need(need_data(title=f"Need {n}"), runtime.settings, now=NOW)).ref
            for n in range(count)]


def per_need_calls(kind: str, latency: float, home: Path) -> dict[str, Counter]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if kind == "jira":
            FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        else:
            FakeGitHub(mock, repos=["acme/billing"])
        slow(mock, latency)
        runtime = tracker_runtime(kind, home)  # jobs run inline
        start = len(mock.calls)
        need = create_need(runtime, validate_need(need_data(), runtime.settings, now=NOW))
        created = calls(mock, start)
        start = len(mock.calls)
        runtime.queue.enqueue("sync_need", need.ref)
        unchanged = calls(mock, start)
        start = len(mock.calls)
        update_need(runtime, need.ref, validate_need(need_data(title="Edited by CS"), runtime.settings, now=NOW))
        edited = calls(mock, start)
        runtime.engine.dispose()
    return {"create": created, "unchanged re-sync": unchanged, "edit": edited}


def sync_many(kind: str, count: int, workers: int, latency: float, home: Path, bulk: bool) -> tuple[float, int, int]:
    """Seconds to sync ``count`` needs, tracker calls made, issues at the tracker."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        if kind == "jira":
            fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        else:
            fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = tracker_runtime(kind, home, immediate=False)  # needs wait in the queue file
        refs = file_needs(runtime, count)
        slow(mock, latency)
        runtime.adapter()  # built once, shared by the threads as in a worker process
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            if bulk:
                chunk = max(1, count // workers)
                batches = [refs[i:i + chunk] for i in range(0, count, chunk)]
                outcomes = [o for result in pool.map(lambda b: outbound.sync_needs_bulk(runtime, b), batches)
                            for o in result.values()]
            else:
                outcomes = list(pool.map(lambda ref: outbound.sync_need_to_tracker(runtime, ref) or "synced", refs))
        elapsed = time.perf_counter() - started
        assert outcomes.count("synced") == count, Counter(outcomes)
        issues = len(fake.issues) if kind == "jira" else len(
            runtime.adapter().wrapped.updated_since(["acme/billing"], NOW.replace(year=2000)))
        total = len(mock.calls)
        runtime.engine.dispose()
    return elapsed, total, issues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--smoke", action="store_true", help="10 needs, 1 ms a call: that every step runs")
    options = parser.parse_args()
    if options.smoke:
        options.needs, options.latency = 10, 0.001
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        print(f"Tracker calls per synced need (fake tracker, {options.latency * 1000:.0f} ms per call)")
        print(f"{'tracker':<8} {'step':<18} {'reads':>6} {'writes':>7}")
        for kind in ("jira", "github"):
            for step, counted in per_need_calls(kind, options.latency, home / f"calls-{kind}").items():
                reads = counted["GET"]
                writes = sum(counted.values()) - reads
                print(f"{kind:<8} {step:<18} {reads:>6} {writes:>7}   {dict(counted)}")
        print()
        print(f"Syncing {options.needs} needs on {options.workers} threads, {options.latency * 1000:.0f} ms per call")
        print(f"{'tracker':<8} {'mode':<22} {'seconds':>8} {'needs/s':>8} {'calls':>7} {'issues':>7}")
        rows = [("jira", "one job per need", False), ("jira", "bulk create (50/call)", True),
                ("github", "one job per need", False)]
        for kind, mode, bulk in rows:
            elapsed, total, issues = sync_many(kind, options.needs, options.workers, options.latency,
                                               home / f"many-{kind}-{bulk}", bulk)
            print(f"{kind:<8} {mode:<22} {elapsed:>8.1f} {options.needs / elapsed:>8.1f} {total:>7} {issues:>7}")
        floor = options.needs / 80 * 60
        print(f"github   paced floor (80 creates/min)  {floor:>8.1f}   (GitHub's secondary limit; measured above "
              f"without sleeping)")


if __name__ == "__main__":
    main()
