"""The webhook inbox: every delivery kept once, with the job it queues, in one atomic write.

This is the receiver's hot path: a tracker waits for the answer, and the answer (2xx) may only come once the
delivery is durable. On PostgreSQL the delivery (``INSERT ... ON CONFLICT DO NOTHING``, which deduplicates by
the tracker's delivery id) and its job (inserted only when the delivery was new) are one data-modifying ``WITH``
statement, run in autocommit on a connection of the runtime's ``inbox_engine``: one round trip and one commit,
atomic as every statement is, with no ORM unit of work, no transaction block and no ping (a connection the
server dropped is retried once on a fresh pool). This is what lets the receiver answer at half the rate of an
endpoint that does nothing (``bench/load_bench.py``). The payload is stored as the sender's own JSON text when it can be (no re-encoding). Elsewhere (the
embedded SQLite store) the same two rows go through a session; the outcome is the same.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from sync.queue import PendingJob
from sync.store import Delivery, Job, utcnow

INSERT_DELIVERY = """
INSERT INTO deliveries (source, delivery_id, event, issue_key, payload, outcome, received_at)
VALUES (%(source)s, %(delivery_id)s, %(event)s, %(issue_key)s, %(payload)s, %(outcome)s, %(now)s)
ON CONFLICT (source, delivery_id) DO NOTHING
RETURNING id
"""

INSERT_DELIVERY_AND_JOB = f"""
WITH delivery AS ({INSERT_DELIVERY}),
job AS (
    INSERT INTO jobs (id, name, args, ref, state, attempts, created_at, updated_at)
    SELECT %(job_id)s, %(job_name)s, %(job_args)s, %(job_ref)s, 'queued', 0, %(now)s, %(now)s FROM delivery
)
SELECT id FROM delivery
"""


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


def keep(runtime, arrival: Arrival, job: PendingJob | None) -> bool:
    """Store the delivery and, when given, its job, committed together before returning; False (and nothing
    written) when the tracker sent this delivery id before. Only a queued delivery keeps its payload: it is the
    job's hint; the others keep ``{}``."""
    if runtime.engine.dialect.name == "postgresql":
        return _keep_in_one_statement(runtime, arrival, job)
    return _keep_in_session(runtime, arrival, job)


def _keep_in_one_statement(runtime, arrival: Arrival, job: PendingJob | None) -> bool:
    import psycopg

    params = {"source": arrival.source, "delivery_id": arrival.delivery_id, "event": arrival.event,
              "issue_key": arrival.issue_key, "outcome": arrival.outcome, "now": utcnow(),
              "payload": payload_text(arrival) if arrival.outcome == "queued" else "{}"}
    if job is not None:
        params.update(job_id=job.id, job_name=job.name, job_args=json.dumps(list(job.args)), job_ref=job.ref)
    statement = INSERT_DELIVERY if job is None else INSERT_DELIVERY_AND_JOB
    engine = runtime.inbox_engine
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            return connection.driver_connection.execute(statement, params).fetchone() is not None
        except psycopg.Error:
            if not connection.driver_connection.broken:
                raise
            # The server went away (restart, fail-over) since this pooled connection was last used: every pooled
            # connection is as stale, so start a new pool and try once more on a fresh connection.
            connection.invalidate()
            engine.dispose(close=False)
            if attempt == 2:
                raise
        finally:
            connection.close()
    raise AssertionError("unreachable")


def _keep_in_session(runtime, arrival: Arrival, job: PendingJob | None) -> bool:
    try:
        with runtime.Session.begin() as session:
            session.add(Delivery(source=arrival.source, delivery_id=arrival.delivery_id, event=arrival.event,
                                 issue_key=arrival.issue_key, outcome=arrival.outcome,
                                 payload=dict(arrival.payload) if arrival.outcome == "queued" else {}))
            if job is not None:
                session.add(Job(id=job.id, name=job.name, args=list(job.args), ref=job.ref, state="queued"))
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
