"""The webhook inbox: every delivery kept once, with the job it queues, durable before the receiver answers.

This is the receiver's hot path: a tracker waits for the answer, and the answer (2xx) may only come once the
delivery is committed. On PostgreSQL one writer thread per process commits the deliveries of all the requests
waiting at that moment together (group commit): one statement inserts the deliveries (``ON CONFLICT DO
NOTHING`` deduplicates by the tracker's delivery id) and, for those that were new, their jobs, in autocommit on
the runtime's ``inbox_engine``: one round trip and one commit for the whole group, atomic as every statement
is, with no ORM unit of work. Each request waits only for its group's commit, then answers; the writer pushes the
group's jobs to the queue in one pipeline. Alone (a quiet hour) a delivery is a group of one; under load the
groups grow and the cost of a delivery falls (``bench/load_bench.py``).

A group that the database refuses as a whole (one delivery holding what no column takes) is written again one
delivery at a time, so one bad delivery fails alone. A connection the server dropped (restart, fail-over) is
retried once on a fresh pool; if the database stays away, every request of the group gets the error (500) and
the tracker sends again.

The payload is stored as the sender's own JSON text when it can be (no re-encoding). On SQLite (the embedded
default: one process, one writer at a time anyway) the same two rows go through a session in the request's
thread; the outcome is the same.
"""

from __future__ import annotations

import codecs
import json
import logging
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from time import sleep
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from sync.jobs.queue import PendingJob
from sync.ledger.store import Delivery, utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger("cocreate.inbox")

GROUP_MAX = 500
"""Deliveries committed together at most."""
GATHER_SECONDS = 0.002
"""Under load (the writer's last group held more than one delivery), how long it lets deliveries gather before
taking the next group. As with PostgreSQL's ``commit_delay``, a little latency buys bigger groups, hence fewer
commits, round trips and thread hand-overs per delivery (``bench/load_bench.py``). A delivery arriving alone
(the last group held one) is written at once."""
WAIT_SECONDS = 30.0
"""How long a request waits for its group's commit before answering 500 (the writer is stuck)."""

INSERT_GROUP = """
WITH arriving AS (
    SELECT * FROM unnest(%(source)b::text[], %(delivery_id)b::text[], %(event)b::text[], %(issue_key)b::text[],
                         %(payload)b::text[], %(outcome)b::text[], %(job_id)b::text[], %(job_name)b::text[],
                         %(job_args)b::text[])
        AS a(source, delivery_id, event, issue_key, payload, outcome, job_id, job_name, job_args)
),
delivery AS (
    INSERT INTO deliveries (source, delivery_id, event, issue_key, payload, outcome, received_at)
    SELECT source, delivery_id, event, issue_key, payload::json, outcome, %(now)s FROM arriving
    ON CONFLICT (source, delivery_id) DO NOTHING
    RETURNING source, delivery_id
),
job AS (
    INSERT INTO jobs (id, name, args, ref, state, attempts, created_at, updated_at)
    SELECT a.job_id, a.job_name, a.job_args::json, a.issue_key, 'queued', 0, %(now)s, %(now)s
    FROM arriving a JOIN delivery d ON d.source = a.source AND d.delivery_id = a.delivery_id
    WHERE a.job_id IS NOT NULL
)
SELECT source, delivery_id FROM delivery
"""
_STOP = object()
"""Put by ``Inbox.close``: the writer stops after the group it is taking."""
COLUMNS = ("source", "delivery_id", "event", "issue_key", "payload", "outcome", "job_id", "job_name", "job_args")


@dataclass(frozen=True)
class Arrival:
    """One delivery as the receiver accepted it: who sent it, its id, event, outcome, issue and payload."""

    source: str
    delivery_id: str
    event: str
    outcome: str  # queued, ignored, unsupported
    issue_key: str | None
    payload: Mapping[str, Any]
    body: bytes
    """The raw body ``payload`` was parsed from."""


class _Waiting:
    """A request waiting for its delivery's commit: True (kept), False (a duplicate) or the error.

    The request blocks on a lock taken at creation, which the writer releases once (``finish``): a bare lock,
    because an ``Event`` costs the two threads a ``Condition`` in Python on every delivery."""

    __slots__ = ("_lock", "arrival", "error", "finished", "job", "kept")

    def __init__(self, arrival: Arrival, job: PendingJob | None):
        self.arrival, self.job = arrival, job
        self.kept: bool | None = None
        self.error: BaseException | None = None
        self.finished = False
        self._lock = threading.Lock()
        self._lock.acquire()

    def finish(self, kept: bool | None = None, error: BaseException | None = None) -> None:
        """Called by the writer only, once."""
        if not self.finished:
            self.kept, self.error, self.finished = kept, error, True
            self._lock.release()

    def wait(self, timeout: float) -> bool:
        return self._lock.acquire(timeout=timeout)

    def row(self) -> tuple:
        arrival, job = self.arrival, self.job
        return (arrival.source, arrival.delivery_id, arrival.event, arrival.issue_key,
                payload_text(arrival) if arrival.outcome == "queued" else "{}", arrival.outcome,
                job.id if job else None, job.name if job else None, json.dumps(list(job.args)) if job else None)


