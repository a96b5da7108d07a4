"""Fixtures for the webhook receivers: signing, the receivers' settings, inbox and ledger.

Each test module overrides ``settings`` with the secrets of its tracker.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select

from sync.ledger.store import Delivery, Job


@pytest.fixture
def sign():
    """``sign(secret, body)``: the ``sha256=<hex>`` GitHub (X-Hub-Signature-256) and Jira (X-Hub-Signature) send."""

    def signature(secret: str, body: bytes) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    return signature


@pytest.fixture
def configure_webhooks(runtime):
    """``configure_webhooks(github_secret=None, ...)``: change the receivers' settings for one test."""

    def configure(**changes) -> None:
        webhooks = runtime.settings.webhooks.model_copy(update=changes)
        runtime.settings = runtime.settings.model_copy(update={"webhooks": webhooks})

    return configure


@pytest.fixture
def inbox(runtime):
    """``inbox()``: every stored delivery, oldest first."""

    def rows() -> list[Delivery]:
        with runtime.Session() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    return rows


@pytest.fixture
def ledger(runtime):
    """``ledger()``: every ``apply_issue_change`` job in the job ledger."""

    def rows() -> list[Job]:
        with runtime.Session() as session:
            query = select(Job).where(Job.name == "apply_issue_change").order_by(Job.created_at)
            return list(session.scalars(query))

    return rows
