"""Shared fixtures: a runtime on a temporary SQLite home with jobs run inline, the app, a client, factories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin.loading import parse_settings
from plugin.settings import Settings
from sync.ledger import accounts, store
from tests.factories import DEFAULT_YAML, file_need, migrated_runtime
from webhooks.app import create_app


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
def admin_client(web_app, make_user):
    """A test client logged in as the admin ``root`` (password ``password1``)."""
    from tests.web.pages import log_in

    make_user("root", "password1", "admin")
    client = web_app.test_client()
    log_in(client, "root")
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