class Inbox:
    """``keep(arrival, job)`` for one process; on PostgreSQL it starts its writer thread on first use."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self._group_commit = runtime.engine.dialect.name == "postgresql"
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._held = threading.local()

    def keep(self, arrival: Arrival, job: PendingJob | None) -> bool:
        """Store the delivery and, when given, its job, committed together before returning, and push the job;
        False (nothing written, nothing pushed) when the tracker sent this delivery id before. Only a queued
        delivery keeps its payload (the job's hint); the others keep ``{}``."""
        if not self._group_commit:
            kept = _keep_in_session(self.runtime, arrival, job)
            if kept and job is not None:
                self.runtime.queue.send(job)
            return kept
        waiting = _Waiting(arrival, job)
        self._ensure_writer()
        self._waiting.put(waiting)
        if not waiting.wait(WAIT_SECONDS):
            raise TimeoutError(f"the inbox writer did not commit delivery {arrival.delivery_id} "
                               f"within {WAIT_SECONDS:.0f} s")
        if waiting.error is not None:
            raise waiting.error
        return bool(waiting.kept)

    def _ensure_writer(self) -> None:
        if self._writer is not None:
            return
        with self._start_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_forever, name="cocreate-inbox", daemon=True)
                self._writer.start()

    def close(self) -> None:
        """Stop the writer once the deliveries already waiting are written, and give back its connection."""
        with self._start_lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                self._waiting.put(_STOP)
        if writer is not None:
            writer.join(timeout=WAIT_SECONDS)

    def _write_forever(self) -> None:
        stopping = False
        busy = False
        while not stopping:
            group: list[_Waiting] = []
            item = self._waiting.get()
            if busy and item is not _STOP:
                sleep(GATHER_SECONDS)  # let the deliveries already on their way join this group
            while True:
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                if len(group) == GROUP_MAX:
                    break
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
            busy = len(group) > 1
            if not group:
                continue
            try:
                self._write_group(group)
            except BaseException as exc:  # never leave a request waiting, whatever happened
                log.exception("the inbox writer failed on a group of %d deliveries", len(group))
                for waiting in group:
                    waiting.finish(error=exc)
        connection = getattr(self._held, "connection", None)
        if connection is not None:
            self._held.connection = None
            connection.close()

    def _write_group(self, group: list[_Waiting]) -> None:
        # The same delivery twice in one group (a sender retrying fast): the first is written, the others wait
        # for it and are duplicates, exactly as if they had come a moment later.
        first: dict[tuple[str, str], _Waiting] = {}
        repeats: list[tuple[_Waiting, _Waiting]] = []
        for waiting in group:
            key = (waiting.arrival.source, waiting.arrival.delivery_id)
            if key in first:
                repeats.append((waiting, first[key]))
            else:
                first[key] = waiting
        writing = list(first.values())
        try:
            kept = self._insert(writing)
        except Exception as exc:
            if len(writing) == 1 or not _refused(exc):
                raise
            kept = set()
            for waiting in writing:  # one delivery the database refuses must not fail the others
                try:
                    kept |= self._insert([waiting])
                except Exception as single:
                    if not _refused(single):
                        raise
                    log.warning("delivery %s refused by the database: %s", waiting.arrival.delivery_id, single)
                    waiting.finish(error=single)
        for waiting in writing:
            waiting.finish(kept=(waiting.arrival.source, waiting.arrival.delivery_id) in kept)
        for waiting, original in repeats:
            waiting.finish(kept=False, error=original.error)
        jobs = [waiting.job for waiting in writing if waiting.kept and waiting.job is not None]
        if jobs:
            self.runtime.queue.send(*jobs)

    def _insert(self, group: list[_Waiting]) -> set[tuple[str, str]]:
        """Insert ``group`` in one statement; the (source, delivery id) pairs that were new."""
        import psycopg

        rows = [waiting.row() for waiting in group]
        params: dict[str, Any] = dict(zip(COLUMNS, (list(column) for column in zip(*rows)), strict=True))
        params["now"] = utcnow()
        for attempt in (1, 2):
            connection = self._connection()
            try:
                return set(connection.driver_connection.execute(INSERT_GROUP, params).fetchall())
            except psycopg.Error:
                if not connection.driver_connection.broken:
                    raise
                # The server went away (restart, fail-over): this connection is dead and the pooled ones are as
                # stale, so drop them all and try once more on a fresh connection.
                self._held.connection = None
                connection.invalidate()
                self.runtime.inbox_engine.dispose(close=False)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connection(self):
        """The calling writer's own connection, kept from group to group (a checkout per group costs more than
        the insert of a small group)."""
        if getattr(self._held, "connection", None) is None:
            self._held.connection = self.runtime.inbox_engine.raw_connection()
        return self._held.connection


def _refused(exc: BaseException) -> bool:
    """Whether the database refused the data (rather than being unreachable)."""
    import psycopg

    return isinstance(exc, (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError,
                            UnicodeEncodeError)) and not isinstance(exc, psycopg.OperationalError)


def _keep_in_session(runtime: Runtime, arrival: Arrival, job: PendingJob | None) -> bool:
    try:
        with runtime.Session.begin() as session:
            session.add(Delivery(source=arrival.source, delivery_id=arrival.delivery_id, event=arrival.event,
                                 issue_key=arrival.issue_key, outcome=arrival.outcome,
                                 payload=dict(arrival.payload) if arrival.outcome == "queued" else {}))
            if job is not None:
                session.add(job.ledger_row())
    except IntegrityError:
        return False
    return True


def payload_text(arrival: Arrival) -> str:
    """The payload as JSON text: the sender's own body when it is plain UTF-8 (the common case, kept as sent),
    else the parsed payload encoded again with every non-ASCII character escaped, which any store keeps (a body
    with a byte-order mark, in UTF-16, or with surrogates encoded in UTF-8 all parse, but are not valid text)."""
    body = arrival.body
    if not body.startswith(codecs.BOM_UTF8) and b"\x00" not in body:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return json.dumps(arrival.payload)
