"""``/healthz``: is the database reachable, and how is the job queue doing."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text

from sync.store import Job
from webhooks.context import runtime

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    rt = runtime()
    report: dict = {"status": "ok"}
    try:
        with rt.Session() as session:
            session.execute(text("SELECT 1"))
            counts = dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        report["database"] = {"status": "ok", "dialect": rt.engine.dialect.name}
    except Exception as exc:  # any driver error means "down"; say which
        report["database"] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        counts = {}
        report["status"] = "error"
    try:
        report["queue"] = {
            "status": "ok",
            "backend": type(rt.queue.huey).__name__,
            "pending": rt.queue.pending_count(),
            "consumer_running": rt.queue.consumer_running,
            "jobs": {state: counts.get(state, 0) for state in ("queued", "running", "done", "failed")},
        }
    except Exception as exc:  # the queue's storage (SQLite file or Redis) is unreachable
        report["queue"] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        report["status"] = "error"
    report["tracker"] = _tracker_report(rt)
    return jsonify(report), 200 if report["status"] == "ok" else 503


TRACKER_JOBS = ("sync_need", "sync_needs", "apply_issue_change", "reconcile", "deliver_outbox")


def _tracker_report(rt) -> dict | None:
    """The tracker and when a job that talks to it last succeeded and last failed (from the job ledger,
    so it is the same whichever process answers)."""
    if rt.settings.tracker is None:
        return None
    try:
        with rt.Session() as session:
            last = dict(session.execute(
                select(Job.state, func.max(Job.updated_at)).where(Job.name.in_(TRACKER_JOBS),
                                                                   Job.state.in_(("done", "failed")))
                .group_by(Job.state)).all())
    except Exception as exc:  # reported under "database" already
        return {"kind": rt.settings.tracker.kind, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "kind": rt.settings.tracker.kind,
        "last_success": last["done"].isoformat() if last.get("done") else None,
        "last_failure": last["failed"].isoformat() if last.get("failed") else None,
    }
