"""Fixtures for the webhook receivers: a pre-migrated store, signing, the receivers' settings, inbox and ledger.

Each test module overrides ``settings`` with the secrets of its tracker.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from sync import store
from sync.runtime import build_runtime
from sync.store import Delivery, Job


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """One SQLite store migrated to the newest schema; each test starts from a copy (migrating costs ~0.1 s)."""
    path = tmp_path_factory.mktemp("migrated") / "cocreate.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.migrate(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture
def runtime(settings, tmp_path, migrated_store):
    """The shared ``runtime`` fixture (fresh store under a temporary home, jobs inline), minus the migration."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(migrated_store, home / "cocreate.db")
    rt = build_runtime(settings, {"COCREATE_HOME": str(home)}, immediate=True, migrate=False)
    yield rt
    rt.engine.dispose()


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
