"""Copy the people directory from the config into the store at start (the customers are applied when the runtime
first reads them: ``sync.ledger.customers.apply_config``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sync.ledger.store import Person

if TYPE_CHECKING:
    from sync.runtime import Runtime


def load_directory(runtime: Runtime) -> None:
    """Upsert the people named in the config; rows created elsewhere are left alone."""
    try:
        _load(runtime)
    except IntegrityError:
        # Another process starting at the same moment (web processes, workers) inserted the same rows first;
        # the second pass finds them and updates them instead.
        _load(runtime)


def _load(runtime: Runtime) -> None:
    settings = runtime.settings
    with runtime.Session.begin() as session:
        people = {row.name: row for row in session.scalars(select(Person))}
        for person in settings.people:
            row = people.get(person.name) or Person(name=person.name)
            row.email, row.jira_account_id, row.github_login = (
                person.email, person.jira_account_id, person.github_login)
            session.add(row)
