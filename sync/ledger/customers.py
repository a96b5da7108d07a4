"""Customers' status-page links: unguessable (signed with the secret key), revocable (a new nonce)."""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from sync.ledger.store import Customer, utcnow

if TYPE_CHECKING:
    from sync.runtime import Runtime


def _serializer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(runtime.secret_key, salt="cocreate-status-page")


def _customer(session, key: str, settings) -> Customer:
    row = session.scalars(select(Customer).where(Customer.key == key)).one_or_none()
    if row is None:
        configured = settings.customer(key)
        if configured is None:
            raise KeyError(f"no customer {key} in the config")
        row = Customer(key=key, name=configured.name, locale=configured.locale)
        session.add(row)
    return row


def issue_status_token(runtime: Runtime, key: str) -> str:
    """A new status-page token for customer ``key``; every earlier one stops working."""
    with runtime.Session.begin() as session:
        row = _customer(session, key, runtime.settings)
        row.status_token_nonce = secrets.token_urlsafe(16)
        row.status_token_created_at = utcnow()
        nonce = row.status_token_nonce
    return _serializer(runtime).dumps([key, nonce])


def revoke_status_token(runtime: Runtime, key: str) -> bool:
    with runtime.Session.begin() as session:
        row = _customer(session, key, runtime.settings)
        had = row.status_token_nonce is not None
        row.status_token_nonce = None
        row.status_token_created_at = None
    return had


def current_status_token(runtime: Runtime, key: str) -> str | None:
    """The customer's live token (to put in notices), or None when none was issued or it was revoked."""
    with runtime.Session() as session:
        nonce = session.scalars(select(Customer.status_token_nonce).where(Customer.key == key)).one_or_none()
    return _serializer(runtime).dumps([key, nonce]) if nonce else None


def status_link(settings, token: str) -> str:
    """The address of the status page a token opens."""
    return f"{settings.base_url.rstrip('/')}/s/{token}"


def status_page_url(runtime: Runtime, key: str) -> str | None:
    token = current_status_token(runtime, key)
    return status_link(runtime.settings, token) if token else None


def customer_for_token(runtime: Runtime, token: str) -> str | None:
    """The customer key a token opens, or None for a forged, malformed or revoked token."""
    try:
        key, nonce = _serializer(runtime).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    with runtime.Session() as session:
        current = session.scalars(select(Customer.status_token_nonce).where(Customer.key == key)).one_or_none()
    if not current or not isinstance(nonce, str) or not hmac.compare_digest(current, nonce):
        return None
    return key
