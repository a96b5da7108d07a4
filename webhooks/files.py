"""Signed links to screenshots, for trackers without an attachment API (GitHub issues link here)."""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from sync.loop.links import LEGACY_KEY_ID, attachment_for_link
from webhooks.context import runtime

bp = Blueprint("files", __name__)


@bp.route("/files/<token>")
def legacy_attachment(token: str):
    """A link made before key ids (key id ``legacy``): works until ``legacy`` is in ``files.revoked_key_ids``."""
    return signed_attachment(LEGACY_KEY_ID, token)


@bp.route("/files/<key_id>/<token>")
def signed_attachment(key_id: str, token: str):
    rt = runtime()
    with rt.Session() as session:
        attachment = attachment_for_link(rt, session, key_id, token)
        if attachment is None:
            abort(404)
        path = rt.uploads / attachment.stored_name
        content_type = attachment.content_type
    response = send_file(path, mimetype=content_type, max_age=3600, conditional=True)
    # Private: a shared cache (a proxy, a CDN) must not keep a copy the link's revocation would not reach.
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
