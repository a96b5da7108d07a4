"""The job queue: Huey (SQLite file by default, Redis when configured) plus the job ledger in the store.

Every job is written to the ``jobs`` table before it is queued, so a job that fails for good stays
listed (``cocreate jobs``) with the tracker's message and can be retried; nothing is dropped.
"""

from __future__ import annotations

import logging
import uuid

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.exceptions import RetryTask

from plugin.errors import TrackerError
from plugin.settings import queue_url
from sync.store import Job, utcnow

log = logging.getLogger("cocreate.jobs")

MAX_ATTEMPTS = 6
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, never less than ``retry_after``."""
    delay = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    return max(delay, retry_after or 0.0)


def make_huey(runtime, environ, immediate: bool) -> Huey:
    if immediate:
        return MemoryHuey("cocreate", immediate=True)
    url = queue_url(runtime.settings, environ)
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"queue.url {url!r}: only redis:// URLs are supported; leave it empty for SQLite")
        return RedisHuey("cocreate", url=url)
    return SqliteHuey("cocreate", filename=str(runtime.home / "queue.db"))


class Queue:
    """Enqueues jobs by name and runs them with retries, keeping the ledger current."""

    def __init__(self, runtime, environ, immediate: bool = False):
        from sync.jobs import JOBS

        self.runtime = runtime
        self.huey = make_huey(runtime, environ, immediate)
        self.consumer = None
        self._tasks = {name: self._register(name, function) for name, function in JOBS.items()}
        if runtime.settings.tracker is not None and not immediate:
            self._schedule_reconcile(runtime.settings.sync.reconcile_minutes)

    def _register(self, name, function):
        def run(job_id: str, *args):
            self._run(job_id, name, function, args)

        run.__name__ = name
        return self.huey.task(name=name)(run)

    def _schedule_reconcile(self, minutes: int) -> None:
        """Every ``minutes``, queue a reconcile (a lost webhook delays a status, never loses it)."""

        @self.huey.periodic_task(crontab(minute=f"*/{minutes}"), name="schedule_reconcile")
        def schedule_reconcile():
            self.enqueue("reconcile")

    def enqueue(self, name: str, *args, ref: str | None = None) -> str:
        """Record the job, then queue it; returns the job id."""
        job_id = uuid.uuid4().hex
        with self.runtime.Session.begin() as session:
            session.add(Job(id=job_id, name=name, args=list(args), ref=ref, state="queued"))
        self._tasks[name](job_id, *args)
        return job_id

    def retry(self, job_id: str) -> bool:
        """Queue a failed job again; False when there is no such failed job."""
        with self.runtime.Session.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.state != "failed":
                return False
            job.state, job.attempts = "queued", 0
            name, args = job.name, list(job.args)
        self._tasks[name](job_id, *args)
        return True

    def _run(self, job_id: str, name: str, function, args) -> None:
        with self.runtime.Session.begin() as session:
            job = session.get(Job, job_id)
            if job is None:  # queued by an older ledger; keep running it
                job = Job(id=job_id, name=name, args=list(args), state="queued")
                session.add(job)
            job.state = "running"
            job.attempts += 1
            attempt = job.attempts
        try:
            function(self.runtime, *args)
        except Exception as exc:
            # Tracker errors and "not now" conditions carry ``retryable``; anything else is a bug to show.
            if getattr(exc, "retryable", False) and attempt < MAX_ATTEMPTS and not self.huey.immediate:
                delay = backoff_delay(attempt, getattr(exc, "retry_after", None))
                self._finish(job_id, "queued", str(exc))
                log.warning("job %s%s: %s; try %d in %.0fs", name, tuple(args), exc, attempt + 1, delay)
                raise RetryTask(delay=delay) from exc
            if isinstance(exc, TrackerError) or hasattr(exc, "retryable"):
                self._finish(job_id, "failed", str(exc))
                log.error("job %s%s failed: %s", name, tuple(args), exc)
            else:
                self._finish(job_id, "failed", f"{type(exc).__name__}: {exc}")
                log.exception("job %s%s crashed", name, tuple(args))
        else:
            self._finish(job_id, "done", None)

    def _finish(self, job_id: str, state: str, error: str | None) -> None:
        with self.runtime.Session.begin() as session:
            job = session.get(Job, job_id)
            job.state, job.last_error, job.updated_at = state, error, utcnow()

    def pending_count(self) -> int:
        return self.huey.pending_count()

    @property
    def consumer_running(self) -> bool:
        return self.huey.immediate or (self.consumer is not None and not self.consumer.stop_flag.is_set())

    def start_consumer(self, workers: int) -> None:
        """Run jobs in this process, on worker threads (``cocreate serve`` on the embedded default)."""
        self.consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
        self.consumer.start()

    def stop_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=True)
