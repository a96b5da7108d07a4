"""``/s/<token>``: a customer's own status page, the shared requirement table without internal details; and what a
customer sees instead when something under ``/s/`` fails (a bad or revoked link, a missing page, an error).

Of each need's thread it shows only the kinds a customer may read (``sync.loop.thread.FOR_CUSTOMER``): CS's
replies and R&D's comments for the customer, never an internal note."""

from __future__ import annotations

from flask import Blueprint, abort, g, make_response, render_template, request
from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from sync.ledger.customers import customer_for_token
from sync.ledger.projects import list_projects
from sync.ledger.store import Need, NeedMessage
from sync.loop.thread import FOR_CUSTOMER
from sync.minutes.records import shared_minutes_for_customer
from webhooks.context import customers, runtime

bp = Blueprint("status_page", __name__)

PREFIX = "/s/"

ERRORS = {
    404: (lazy_gettext("Page not found"), lazy_gettext("Your status page has no such page.")),
    410: (lazy_gettext("This page is no longer available"),
          lazy_gettext("Ask your customer success contact for the current link to your status page.")),
    500: (lazy_gettext("Something went wrong"),
          lazy_gettext("Your status page could not be shown just now. Please try again in a few minutes; if it "
                       "keeps happening, tell your customer success contact.")),
}
"""Status -> heading and message a customer reads; any other status reads as :data:`OTHER_ERROR`."""
OTHER_ERROR = (lazy_gettext("This page is not available"),
               lazy_gettext("Please open the link to your status page again. If this keeps happening, tell your "
                            "customer success contact."))
BAD_LINK = (lazy_gettext("This link does not work"),
            lazy_gettext("The link may be mistyped, or it has been replaced by a newer one. Ask your customer "
                         "success contact for the current link to your status page."))


def is_customer_path(path: str) -> bool:
    """Whether ``path`` is under ``/s/``, where only customers' pages are."""
    return path.startswith(PREFIX)


def visiting_customer() -> str | None:
    """The key of the customer whose link this request under ``/s/`` carries (None: not under /s/, or no valid
    link), checked once per request."""
    if "status_customer" not in g:
        token = request.path[len(PREFIX):].split("/", 1)[0] if is_customer_path(request.path) else ""
        g.status_customer = customer_for_token(runtime(), token) if token else None
    return g.status_customer


def customer_locale() -> str | None:
    """The language of the customer whose link this is, as configured for them."""
    key = visiting_customer()
    customer = customers().current(key) if key else None
    return customer.locale if customer else None


def _private(response):
    # The link is the customer's key: keep it out of other sites' logs, caches and search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/s/<token>")
def page(token: str):
    rt = runtime()
    key = visiting_customer()
    if key is None:
        abort(404)
    # A merged customer's link opens the page of the customer its needs went to, saying so.
    book = customers()
    issued_for = book.get(key)
    customer = book.current(key)
    if customer is None:
        abort(404)
    key = customer.key
    with rt.Session() as session:
        needs = session.scalars(
            select(Need).where(Need.customer == key).options(selectinload(Need.history), selectinload(Need.releases))
            .order_by(Need.reported_at.desc())
        ).all()
        shared = shared_minutes_for_customer(session, key)
        projects = list_projects(session, customer=key)
        messages: dict[int, list[NeedMessage]] = {}
        for message in session.scalars(
                select(NeedMessage).join(Need).where(Need.customer == key, NeedMessage.kind.in_(FOR_CUSTOMER))
                .order_by(NeedMessage.created_at, NeedMessage.id)):
            messages.setdefault(message.need_id, []).append(message)
    return _private(make_response(render_template(
        "status/page.html", customer=customer, needs=needs, token=token, shared=shared, messages=messages,
        projects=projects,
        merged_from=issued_for if issued_for is not customer else None)))


def error_page(error: HTTPException):
    """The page a customer sees for any error under ``/s/``: in their language, with no way into the staff app;
    a link back to their status page when the link itself is good."""
    code = error.code or 500
    if code == 500:
        # Whatever failed may be the store itself: no look-up of the link now, only what was found before.
        g.status_customer = g.get("status_customer")
    key = visiting_customer()
    heading, message = ERRORS.get(code, OTHER_ERROR) if key or code == 500 else BAD_LINK
    token = request.path[len(PREFIX):].split("/", 1)[0] if key else None
    response = make_response(render_template("status/error.html", code=code, heading=heading, message=message,
                                             token=token), code)
    for name, value in error.get_headers():
        if name.lower() == "allow":
            response.headers[name] = value
    return _private(response)
