"""The webhook inbox's group commit on PostgreSQL: deliveries arriving together are written together, each kept
once with its one job, a delivery the database refuses fails alone, a dropped connection is retried, and the
payload reads back as sent."""

from __future__ import annotations

import codecs
import json
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from sync.jobs import inbox
from sync.jobs.inbox import Arrival, payload_text
from sync.ledger.store import Delivery, Job
from tests.scale.cluster import wait_until
from tests.scale.runtimes import runtime_on

YAML = """
locale: en
secret_key: inbox
tracker:
  kind: github
  github: {token: t, login: cocreate-bot}
categories:
  - {key: billing, name: Billing, github_repo: acme/billing}
"""
PAYLOAD = {"action": "closed", "issue": {"number": 7, "title": "Export fails — 导出失败"}}
BODY = json.dumps(PAYLOAD, ensure_ascii=False).encode()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "github"


@pytest.fixture
def rt(database, redis_server, tmp_path):
    redis_server.flush()
    with runtime_on(YAML, database, redis_server.url(3), tmp_path / "home") as runtime:
        yield runtime


def arrival(delivery_id: str, outcome: str = "queued", body: bytes = BODY, payload=None, source="github"):
    return Arrival(source, delivery_id, "issues.closed", outcome, "acme/billing#7" if outcome == "queued" else None,
                   PAYLOAD if payload is None else payload, body)


def keep(rt, item: Arrival) -> bool:
    job = (rt.queue.pending("apply_issue_change", item.source, item.issue_key, ref=item.issue_key)
           if item.outcome == "queued" else None)
    return rt.inbox.keep(item, job)


def stored(rt) -> tuple[int, int, int]:
    """Deliveries, jobs in the ledger, messages in the Redis queue."""
    with rt.Session() as session:
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
        jobs = session.scalar(select(func.count()).select_from(Job))
    return deliveries, jobs, rt.queue.huey.pending_count()


def keep_all_at_once(rt, items: list[Arrival]) -> list[bool | BaseException]:
    """Hand every item to the inbox from its own thread, released together, as concurrent requests do."""
    results: list[bool | BaseException] = [False] * len(items)
    start = threading.Barrier(len(items))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = keep(rt, items[index])
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_deliveries_each_kept_once_with_one_job(rt, scale_report):
    ids = [uuid.uuid4().hex for _ in range(40)]
    # Every delivery sent three times at once (a sender retrying fast), plus ten that Cocreate ignores.
    items = [arrival(delivery_id) for delivery_id in ids for _ in range(3)]
    items += [arrival(f"ignored-{number}", outcome="ignored") for number in range(10)]
    results = keep_all_at_once(rt, items)
    assert not [result for result in results if isinstance(result, BaseException)]
    kept = {item.delivery_id for item, result in zip(items, results, strict=True) if result is True}
    assert sum(result is True for result in results) == len(ids) + 10, "one answer 'kept' per distinct delivery"
    assert kept == set(ids) | {f"ignored-{number}" for number in range(10)}
    assert stored(rt) == (50, 40, 40), "every delivery once, one job (and one queue message) per handled one"
    # The same deliveries again, later: all duplicates, nothing more written or pushed.
    assert keep_all_at_once(rt, [arrival(delivery_id) for delivery_id in ids[:10]]) == [False] * 10
    assert stored(rt) == (50, 40, 40)
    scale_report(concurrent_requests=len(items), distinct_deliveries=50, deliveries_stored=50, jobs=40,
                 queue_messages=40, duplicated=0, lost=0)


def test_the_payload_reads_back_as_sent(rt):
    assert keep(rt, arrival("as-sent"))
    with rt.Session() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.delivery_id == "as-sent")).one()
        job = session.scalars(select(Job)).one()
    assert delivery.payload == PAYLOAD and delivery.outcome == "queued" and delivery.issue_key == "acme/billing#7"
    assert (job.name, job.args, job.ref, job.state, job.attempts) == (
        "apply_issue_change", ["github", "acme/billing#7"], "acme/billing#7", "queued", 0)
    assert delivery.received_at.tzinfo is not None


def test_a_large_payload_is_stored_compressed_with_lz4_and_reads_back(rt):
    body = (FIXTURES / "issues__opened.json").read_bytes()  # a real delivery, 7 KB: stored out of line
    payload = json.loads(body)
    assert keep(rt, arrival("large", body=body, payload=payload))
    with rt.engine.connect() as connection:
        method, = connection.execute(text(
            "SELECT pg_column_compression(payload) FROM deliveries WHERE delivery_id = 'large'")).one()
    assert method == "lz4"  # Debian's PostgreSQL has it (migration 0004); pglz costs twice the server's CPU
    with rt.Session() as session:
        assert session.scalars(select(Delivery.payload).where(Delivery.delivery_id == "large")).one() == payload


