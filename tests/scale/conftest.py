"""Fixtures for the scale-out tests: PostgreSQL and Redis for the session, a fresh cluster for each test.

Every figure a test records with ``scale_report`` is printed (``pytest -s``), listed in the terminal summary,
and written to ``test-output/scale-summary.json``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.notify.servers import http_recorder, smtp_server  # noqa: F401 - fixtures
from tests.scale.cluster import ROOT, Cluster
from tests.scale.fake_tracker_server import FakeTrackerServer
from tests.scale.servers import PostgresServer, RedisServer

SUMMARY = ROOT / "test-output" / "scale-summary.json"
_REPORTS: dict[str, dict] = {}
_DATABASES = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster from Debian's package for the whole session (see ``servers.py`` for root)."""
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def database(postgres) -> str:
    """A fresh database on the session's cluster; its URL."""
    return postgres.create_database(f"scale_{next(_DATABASES)}")


@pytest.fixture
def tracker():
    with FakeTrackerServer(("acme/billing",), latency=(0.002, 0.02)) as server:
        yield server


@pytest.fixture
def make_cluster(request, tmp_path, database, redis_server, tracker, http_recorder, smtp_server):  # noqa: F811
    """``make_cluster(**options)``: a scaled-out Cocreate on a fresh database and an empty Redis (options go to
    :class:`Cluster`); start processes with ``start_web``, ``start_gunicorn`` and ``start_worker``. Every process
    is stopped afterwards, and their logs are printed if the test failed."""
    made: list[Cluster] = []

    def make(**options) -> Cluster:
        redis_server.flush()
        options.setdefault("database_url", database)
        options.setdefault("queue_url", redis_server.url())
        made.append(Cluster(tmp_path, tracker=tracker, recorder=http_recorder, smtp=smtp_server, **options))
        return made[-1]

    try:
        yield make
    finally:
        report = getattr(request.node, "rep_call", None)
        for deployment in made:
            deployment.close()
            if report is not None and report.failed:
                print(f"\n===== process logs of {request.node.name} =====\n{deployment.logs_tail()}")


@pytest.fixture
def cluster(make_cluster) -> Cluster:
    """A scaled-out Cocreate whose database the test process migrated first."""
    return make_cluster()


@pytest.fixture
def scale_report(request):
    """``scale_report(**figures)``: print the figures now and keep them for the summary and the JSON file."""

    def record(**figures) -> None:
        _REPORTS.setdefault(request.node.name, {}).update(figures)
        print(f"\n[{request.node.name}] " + json.dumps(figures, ensure_ascii=False, default=str))

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_terminal_summary(terminalreporter):
    if not _REPORTS:
        return
    terminalreporter.section("scale-out figures")
    for name, figures in _REPORTS.items():
        terminalreporter.write_line(f"{name}: " + json.dumps(figures, ensure_ascii=False, default=str))
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(_REPORTS, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    terminalreporter.write_line(f"written to {Path(SUMMARY).relative_to(ROOT)}")
