"""The job queue: Huey (SQLite file by default, Redis when configured) plus the job ledger in the store.

Every job is written to the ``jobs`` table before it is queued, so a job that fails for good stays
listed (``cocreate jobs``) with the tracker's message and can be retried; nothing is dropped.

The ledger, not the queue's storage, is the truth: a worker claims a job in the ledger before running it
(so one job never runs twice at once, whatever copies of its message exist), and every consumer's heartbeat
renews the jobs it runs. A job whose heartbeat stopped (its worker was killed or its machine lost) or whose
message is in no queue (a process died between the commit and the push) is queued again by the heartbeat
of any other consumer: a crash delays a job by about ``JOB_LEASE``, never loses it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.exceptions import RetryTask
from huey.storage import RedisStorage
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from plugin.errors import TrackerError
from plugin.loading import queue_url
from sync.jobs.logs import log_context
from sync.jobs.registry import JobFunction
from sync.ledger.store import Job, utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.jobs")

MAX_ATTEMPTS = 6
BACKOFF_BASE = 2.0
BACKOFF_CAP = 600.0
TASK_NAMESPACE = "sync.queue"
"""The prefix of every job's name in queued messages (``sync.queue.sync_need``). Huey names a task by its
module, so it is fixed here: messages queued before the queue moved to ``sync.jobs.queue`` still run."""
JOB_LEASE = 30.0
"""Seconds a running job (and the need it syncs) stays claimed without a heartbeat; heartbeats come six
times as often. A job not renewed for this long lost its worker and is queued again."""


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, never less than ``retry_after``."""
    delay = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    return max(delay, retry_after or 0.0)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (restarting, failing over): worth a retry."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


@dataclass(frozen=True)
class PendingJob:
    """A job written to the ledger in a caller's transaction, to be pushed with ``Queue.send`` after the commit."""

    id: str
    name: str
    args: tuple
    ref: str | None = None

    def ledger_row(self) -> Job:
        """The job's row in the ledger, queued."""
        return Job(id=self.id, name=self.name, args=list(self.args), ref=self.ref, state="queued")


