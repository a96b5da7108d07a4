"""/healthz, /metrics and JSON logs with context."""

import json
import logging

import pytest
import responses

from sync.jobs.logs import JsonFormatter, log_context
from tests.jira.fake_jira import FakeJira
from tests.sync.trackers import tracker_runtime
from webhooks.app import create_app


def test_healthz_without_tracker(client, runtime, make_need):
    make_need()  # waits for a tracker: no job
    runtime.queue.enqueue("check_sla")
    report = client.get("/healthz").get_json()
    assert report["status"] == "ok" and report["database"]["status"] == "ok"
    assert report["queue"]["jobs"]["done"] == 1 and report["queue"]["consumer_running"] is True
    assert report["tracker"] is None


def test_healthz_reports_database_down(app, runtime):
    runtime.engine.dispose()
    (runtime.home / "cocreate.db").unlink()
    (runtime.home / "cocreate.db").mkdir()  # the file is now unopenable
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503 and answer.get_json()["database"]["status"] == "error"


def test_healthz_keeps_the_error_detail_for_the_log(tmp_path, caplog):
    """Database, queue and tracker parts say only what is down; the driver's text (host, path, SQL) is logged."""
    runtime = tracker_runtime("jira", tmp_path)
    client = create_app({"TESTING": True}, runtime=runtime).test_client()

    def unreachable(*args, **kwargs):
        raise RuntimeError("could not connect to db.internal:5432 as cocreate, password=hunter2")

    runtime.Session = unreachable
    runtime.queue.pending_count = unreachable
    with caplog.at_level(logging.WARNING, logger="cocreate.health"):
        answer = client.get("/healthz")
    runtime.engine.dispose()

    report = answer.get_json()
    assert answer.status_code == 503
    assert report["database"]["status"] == "error" and report["queue"]["status"] == "error"
    assert report["tracker"]["kind"] == "jira" and "error" in report["tracker"]
    for secret in ("RuntimeError", "db.internal", "hunter2"):
        assert secret not in answer.get_data(as_text=True)
    assert "hunter2" in caplog.text


def test_every_job_that_calls_the_tracker_dates_the_last_tracker_call():
    from sync.runtime import JOBS
    from webhooks.health import TRACKER_JOBS

    assert set(JOBS) == {*TRACKER_JOBS, "check_sla", "check_import", "check_meetings"}, (
        "a new job: say whether it calls the tracker")


def test_an_action_item_issue_counts_as_a_tracker_call(tmp_path):
    import datetime as dt

    from sync.ledger.store import Job

    runtime = tracker_runtime("github", tmp_path)
    created = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    with runtime.Session.begin() as session:
        session.add(Job(id="a1", name="create_action_item_issue", args=[7], state="done", created_at=created,
                        updated_at=created))
        session.add(Job(id="s1", name="check_sla", args=[], state="done", created_at=created,
                        updated_at=created + dt.timedelta(hours=1)))
    tracker = create_app({"TESTING": True}, runtime=runtime).test_client().get("/healthz").get_json()["tracker"]
    runtime.close()
    assert tracker["last_success"] == created.isoformat() and tracker["last_failure"] is None


def test_metrics_and_health_with_a_tracker(tmp_path):
    from tests.e2e.loop import jira_issue_updated, post_jira
    from tests.factories import file_need

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        runtime = tracker_runtime("jira", tmp_path)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        fake.set_status("CS-1", "Done", "done")
        post_jira(client, jira_issue_updated(fake.issue_json("CS-1")), "jira-secret")
        post_jira(client, {"webhookEvent": "worklog_created"}, "jira-secret")
        text = client.get("/metrics").get_data(as_text=True)
        health = client.get("/healthz").get_json()
    assert 'cocreate_deliveries_total{outcome="queued",source="jira"} 1.0' in text
    assert 'cocreate_deliveries_total{outcome="ignored",source="jira"} 1.0' in text
    # The need's first sync, and the one that writes the issue's lower demand score once its need is done.
    assert 'cocreate_jobs{name="sync_need",state="done"} 2.0' in text
    assert 'cocreate_outbox{kind="comment",state="sent"} 1.0' in text
    assert 'cocreate_needs{sync_state="synced"} 1.0' in text
    assert "cocreate_sync_lag_seconds 0.0" in text
    assert 'cocreate_tracker_calls_total{operation="create_issue",outcome="ok",tracker="jira"}' in text
    assert health["tracker"]["kind"] == "jira" and health["tracker"]["last_success"] is not None
    runtime.engine.dispose()


def test_json_logs_carry_context():
    record = logging.LogRecord("cocreate.jobs", logging.WARNING, __file__, 1, "retry %d", (2,), None)
    with log_context(delivery_id="d-42", need_ref="N-0007"):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "retry 2" and entry["level"] == "WARNING"
    assert entry["delivery_id"] == "d-42" and entry["need_ref"] == "N-0007"
    assert "delivery_id" not in json.loads(JsonFormatter().format(record))


@pytest.fixture
def _restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_serve_style_logging_writes_json_lines(capsys, _restore_logging):
    from sync.jobs.logs import configure

    configure("INFO", "json")
    with log_context(job="sync_need", need_ref="N-0001"):
        logging.getLogger("cocreate.sync").info("synced")
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["logger"] == "cocreate.sync" and entry["need_ref"] == "N-0001" and entry["job"] == "sync_need"


def test_the_startup_heap_is_frozen_out_of_full_collections():
    import gc

    from webhooks.app import freeze_startup_heap

    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > max(before, 10_000)  # the app's modules, classes, mappers, routes ...
    finally:
        if before == 0:  # give back only what this test froze
            gc.unfreeze()


def test_cocreate_serve_freezes_the_heap_once_the_app_is_built(tmp_path, monkeypatch):
    from unittest import mock

    from click.testing import CliRunner

    from webhooks.cli import main

    monkeypatch.setenv("COCREATE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("signal.signal", lambda *args: None)  # keep pytest's own SIGTERM handling
    calls = []
    with mock.patch("webhooks.app.freeze_startup_heap", side_effect=lambda: calls.append("freeze")), \
            mock.patch("waitress.serve", side_effect=lambda app, **kwargs: calls.append(type(app).__name__)):
        result = CliRunner().invoke(main, ["serve", "--no-worker", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert calls == ["freeze", "Flask"]  # frozen after the app is built, before it serves


def test_gunicorn_freezes_each_worker_once_the_app_is_built():
    import runpy
    from pathlib import Path
    from unittest import mock

    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"))
    with mock.patch("webhooks.app.freeze_startup_heap") as freeze:
        conf["post_worker_init"](worker=None)
    freeze.assert_called_once_with()
