"""Minutes test helpers: a runtime with a tracker and people, minutes as submitted and as filed, row counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from sync.ledger import accounts
from sync.ledger.store import ActionItem, Job, MeetingMinutes, MinutesVersion, NeedMinutes
from sync.minutes.records import create_minutes, validate_minutes
from tests.factories import NOW
from tests.sync.trackers import tracker_runtime
from tests.web.pages import log_in
from webhooks.app import create_app

TODAY = NOW.date()


WANG = "  - {name: Wang Wei, email: wang.wei@example.com, jira_account_id: acc-wang, github_login: wangwei}\n"


ZHAO = "  - {name: Zhao Min, email: zhao.min@example.com, jira_account_id: acc-zhao, github_login: zhaomin}\n"


JIRA_USERS = {"acc-wang": "Wang Wei", "acc-zhao": "Zhao Min"}


def minutes_runtime(kind: str, home):
    """A runtime on the fake ``jira`` or ``github`` site whose people directory holds Wang Wei and Zhao Min."""
    return tracker_runtime(kind, home, replace={WANG: WANG + ZHAO})


def minutes_data(**overrides) -> dict:
    """Valid submitted minutes as the form sends them; a test names only what differs."""
    data = {
        "customer": "acme",
        "topic": "Invoice workshop",
        "date": "2026-11-20",
        "time": "14:00",
        "place": "ACME HQ, room 3",
        "attendees": "Li Na\nWang Wei",
        "key_points": "Finance files every invoice by tax number.",
        "decisions": "Show the tax number on every PDF invoice.",
        "open_questions": "Which tax number format for branches?",
        "needs": "",
        "visibility": "internal",
        "external_url": "",
        "action_items": [],
    }
    data.update(overrides)
    return data


def file_minutes(runtime, today: dt.date = TODAY, created_by: str = "cs1", **overrides):
    """Minutes checked and stored as the form would; returns the stored row."""
    with runtime.Session() as session:
        checked = validate_minutes(minutes_data(**overrides), runtime.settings, session, today=today)
    return create_minutes(runtime, checked, created_by=created_by)


def row_counts(runtime) -> dict[str, int]:
    """How many rows each minutes table and the job ledger hold."""
    with runtime.Session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (MeetingMinutes, ActionItem, NeedMinutes, MinutesVersion, Job)}


def logged_in_client(runtime, name: str = "cs1"):
    """A test client of an app on ``runtime`` (CSRF off), logged in as CS user ``name``."""
    with runtime.Session.begin() as session:
        accounts.add_user(session, name, "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(client, name)
    return client
