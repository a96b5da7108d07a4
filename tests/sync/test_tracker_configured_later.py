"""Needs filed while no tracker was configured become issues at the next start once one is, with no command,
exactly once: the fake GitHub driven through the real PyGithub client, every answer checked against the contract."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sync.ledger.store import Job, Need
from sync.loop import outbound
from tests.factories import file_need
from tests.github.fake_github import checked_site
from tests.sync.trackers import tracker_runtime
from webhooks.cli import commands, main


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


def start(command: str, runtime, monkeypatch) -> str:
    """Run ``cocreate serve`` or ``cocreate worker`` on ``runtime`` (its jobs run as they are queued) up to the
    point where it would serve or take jobs; returns what it printed."""
    monkeypatch.setattr(commands, "runtime_for", lambda _config, **_kwargs: runtime)
    monkeypatch.setattr(commands.os, "umask", lambda _mask: 0o022)
    monkeypatch.setattr(commands.signal, "signal", lambda *_args: None)
    monkeypatch.setattr("waitress.serve", lambda *_args, **_kwargs: None)
    for name in ("start_consumer", "run_consumer"):
        monkeypatch.setattr(runtime.queue, name, lambda _workers: None)
    result = CliRunner().invoke(main, [command], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def needs(runtime) -> list[tuple[str, str | None, str]]:
    with runtime.Session() as session:
        return [tuple(row) for row in session.execute(
            select(Need.ref, Need.issue_key, Need.sync_state).order_by(Need.id))]


def resume_jobs(runtime) -> list[str]:
    with runtime.Session() as session:
        return list(session.scalars(select(Job.state).where(Job.name == "resume_syncs").order_by(Job.created_at)))


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_needs_filed_before_a_tracker_become_issues_at_the_next_start_and_only_once(
        site, tmp_path, monkeypatch, command):
    home = tmp_path / "home"
    before = tracker_runtime("github", home, tracker=False)
    for n in range(14):
        file_need(before, title=f"Need {n}")
    assert {state for _ref, _key, state in needs(before)} == {"waiting_for_tracker"}
    start(command, before, monkeypatch)  # a restart with still no tracker queues nothing
    assert resume_jobs(before) == [] and site.writes == 0
    before.engine.dispose()

    monkeypatch.setattr(outbound, "RESUME_CHUNK", 5)  # paced: 5 + 5 + 4, a job each
    after = tracker_runtime("github", home)  # the same data, GitHub now configured
    start(command, after, monkeypatch)
    assert needs(after) == [(f"N-{n:04d}", f"acme/billing#{n}", "synced") for n in range(1, 15)]
    assert resume_jobs(after) == ["done", "done", "done"]
    assert site.writes == 14
    after.engine.dispose()

    again = tracker_runtime("github", home)
    start(command, again, monkeypatch)  # a second restart: nothing waits, nothing is queued, no issue made
    assert resume_jobs(again) == ["done", "done", "done"] and site.writes == 14
    assert len(site.issues_in("acme/billing")) == 14
    again.engine.dispose()


def test_a_restart_while_the_needs_wait_in_the_queue_queues_them_once(site, tmp_path):
    home = tmp_path / "home"
    before = tracker_runtime("github", home, tracker=False)
    for n in range(3):
        file_need(before, title=f"Need {n}")
    before.engine.dispose()

    queued = tracker_runtime("github", home, immediate=False)  # no consumer runs: the job stays queued
    assert outbound.queue_resume(queued) is True
    assert outbound.queue_resume(queued) is False  # restarted before the job ran: the queued one does the work
    assert resume_jobs(queued) == ["queued"]
    queued.engine.dispose()

    runner = tracker_runtime("github", home)
    assert outbound.queue_resume(runner) is False  # still queued: left to the worker that takes it
    job = runner.Session().scalars(select(Job).where(Job.name == "resume_syncs")).one()
    outbound.resume_syncs(runner, *job.args)
    assert [key for _ref, key, _state in needs(runner)] == [f"acme/billing#{n}" for n in range(1, 4)]
    outbound.resume_syncs(runner, *job.args)  # the same job again (a duplicate delivery): no second issue
    assert site.writes == 3 and len(site.issues_in("acme/billing")) == 3
    runner.engine.dispose()
