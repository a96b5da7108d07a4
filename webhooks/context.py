"""Access to the current app's runtime from views, and the customer records a request reads."""

from __future__ import annotations

from flask import current_app, g, has_request_context

from plugin.customer import CustomerBook
from sync.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["cocreate"]


def customers() -> CustomerBook:
    """The customer records as they are in the store now, read once per request (every page and answer of
    one request names customers alike, and a change made by any process shows on the next request)."""
    if not has_request_context():
        return runtime().customers()
    if "cocreate_customers" not in g:
        g.cocreate_customers = runtime().customers()
    return g.cocreate_customers


def forget_customers() -> None:
    """After this request changed a customer: the rest of it reads the records again."""
    g.pop("cocreate_customers", None)
