"""``/s/<token>``: a customer's own status page, the shared requirement table without internal details."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sync.customers import customer_for_token
from sync.store import Need
from webhooks.context import runtime

bp = Blueprint("status_page", __name__)


@bp.route("/s/<token>")
def page(token: str):
    rt = runtime()
    key = customer_for_token(rt, token)
    if key is None:
        abort(404)
    customer = rt.settings.customer(key)
    with rt.Session() as session:
        needs = session.scalars(
            select(Need).where(Need.customer == key).options(selectinload(Need.history))
            .order_by(Need.reported_at.desc())
        ).all()
        shared_minutes = _shared_minutes(session, key)
    response = make_response(render_template(
        "status/page.html", customer=customer, needs=needs, token=token, shared_minutes=shared_minutes))
    # The link is the customer's key: keep it out of other sites' logs, caches and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _shared_minutes(session, customer_key: str) -> list:
    """Minutes marked as shared with this customer (internal minutes never appear here)."""
    try:
        from sync.minutes import shared_minutes_for_customer
    except ImportError:
        return []
    return shared_minutes_for_customer(session, customer_key)
