"""Engines, sessions and migrations for the ledger (its tables are in ``store``, which gives these names too)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import sessionmaker


def make_engine(url: str | URL, autocommit: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and enforced foreign keys.

    Server databases get a ping on every checkout (a restarted server costs no request), unless ``autocommit``
    is asked for: then every statement is its own transaction and the caller handles a dropped connection."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if autocommit:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
    else:
        engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite")
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


MIGRATION_LOCK = 0x636F637265617465
"""PostgreSQL advisory lock key ("cocreate") held while migrating."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to the newest Alembic revision (or to ``revision``).

    On PostgreSQL every process starting at once (web processes, workers) would otherwise race to create the
    same tables; an advisory lock held for the migration's transaction makes them take turns, and the later
    ones find the schema current.
    """
    from alembic import command
    from alembic.config import Config

    folder = Path(__file__).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(folder))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
