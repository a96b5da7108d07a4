"""``/api/v1/customers``: the customer records for admins' tokens, with channel URLs and secrets masked.

The same checks as ``/admin/customers`` (``sync.ledger.customers``); every change moves the customers counter, so
every process reads it at once."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, g, jsonify

from sync.ledger.customers import InvalidCustomer, UnknownCustomer, add_customer, edit_customer, masked_channel
from webhooks.api import _error_body, _json_object
from webhooks.auth import api_token_required
from webhooks.context import customers, forget_customers, runtime

bp = Blueprint("api_customers", __name__, url_prefix="/api/v1")


def _admins_only(view):
    """Under :func:`api_token_required`: the view for an admin's token, else a 403 answer."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.api_role != "admin":
            return _error_body(403, "customers are managed with an admin's token")
        return view(*args, **kwargs)

    return wrapped


def _customer_json(record) -> dict:
    return {"key": record.key, "name": record.name, "aliases": list(record.aliases), "locale": record.locale,
            "contacts": [contact.model_dump(exclude_none=True) for contact in record.contacts],
            "channels": [masked_channel(channel) for channel in record.channels], "tier": record.tier,
            "annual_revenue": record.annual_revenue, "config_fields": sorted(record.config_fields),
            "merged_into": record.merged_into}


def _invalid_customer(exc: InvalidCustomer) -> Response:
    return _error_body(422, "the customer has problems; each field lists its own", fields=exc.by_field())


@bp.get("/customers")
@api_token_required
@_admins_only
def list_customers():
    """Every customer (merged ones included, with ``merged_into``); URLs and secrets masked."""
    return jsonify({"items": [_customer_json(record) for record in customers().records]})


@bp.post("/customers")
@api_token_required
@_admins_only
def create_customer():
    data = _json_object()
    if isinstance(data, Response):
        return data
    try:
        record = add_customer(runtime(), data)
    except InvalidCustomer as exc:
        return _invalid_customer(exc)
    forget_customers()
    response = jsonify(_customer_json(record))
    response.status_code = 201
    return response


@bp.patch("/customers/<key>")
@api_token_required
@_admins_only
def patch_customer(key: str):
    """Change the fields sent; a channel with ``index`` keeps that channel's URL and secret when not sent."""
    data = _json_object()
    if isinstance(data, Response):
        return data
    try:
        record = edit_customer(runtime(), key, data)
    except UnknownCustomer:
        return _error_body(404, f"no customer {key}")
    except InvalidCustomer as exc:
        return _invalid_customer(exc)
    forget_customers()
    return jsonify(_customer_json(record))
