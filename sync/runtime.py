"""Everything a web process or worker needs at run time, built once from the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from plugin.settings import Settings, data_home, database_url
from sync import store


@dataclass
class Runtime:
    """Settings, data folder, database and job queue of one Cocreate process."""

    settings: Settings
    home: Path
    engine: Engine
    Session: sessionmaker
    queue: "Queue" = field(init=False)  # noqa: F821 - set by build_runtime

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"


def build_runtime(settings: Settings, environ: dict | None = None, *, immediate: bool = False,
                  migrate: bool = True) -> Runtime:
    """Open the store (migrating it unless told not to) and the job queue described by ``settings``.

    ``immediate`` runs jobs inline, in memory: for tests and one-shot commands.
    """
    from sync.queue import Queue

    environ = os.environ if environ is None else environ
    home = data_home(settings, environ)
    home.mkdir(parents=True, exist_ok=True)
    engine = store.make_engine(database_url(settings, environ))
    if migrate:
        store.migrate(engine)
    runtime = Runtime(settings=settings, home=home, engine=engine, Session=store.make_session_factory(engine))
    runtime.queue = Queue(runtime, environ, immediate=immediate)
    return runtime
