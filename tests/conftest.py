"""Shared fixtures: a runtime on a temporary SQLite home with jobs run inline, the app, a client, factories."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from plugin.need import validate_need
from plugin.settings import Settings, parse_settings
from sync.intake import create_need
from sync.ledger import accounts, store
from sync.runtime import build_runtime
from webhooks.app import create_app

DEFAULT_YAML = """
locale: en
secret_key: test-secret
customers:
  - key: acme
    name: ACME Corp
    locale: en
categories:
  - key: billing
    name: {zh-Hans: 计费, zh-Hant: 計費, en: Billing}
  - key: reports
    name: {zh-Hans: 报表, zh-Hant: 報表, en: Reports}
people:
  - name: Wang Wei
    email: wang.wei@example.com
"""


@pytest.fixture
def settings() -> Settings:
    """Settings with two categories and one customer, no tracker; override by defining this fixture."""
    return parse_settings(DEFAULT_YAML, "test.yaml")


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory) -> Path:
    """One SQLite store migrated to the newest schema; each test starts from a copy (migrating costs ~0.1 s)."""
    path = tmp_path_factory.mktemp("migrated") / "cocreate.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.migrate(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def migrated_runtime(settings, home: Path, migrated_store: Path, *, immediate: bool = True):
    """A runtime whose data folder ``home`` starts with a copy of ``migrated_store`` (no migration run)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_store, home / "cocreate.db")
    return build_runtime(settings, {"COCREATE_HOME": str(home)}, immediate=immediate, migrate=False)


@pytest.fixture
def runtime(settings, tmp_path, migrated_store):
    """A runtime whose data folder is a fresh temporary directory and whose jobs run inline.

    Its store is a copy of one database migrated once per session: same schema, without an Alembic run per test.
    """
    rt = migrated_runtime(settings, tmp_path / "home", migrated_store)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    application = create_app({"TESTING": True}, runtime=runtime)
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def web_app(runtime):
    """The app with CSRF checks off; tests about CSRF use the ``app`` fixture, which keeps them on."""
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime)


@pytest.fixture
def cs_client(web_app, make_user):
    """A test client logged in as the CS user ``cs1`` (password ``password1``)."""
    from tests.web.pages import log_in

    make_user("cs1", "password1", "cs")
    client = web_app.test_client()
    log_in(client)
    return client


@pytest.fixture
def make_user(runtime):
    """``make_user(name="cs1", password="password1", role="cs")`` adds a user and returns its name."""

    def make(name: str = "cs1", password: str = "password1", role: str = "cs") -> str:
        with runtime.Session.begin() as session:
            accounts.add_user(session, name, password, role)
        return name

    return make


@pytest.fixture
def api_token(runtime, make_user) -> str:
    name = make_user("api-user", "password1", "cs")
    with runtime.Session.begin() as session:
        return accounts.create_token(session, name)


NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # "now" for every need the tests file


def need_data(**overrides) -> dict:
    """A valid submitted need as a dict; a test names only what differs."""
    data = {
        "category": "billing",
        "title": "Invoices should show the tax number",
        "description": "Customer needs the tax number on every PDF invoice.",
        "urgency": "high",
        "reporter_name": "Li Na",
        "reporter_email": "li.na@acme.example",
        "reported_at": "2026-11-20T09:30:00+00:00",
        "owner": "Wang Wei",
        "remarks": "",
        "stage": "rollout",
        "customer": "acme",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def file_need(runtime, uploads=(), **overrides):
    """A need checked at ``NOW`` and stored through intake on ``runtime`` (its sync job runs as the queue runs it)."""
    return create_need(runtime, validate_need(need_data(**overrides), runtime.settings, now=NOW), uploads)


@pytest.fixture
def make_need(runtime):
    """``make_need(**overrides)`` stores a need through intake (its sync job runs inline) and returns it."""

    def make(uploads=(), **overrides):
        return file_need(runtime, uploads, **overrides)

    return make


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch):
    """Tests never read the developer's own cocreate.yaml or data folder."""
    for name in ("COCREATE_CONFIG", "COCREATE_HOME", "COCREATE_DATABASE_URL", "COCREATE_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("COCREATE_TESTING", "1")


def pytest_sessionfinish(session, exitstatus):
    """Under ``make test`` (COCREATE_NO_SKIP=1) a skipped test fails the run: CI must install what it needs."""
    if os.environ.get("COCREATE_NO_SKIP") != "1" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"{len(skipped)} test(s) skipped; install what they need instead", red=True)
        session.exitstatus = 1