def make_huey(runtime: Runtime, environ, immediate: bool) -> Huey:
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

    def __init__(self, runtime: Runtime, environ: Mapping[str, str], jobs: Mapping[str, JobFunction],
                 immediate: bool = False):
        self.runtime = runtime
        self.huey = make_huey(runtime, environ, immediate)
        self.consumer = None
        self.lease = dt.timedelta(seconds=JOB_LEASE)
        self._tasks = {name: self._register(name, function) for name, function in jobs.items()}
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self._renewals: list[Callable] = []
        self._heartbeat: threading.Thread | None = None
        self._stop_heartbeat = threading.Event()
        self._next_sweep = utcnow()
        if not immediate:
            self._schedule_periodic(runtime.settings)

    def _register(self, name, function):
        def run(job_id: str, *args):
            self._run(job_id, name, function, args)

        run.__name__ = name
        run.__module__ = TASK_NAMESPACE
        return self.huey.task(name=name)(run)

    def _schedule_periodic(self, settings) -> None:
        """Reconcile with the tracker every ``sync.reconcile_minutes`` (a lost webhook delays a status, never
        loses it), check SLA timers every 5 minutes (escalations go out once per breach) and projects' regular
        meetings every hour (a reminder goes out once per overdue period)."""
        if settings.tracker is not None:
            self._periodic("schedule_reconcile", crontab(minute=f"*/{settings.sync.reconcile_minutes}"), "reconcile")
        self._periodic("schedule_check_sla", crontab(minute="*/5"), "check_sla")
        self._periodic("schedule_check_meetings", crontab(minute="17"), "check_meetings")  # hourly: meetings

    def _periodic(self, name: str, schedule, job: str) -> None:
        """A periodic task that queues ``job``, named ``sync.queue.<name>`` like the jobs (Huey names a task after
        its function's module), so a tick an earlier version queued still runs."""
        def tick():
            self.enqueue(job)

        tick.__name__, tick.__module__ = name, TASK_NAMESPACE
        self.huey.periodic_task(schedule, name=name)(tick)

    def enqueue(self, name: str, *args, ref: str | None = None) -> str:
        """Record the job, then queue it; returns the job id."""
        with self.runtime.Session.begin() as session:
            job = self.record(session, name, *args, ref=ref)
        self.send(job)
        return job.id

    def record(self, session, name: str, *args, ref: str | None = None) -> PendingJob:
        """Write a job into ``session``'s transaction, beside the change it follows from; ``send`` it after the
        commit. Should the process die in between, the heartbeat sweep finds the job in no queue and sends it."""
        job = self.pending(name, *args, ref=ref)
        session.add(job.ledger_row())
        return job

    def pending(self, name: str, *args, ref: str | None = None) -> PendingJob:
        """A new job, not yet in the ledger: for a writer that puts it there itself (``sync.jobs.inbox``)."""
        if name not in self._tasks:
            raise KeyError(f"no job named {name!r}")
        return PendingJob(uuid.uuid4().hex, name, args, ref)

    def send(self, *jobs: PendingJob) -> None:
        """Push recorded jobs to the queue's storage (several to Redis in one command). A push that fails is
        logged, not raised: the job is in the ledger, and the heartbeat sweep sends it again once the storage
        answers."""
        storage = self.huey.storage
        if len(jobs) > 1 and isinstance(storage, RedisStorage) and not self.huey.immediate:
            try:
                # What RedisStorage.enqueue does for each task (LPUSH onto the queue's list), for all of them in
                # one LPUSH: Redis pushes the values in the order given, so the consumers (BRPOP) take them in
                # that order, as after one LPUSH each.
                messages = [self.huey.serialize_task(self._tasks[job.name].s(job.id, *job.args, id=job.id))
                            for job in jobs]
                storage.conn.lpush(storage.queue_key, *messages)
            except Exception:
                log.exception("%d jobs are recorded but could not be queued; the heartbeat sweep will queue them",
                              len(jobs))
            return
        for job in jobs:
            try:
                self._tasks[job.name](job.id, *job.args, id=job.id)  # the queue's message id is the job's
            except Exception:  # the storage (Redis, the SQLite queue file) is down; the ledger keeps the job
                log.exception("job %s%s is recorded but could not be queued; the heartbeat sweep will queue it",
                              job.name, job.args)

    def retry(self, job_id: str) -> bool:
        """Queue a failed job again; False when there is no such failed job."""
        with self.runtime.Session.begin() as session:
            job = session.get(Job, job_id)
            if job is None or job.state != "failed":
                return False
            job.state, job.attempts = "queued", 0
            again = PendingJob(job_id, job.name, tuple(job.args), job.ref)
        self.send(again)
        return True

    def _run(self, job_id: str, name: str, function, args) -> None:
        with log_context(job=name, job_id=job_id, need_ref=args[0] if name == "sync_need" and args else None,
                         issue_key=args[1] if name == "apply_issue_change" and len(args) > 1 else None):
            self._run_logged(job_id, name, function, args)

    def _claim(self, job_id: str, name: str, args) -> int | None:
        """Mark the job running here and return its attempt number; None when it is done, failed, or running
        under a live heartbeat elsewhere (this message is a copy: the sweep or a redelivery sent it twice)."""
        now = utcnow()
        with self.runtime.Session.begin() as session:
            attempt = session.scalar(
                update(Job).where(Job.id == job_id, or_(
                    Job.state == "queued", and_(Job.state == "running", Job.updated_at < now - self.lease)))
                .values(state="running", attempts=Job.attempts + 1, updated_at=now).returning(Job.attempts)
                .execution_options(synchronize_session=False))
            if attempt is not None:
                return attempt
            if session.get(Job, job_id) is not None:
                return None
            # Queued by an older ledger; keep running it.
            session.add(Job(id=job_id, name=name, args=list(args), state="running", attempts=1, updated_at=now))
            return 1

    def _run_logged(self, job_id: str, name: str, function, args) -> None:
        attempt = self._claim(job_id, name, args)
        if attempt is None:
            log.info("job %s%s is not queued any more (done, failed or running elsewhere); skipped", name,
                     tuple(args))
            return
        with self._lock:
            self._running.add(job_id)
        try:
            self._execute(job_id, name, function, args, attempt)
        finally:
            with self._lock:
                self._running.discard(job_id)

    def _execute(self, job_id: str, name: str, function, args, attempt: int) -> None:
        try:
            function(self.runtime, *args)
        except Exception as exc:
            # Tracker errors and "not now" conditions carry ``retryable``, and an unreachable database is
            # retried too (it restarts or fails over); anything else is a bug to show.
            retryable = getattr(exc, "retryable", False) or database_unavailable(exc)
            if retryable and attempt < MAX_ATTEMPTS and not self.huey.immediate:
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
        """Run jobs in this process, on worker threads (``cocreate serve`` on the embedded default).

        The process keeps its own signal handling: Huey's consumer takes SIGTERM, SIGINT and SIGHUP for itself,
        which would leave the web server running on ``systemctl stop``."""
        signals = [signum for signum in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)) if signum]
        handlers = {signum: signal.getsignal(signum) for signum in signals}
        self.consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
        self.start_heartbeat()
        self.consumer.start()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    def stop_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(graceful=True)
        self.stop_heartbeat()

    def run_consumer(self, workers: int) -> None:
        """Run jobs in this process until it is stopped (``cocreate worker``)."""
        self.consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
        self.start_heartbeat()
        try:
            self.consumer.run()
        finally:
            self.stop_heartbeat()

    # Heartbeat: renew what this process holds, queue again what dead processes held ----------------

    @contextlib.contextmanager
    def renewing(self, renew: Callable) -> Iterator[None]:
        """Inside the block, every heartbeat calls ``renew(session, until)`` to extend a lease this process holds
        (a need being synced) to ``until``; a killed process stops renewing and its lease runs out."""
        with self._lock:
            self._renewals.append(renew)
        try:
            yield
        finally:
            with self._lock:
                self._renewals.remove(renew)

    def start_heartbeat(self) -> None:
        if self._heartbeat is not None or self.huey.immediate:
            return
        self._stop_heartbeat.clear()
        self._heartbeat = threading.Thread(target=self._beat_forever, name="cocreate-heartbeat", daemon=True)
        self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        self._stop_heartbeat.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
            self._heartbeat = None

    def _beat_forever(self) -> None:
        while not self._stop_heartbeat.wait(self.lease.total_seconds() / 6):
            try:
                self.beat()
            except Exception:  # the database or the queue's storage is down: beat again, say so meanwhile
                log.warning("heartbeat failed; trying again", exc_info=True)

    def beat(self) -> list[str]:
        """Renew this process's running jobs and leases, then queue again what lost its worker or its message.
        Returns the ids of the jobs queued again."""
        now = utcnow()
        with self._lock:
            running, renewals = list(self._running), list(self._renewals)
        if running or renewals:
            with self.runtime.Session.begin() as session:
                if running:
                    session.execute(update(Job).where(Job.id.in_(running), Job.state == "running")
                                    .values(updated_at=now).execution_options(synchronize_session=False))
                for renew in renewals:
                    renew(session, now + self.lease)
        rescued = self._rescue_orphans(now)
        if now >= self._next_sweep:
            self._next_sweep = now + self.lease
            rescued += self._sweep_unqueued(now)
        return rescued

    def _requeue(self, job_id: str, state: str, cutoff: dt.datetime, now: dt.datetime) -> bool:
        """Take job ``job_id`` (still in ``state``, last touched before ``cutoff``) for queueing again; of several
        consumers doing so at once, one wins."""
        with self.runtime.Session.begin() as session:
            return bool(session.execute(
                update(Job).where(Job.id == job_id, Job.state == state, Job.updated_at < cutoff)
                .values(state="queued", updated_at=now).execution_options(synchronize_session=False)).rowcount)

    def _rescue_orphans(self, now: dt.datetime) -> list[str]:
        """Running jobs whose heartbeat stopped: their worker died mid-job. Queue them again."""
        return self._queue_again("running", now, 100,
                                 f"job %s%s: its worker stopped (no heartbeat for {self.lease.total_seconds():.0f}s); "
                                 "queued again")

    def _sweep_unqueued(self, now: dt.datetime) -> list[str]:
        """Queued jobs found in neither the queue nor the schedule a lease after they were last touched: the
        process that recorded them, or the worker that took their message, died before they ran. Send them again."""
        return self._queue_again("queued", now, 500, "job %s%s was in no queue; queued again")

    def _queue_again(self, state: str, now: dt.datetime, limit: int, warning: str) -> list[str]:
        """Send again (at most ``limit``) jobs in ``state`` untouched for a lease; a queued one only when its
        message is in neither the queue's storage nor its schedule. Log ``warning`` % (name, args) for each."""
        cutoff = now - self.lease
        with self.runtime.Session() as session:
            stale = session.execute(select(Job.id, Job.name, Job.args).where(
                Job.state == state, Job.updated_at < cutoff).limit(limit)).all()
        if not stale:
            return []
        present = ({task.args[0] for task in [*self.huey.pending(), *self.huey.scheduled()] if task.args}
                   if state == "queued" else set())
        rescued = []
        for job_id, name, args in stale:
            if job_id not in present and name in self._tasks and self._requeue(job_id, state, cutoff, now):
                log.warning(warning, name, tuple(args))
                self.send(PendingJob(job_id, name, tuple(args)))
                rescued.append(job_id)
        return rescued
