"""``/s/<token>``: a customer's own status page, the shared requirement table without internal details.

Of each need's thread it shows only the kinds a customer may read (``sync.loop.thread.FOR_CUSTOMER``): CS's
replies and R&D's comments for the customer, never an internal note."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sync.ledger.customers import customer_for_token
from sync.ledger.store import Need, NeedMessage
from sync.loop.thread import FOR_CUSTOMER
from sync.minutes.records import shared_minutes_for_customer
from webhooks.context import customers, runtime

bp = Blueprint("status_page", __name__)


@bp.route("/s/<token>")
def page(token: str):
    rt = runtime()
    key = customer_for_token(rt, token)
    if key is None:
        abort(404)
    # A merged customer's link opens the page of the customer its needs went to, saying so.
    book = customers()
    issued_for = book.get(key)
    customer = book.current(key) or issued_for
    if customer is None:
        abort(404)
    key = customer.key
    with rt.Session() as session:
        needs = session.scalars(
            select(Need).where(Need.customer == key).options(selectinload(Need.history))
            .order_by(Need.reported_at.desc())
        ).all()
        shared = shared_minutes_for_customer(session, key)
        messages: dict[int, list[NeedMessage]] = {}
        for message in session.scalars(
                select(NeedMessage).join(Need).where(Need.customer == key, NeedMessage.kind.in_(FOR_CUSTOMER))
                .order_by(NeedMessage.created_at, NeedMessage.id)):
            messages.setdefault(message.need_id, []).append(message)
    response = make_response(render_template(
        "status/page.html", customer=customer, needs=needs, token=token, shared=shared, messages=messages,
        merged_from=issued_for if issued_for is not customer else None))
    # The link is the customer's key: keep it out of other sites' logs, caches and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response