@pytest.mark.parametrize("body", [
    codecs.BOM_UTF8 + BODY,  # a byte-order mark: parses, but is no JSON text for the store
    json.dumps(PAYLOAD).encode("utf-16"),  # UTF-16: the json module takes it
    b'{"action": "closed", "issue": {"number": 7, "title": "\xed\xa0\x80"}}',  # a surrogate encoded in UTF-8
])
def test_bodies_that_are_not_plain_utf8_are_stored_reencoded(rt, body):
    payload = json.loads(body)
    assert payload_text(arrival("x", body=body, payload=payload)) == json.dumps(payload)
    assert keep(rt, arrival(f"odd-{uuid.uuid4().hex}", body=body, payload=payload))
    assert stored(rt)[:2] == (1, 1)


def test_a_delivery_the_database_refuses_fails_alone(rt):
    good = [arrival(uuid.uuid4().hex) for _ in range(8)]
    bad = arrival("refused", source="x" * 40)  # longer than deliveries.source takes
    results = keep_all_at_once(rt, [*good, bad])
    assert results[:8] == [True] * 8
    assert isinstance(results[8], psycopg.DataError)
    assert stored(rt) == (8, 8, 8)


def test_a_connection_the_server_dropped_is_retried_on_a_fresh_one(rt, postgres, monkeypatch):
    assert keep(rt, arrival("before"))
    engine = rt.inbox_engine
    fresh_pools = []
    monkeypatch.setattr(engine, "dispose", lambda close=True: fresh_pools.append(close) or type(engine).dispose(
        engine, close=close))
    # Cut every connection of this database, as a restart or fail-over does.
    database = rt.engine.url.database
    postgres.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
                     "AND pid <> pg_backend_pid()")
    assert keep(rt, arrival("after"))
    assert fresh_pools == [False], "the writer's connection was found dead and the pool renewed once"
    assert stored(rt) == (2, 2, 2)


def test_close_stops_the_writer_and_a_later_delivery_starts_it_again(rt):
    assert keep(rt, arrival("one"))
    writer = rt.inbox._writer
    rt.inbox.close()
    assert not writer.is_alive()
    assert keep(rt, arrival("two"))
    assert stored(rt)[:2] == (2, 2)


def test_jobs_sent_together_are_taken_in_the_order_sent(rt):
    jobs = [rt.queue.pending("apply_issue_change", "github", f"acme/billing#{number}") for number in range(3)]
    rt.queue.send(*jobs)  # one LPUSH with the three messages
    storage = rt.queue.huey.storage
    taken = [rt.queue.huey.deserialize_task(storage.dequeue()).id for _ in jobs]  # as a consumer takes them
    assert taken == [job.id for job in jobs]


def test_under_load_the_writer_lets_deliveries_gather_and_alone_one_is_written_at_once(rt, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(inbox, "sleep", lambda seconds: slept.append(seconds) or time.sleep(seconds))
    groups: list[list[str]] = []
    held = threading.Event()
    real_insert = rt.inbox._insert

    def insert(group):
        groups.append([waiting.arrival.delivery_id for waiting in group])
        if len(groups) == 2:
            held.wait(10)  # hold the writer on this group while more deliveries arrive
        return real_insert(group)

    monkeypatch.setattr(rt.inbox, "_insert", insert)

    assert keep(rt, arrival("alone"))
    assert slept == [], "a delivery that arrives alone is written at once"

    first = threading.Thread(target=keep, args=(rt, arrival("first")))
    first.start()
    wait_until(lambda: len(groups) == 2, 10, "the writer to take the held group", every=0.001)
    burst = [threading.Thread(target=keep, args=(rt, arrival(f"burst-{number}"))) for number in range(10)]
    for thread in burst:
        thread.start()
    wait_until(lambda: rt.inbox._waiting.qsize() == 10, 10, "the burst to queue up", every=0.001)
    held.set()
    for thread in (first, *burst):
        thread.join(10)
    assert sorted(groups[2]) == sorted(f"burst-{number}" for number in range(10)), \
        "the deliveries that arrived meanwhile make one group"
    assert slept == []

    assert keep(rt, arrival("after-the-burst"))
    assert slept == [inbox.GATHER_SECONDS], "after a group of several, the writer waited once for more"
    assert keep(rt, arrival("quiet-again"))
    assert slept == [inbox.GATHER_SECONDS], "after a group of one, it no longer waits"
    assert stored(rt) == (14, 14, 14)
