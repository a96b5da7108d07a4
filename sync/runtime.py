"""The composition root: everything a web process or worker needs at run time, built once from the settings.

It is the one module that knows every part: the store (``sync.ledger``), the queue and the inbox
(``sync.jobs``), the tracker adapter (``plugin``), and :data:`JOBS`, the explicit list of every job the queue
may run.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from plugin.base import TrackerAdapter
from plugin.customer import CustomerBook
from plugin.loading import data_home, database_url
from plugin.people import PeopleBook
from plugin.settings import Settings
from sync import sla
from sync.jobs.inbox import Inbox
from sync.jobs.metrics import InstrumentedAdapter
from sync.jobs.queue import Queue
from sync.jobs.registry import job_table
from sync.ledger import store
from sync.ledger.customers import CustomerCache
from sync.ledger.people import PeopleCache
from sync.loop import inbound, outbound, outbox, reconcile, releases
from sync.minutes import action_items
from sync.projects import reminders
from sync.table import checking

JOBS = job_table(
    outbound.sync_need,               # a need -> its issue (created once, changed fields written)
    outbound.sync_needs,              # many needs at once, after an import (bulk create where the tracker can)
    outbound.resume_syncs,            # needs whose sync never started, a chunk per job (queued by cocreate serve)
    inbound.apply_issue_change,       # a stored webhook delivery -> the issue's current state applied
    reconcile.reconcile,              # what the tracker changed since the watermark, for lost webhooks
    releases.apply_release,           # a released Jira version / published GitHub release -> needs shipped
    outbox.deliver_outbox,            # one status comment or customer notice, exactly once
    action_items.create_action_item_issue,  # an action item -> its issue
    sla.check_sla,                    # SLA breaches -> one escalation each
    reminders.check_meetings,         # overdue regular meetings -> one reminder to the lead per period
    checking.check_import,            # the dry run of a large uploaded sheet, its progress and report on file
)
"""Every job the queue runs, by name (stored in the ledger: a name never changes)."""


@dataclass
class Runtime:
    """Settings, data folder, database and job queue of one Cocreate process."""

    settings: Settings
    home: Path
    engine: Engine
    Session: sessionmaker
    queue: Queue = field(init=False)  # set by build_runtime
    adapter_factory: Callable[[Settings], TrackerAdapter] | None = None
    _adapter: TrackerAdapter | None = field(default=None, init=False, repr=False)

    @property
    def uploads(self) -> Path:
        return self.home / "uploads"

    def close(self) -> None:
        """Stop this process's inbox writers and close every database connection."""
        if "inbox" in self.__dict__:
            self.inbox.close()
        if "inbox_engine" in self.__dict__:
            self.inbox_engine.dispose()
        self.engine.dispose()

    @functools.cached_property
    def inbox(self) -> Inbox:
        """The webhook inbox of this process (``sync.jobs.inbox``)."""
        return Inbox(self)

    @functools.cached_property
    def inbox_engine(self) -> Engine:
        """A second engine on the same database, for the webhook inbox's single-statement writes (``sync.jobs.inbox``):
        its own pool, each statement its own transaction, no ping on checkout."""
        return store.make_engine(self.engine.url, autocommit=True)

    @functools.cached_property
    def secret_key(self) -> str:
        """``secret_key`` from the config, else a random key kept in the data folder across restarts."""
        if self.settings.secret_key:
            return self.settings.secret_key
        path = self.home / "secret_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip()

    @functools.cached_property
    def customer_cache(self) -> CustomerCache:
        return CustomerCache(self)

    def customers(self) -> CustomerBook:
        """The customer records as they are now in the store (reloaded when any process changed them); a request
        or a job takes one book and reads it throughout."""
        return self.customer_cache.book()

    @functools.cached_property
    def people_cache(self) -> PeopleCache:
        return PeopleCache(self)

    def people(self) -> PeopleBook:
        """The people directory as it is now in the store (reloaded when any process changed it); a request or a
        job takes one book and reads it throughout."""
        return self.people_cache.book()

    def adapter(self) -> TrackerAdapter:
        """The configured tracker's adapter, built on first use (no tracker call at start)."""
        if self._adapter is None:
            if self.settings.tracker is None:
                raise RuntimeError("no tracker configured")
            self._adapter = InstrumentedAdapter((self.adapter_factory or make_adapter)(self.settings))
        return self._adapter


def make_adapter(settings: Settings) -> TrackerAdapter:
    """The adapter for ``settings.tracker`` on the real client library."""
    if settings.tracker.kind == "jira":
        from plugin.jira import JiraAdapter

        return JiraAdapter(settings.tracker.jira)
    from plugin.github import GitHubAdapter

    return GitHubAdapter(settings.tracker.github)


def build_runtime(settings: Settings, environ: dict | None = None, *, immediate: bool = False,
                  migrate: bool = True) -> Runtime:
    """Open the store (migrating it unless told not to) and the job queue described by ``settings``.

    ``immediate`` runs jobs inline, in memory: for tests and one-shot commands.
    """
    environ = os.environ if environ is None else environ
    home = data_home(settings, environ)
    home.mkdir(parents=True, exist_ok=True)
    engine = store.make_engine(database_url(settings, environ))
    if migrate:
        store.migrate(engine)
    runtime = Runtime(settings=settings, home=home, engine=engine, Session=store.make_session_factory(engine))
    runtime.queue = Queue(runtime, environ, JOBS, immediate=immediate)
    if migrate:
        # The file's customers and people are stored now, before any job's transaction needs them.
        runtime.customers()
        runtime.people()
    return runtime
