"""Signed links to screenshots, for trackers without an attachment API (GitHub issues link here)."""

from __future__ import annotations

from flask import Blueprint, abort, send_file
from itsdangerous import BadSignature

from sync.ledger.store import Attachment
from sync.loop.links import attachment_serializer
from webhooks.context import runtime

bp = Blueprint("files", __name__)


@bp.route("/files/<token>")
def signed_attachment(token: str):
    rt = runtime()
    try:
        attachment_id = attachment_serializer(rt).loads(token)
    except BadSignature:
        abort(404)
    with rt.Session() as session:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None:
            abort(404)
        path = rt.uploads / attachment.stored_name
        content_type = attachment.content_type
    response = send_file(path, mimetype=content_type, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
