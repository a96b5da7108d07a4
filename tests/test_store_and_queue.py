"""The ledger schema matches its migrations; intake commits before queueing; failed jobs are kept and retried."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from plugin.errors import TrackerInvalidField, TrackerUnavailable
from plugin.need import InvalidNeed, validate_need
from sync import runtime as runtime_module
from sync.intake import InvalidUpload, Upload, create_need
from sync.jobs.queue import backoff_delay
from sync.ledger.store import Job, Need, StatusChange
from tests.factories import need_data
from tests.images import png_bytes


# SQLite cannot reflect an expression index (remarks sort by their start), so Alembic skips comparing it and says
# so; the next test compares the indexes by name instead.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_models(runtime):
    from sync.ledger.search import modelled
    from sync.ledger.store import Base

    with runtime.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": modelled})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_migrations_make_the_models_indexes(runtime):
    from sync.ledger.store import Base

    with runtime.engine.connect() as connection:
        made = set(connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").scalars())
    assert made == {index.name for table in Base.metadata.tables.values() for index in table.indexes}


def test_sqlite_runs_in_wal_mode(runtime):
    with runtime.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_intake_without_a_tracker_stores_need_and_history_and_queues_nothing(runtime, make_need):
    need = make_need(uploads=[Upload("shot.png", png_bytes())])
    assert need.ref == "N-0001"
    with runtime.Session() as session:
        stored = session.scalars(select(Need)).one()
        assert stored.sync_state == "waiting_for_tracker"
        assert stored.reported_at == dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
        assert [change.status for change in stored.history] == ["new"]
        assert stored.attachments[0].content_type == "image/png"
        assert (runtime.uploads / stored.attachments[0].stored_name).read_bytes() == png_bytes()
        assert session.scalars(select(Job)).all() == []  # no job that could only record "waiting"


def test_refs_are_sequential_and_never_reused(runtime, make_need):
    first, second = make_need(), make_need()
    assert (first.ref, second.ref) == ("N-0001", "N-0002")
    with runtime.Session.begin() as session:
        session.delete(session.get(Need, second.id))
    assert make_need().ref == "N-0003"


def test_bad_upload_stores_nothing(runtime):
    need_input = validate_need(need_data(), runtime.settings)
    with pytest.raises(InvalidUpload, match="not a PNG"):
        create_need(runtime, need_input, [Upload("ok.png", png_bytes()), Upload("evil.png", b"<svg/>")])
    with pytest.raises(InvalidUpload, match="larger than"):
        create_need(runtime, need_input, [Upload("big.png", png_bytes() + b"0" * runtime.settings.upload_max_bytes)])
    with runtime.Session() as session:
        assert session.scalar(select(func.count()).select_from(Need)) == 0
    assert not runtime.uploads.exists() or not any(runtime.uploads.iterdir())


def test_validation_lists_every_problem(settings):
    with pytest.raises(InvalidNeed) as caught:
        validate_need(need_data(title="", urgency="someday", reported_at="yesterday", reporter_email="x",
                                stage="later", extra="?"), settings)
    fields = caught.value.by_field()
    assert set(fields) == {"title", "urgency", "reported_at", "reporter_email", "stage", "extra"}
    assert fields["urgency"] == ["Unknown urgency someday."]


def test_future_report_time_is_refused(settings):
    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    with pytest.raises(InvalidNeed, match="future"):
        validate_need(need_data(reported_at="2026-12-01T00:00:00"), settings, now=now)


@pytest.fixture
def flaky_job(monkeypatch):
    """Register a job that raises what the test puts in ``errors`` (one per call), then succeeds."""
    errors: list[Exception] = []
    calls: list[str] = []

    def flaky(runtime, ref):
        calls.append(ref)
        if errors:
            raise errors.pop(0)

    monkeypatch.setitem(runtime_module.JOBS, "flaky", flaky)
    return errors, calls


def test_client_error_is_kept_as_failed_with_message_and_retried(settings, tmp_path, flaky_job):
    from sync.runtime import build_runtime

    errors, calls = flaky_job
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)}, immediate=True)
    errors.append(TrackerInvalidField("Field 'priority' cannot be set. It is not on the appropriate screen", 400))
    job_id = runtime.queue.enqueue("flaky", "N-0001", ref="N-0001")
    with runtime.Session() as session:
        job = session.get(Job, job_id)
        assert (job.state, job.attempts) == ("failed", 1)
        assert "priority" in job.last_error and "HTTP 400" in job.last_error
    assert runtime.queue.retry(job_id) is True
    assert runtime.queue.retry(job_id) is False  # done now, nothing to retry
    with runtime.Session() as session:
        assert session.get(Job, job_id).state == "done"
    assert calls == ["N-0001", "N-0001"]


def test_a_retry_the_queue_cannot_take_stays_queued_for_the_sweep(settings, tmp_path, flaky_job, monkeypatch,
                                                                   caplog):
    from sync.runtime import build_runtime

    errors, _calls = flaky_job
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)}, immediate=True)
    errors.append(TrackerInvalidField("Field 'priority' cannot be set", 400))
    job_id = runtime.queue.enqueue("flaky", "N-0001", ref="N-0001")

    def storage_down(*args, **kwargs):
        raise ConnectionError("the queue's storage is down")

    monkeypatch.setitem(runtime.queue._tasks, "flaky", storage_down)
    with caplog.at_level("ERROR", logger="cocreate.jobs"):
        assert runtime.queue.retry(job_id) is True  # no traceback for `cocreate jobs retry`
    with runtime.Session() as session:
        assert session.get(Job, job_id).state == "queued"  # the heartbeat sweep sends it once the storage answers
    assert "could not be queued" in caplog.text


def test_unexpected_crash_is_recorded_not_lost(settings, tmp_path, flaky_job):
    from sync.runtime import build_runtime

    errors, _calls = flaky_job
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)}, immediate=True)
    errors.append(KeyError("boom"))
    job_id = runtime.queue.enqueue("flaky", "N-0001")
    with runtime.Session() as session:
        assert session.get(Job, job_id).last_error == "KeyError: 'boom'"


def test_retryable_errors_are_retried_by_the_consumer(settings, tmp_path, flaky_job, monkeypatch):
    """With the real SQLite queue and a consumer thread, a 503 is retried and the job then succeeds."""
    import time

    from sync.jobs import queue as queue_module
    from sync.runtime import build_runtime

    monkeypatch.setattr(queue_module, "BACKOFF_BASE", 0.05)
    errors, calls = flaky_job
    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)})
    errors.extend([TrackerUnavailable("Service Unavailable", 503), TrackerUnavailable("Service Unavailable", 503)])
    runtime.queue.start_consumer(workers=1)
    try:
        job_id = runtime.queue.enqueue("flaky", "N-0001")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with runtime.Session() as session:
                job = session.get(Job, job_id)
                if job.state == "done":
                    break
            time.sleep(0.05)
    finally:
        runtime.queue.stop_consumer()
    assert (job.state, job.attempts) == ("done", 3)
    assert len(calls) == 3


def test_backoff_grows_and_honours_retry_after():
    assert [backoff_delay(attempt) for attempt in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff_delay(1, retry_after=30) == 30
    assert backoff_delay(30) == 600.0


def test_status_history_source_is_recorded(runtime, make_need):
    make_need()
    with runtime.Session() as session:
        assert session.scalars(select(StatusChange.source)).all() == ["cs"]


def test_queued_messages_name_jobs_as_before_the_queue_moved(settings, tmp_path):
    """A message queued by an earlier version (``sync.queue.sync_need``) still finds its job."""
    from sync.runtime import JOBS, build_runtime

    runtime = build_runtime(settings, {"COCREATE_HOME": str(tmp_path)})
    try:
        registry = runtime.queue.huey._registry
        for name in (*JOBS, "schedule_check_sla", "schedule_check_meetings"):  # and the periodic ticks
            assert registry.string_to_task(f"sync.queue.{name}").__name__ == name
    finally:
        runtime.close()
