"""``/healthz``: is the database reachable, and how is the job queue doing."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text

from sync.ledger.store import Job
from webhooks.context import runtime

bp = Blueprint("health", __name__)
log = logging.getLogger("cocreate.health")


@bp.route("/healthz")
def healthz():
    rt = runtime()
    report: dict = {"status": "ok"}
    tracker = rt.settings.tracker
    last: dict = {}
    tracker_error: Exception | None = None
    try:
        with rt.Session() as session:
            session.execute(text("SELECT 1"))
            counts = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
            if tracker is not None:
                try:
                    last = _tracker_last(session)
                except Exception as exc:  # the database answered the checks above: only the tracker part fails
                    log.warning("healthz: reading the last tracker calls failed", exc_info=True)
                    tracker_error = exc
        report["database"] = {"status": "ok", "dialect": rt.engine.dialect.name}
    except Exception as exc:  # any driver error means "down"; the detail (host, path, SQL) goes to the log only
        log.warning("healthz: the database check failed", exc_info=True)
        report["database"] = {"status": "error", "error": "the database cannot be reached (see the log)"}
        counts = {}
        report["status"] = "error"
        tracker_error = exc
    try:
        report["queue"] = {
            "status": "ok",
            "backend": type(rt.queue.huey).__name__,
            "pending": rt.queue.pending_count(),
            "consumer_running": rt.queue.consumer_running,
            "jobs": {state: counts.get(state, 0) for state in ("queued", "running", "done", "failed")},
        }
    except Exception:  # the queue's storage (SQLite file or Redis) is unreachable
        log.warning("healthz: the queue check failed", exc_info=True)
        report["queue"] = {"status": "error", "error": "the job queue cannot be reached (see the log)"}
        report["status"] = "error"
    report["tracker"] = _tracker_report(tracker, last, tracker_error)
    return jsonify(report), 200 if report["status"] == "ok" else 503


TRACKER_JOBS = ("sync_need", "sync_needs", "resume_syncs", "apply_issue_change", "reconcile", "deliver_outbox",
                "create_action_item_issue", "apply_release")
"""The jobs that call the tracker (every job but ``check_sla``, ``check_meetings`` and ``check_import``): their outcomes date the last tracker call."""


def _tracker_last(session) -> dict:
    """When a job that talks to the tracker last succeeded (``done``) and last failed (``failed``), from the job
    ledger, so it is the same whichever process answers."""
    return dict(session.execute(
        select(Job.state, func.max(Job.updated_at)).where(Job.name.in_(TRACKER_JOBS),
                                                           Job.state.in_(("done", "failed")))
        .group_by(Job.state)).all())


def _tracker_report(tracker, last: dict, error: Exception | None) -> dict | None:
    """The tracker and when a job that talks to it last succeeded and last failed; None without a tracker."""
    if tracker is None:
        return None
    if error is not None:  # a database failure is reported under "database" as well
        return {"kind": tracker.kind, "error": "the last tracker calls cannot be read (see the log)"}
    return {
        "kind": tracker.kind,
        "last_success": last["done"].isoformat() if last.get("done") else None,
        "last_failure": last["failed"].isoformat() if last.get("failed") else None,
    }
