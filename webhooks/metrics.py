"""``/metrics`` in Prometheus' text format.

Figures kept in the store (deliveries, jobs, outbox, needs, sync lag) are read at each scrape, so they are
the same whichever web process answers; tracker call counters are this process's own.
"""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from sync.ledger.store import Delivery, Job, Need, OutboxMessage, utcnow
from sync.runtime import Runtime
from webhooks.context import runtime

bp = Blueprint("metrics", __name__)


class LedgerCollector:
    """Reads the ledger's counts when scraped."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def collect(self):
        deliveries = CounterMetricFamily("cocreate_deliveries", "Webhook deliveries stored, by source and outcome",
                                         labels=["source", "outcome"])
        jobs = GaugeMetricFamily("cocreate_jobs", "Jobs in the ledger by name and state", labels=["name", "state"])
        outbox = GaugeMetricFamily("cocreate_outbox", "Comments and notices by kind and state", labels=["kind", "state"])
        needs = GaugeMetricFamily("cocreate_needs", "Needs by sync state", labels=["sync_state"])
        lag = GaugeMetricFamily("cocreate_sync_lag_seconds", "Age of the oldest need waiting to be synced")
        pending = GaugeMetricFamily("cocreate_queue_pending", "Jobs waiting in the queue")
        with self.rt.Session() as session:
            for source, outcome, count in session.execute(
                    select(Delivery.source, Delivery.outcome, func.count()).group_by(Delivery.source, Delivery.outcome)):
                deliveries.add_metric([source, outcome], count)
            for name, state, count in session.execute(
                    select(Job.name, Job.state, func.count()).group_by(Job.name, Job.state)):
                jobs.add_metric([name, state], count)
            for kind, state, count in session.execute(
                    select(OutboxMessage.kind, OutboxMessage.state, func.count())
                    .group_by(OutboxMessage.kind, OutboxMessage.state)):
                outbox.add_metric([kind, state], count)
            for state, count in session.execute(select(Need.sync_state, func.count()).group_by(Need.sync_state)):
                needs.add_metric([state], count)
            oldest = session.scalar(select(func.min(Need.updated_at)).where(
                Need.sync_state.in_(("pending", "retrying"))))
        lag.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        pending.add_metric([], self.rt.queue.pending_count())
        yield from (deliveries, jobs, outbox, needs, lag, pending)


@bp.route("/metrics")
def metrics():
    registry = CollectorRegistry()
    registry.register(LedgerCollector(runtime()))
    body = generate_latest(registry) + generate_latest(REGISTRY)
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")
