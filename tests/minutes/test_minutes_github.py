"""Minutes against a fake GitHub through PyGithub: action items become issues assigned by login with the due
date as a line of the body; the linked needs' issues list the minutes in the Cocreate section."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.ledger.store import ActionItem
from sync.loop import mapping
from sync.minutes import action_items
from tests.factories import file_need
from tests.github.fake_github import checked_site
from tests.minutes.helpers import file_minutes, minutes_runtime

MINUTES_URL = "https://cocreate.example/minutes/1"


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


@pytest.fixture
def rt(tmp_path):
    runtime = minutes_runtime("github", tmp_path)
    yield runtime
    runtime.engine.dispose()


def test_action_items_become_issues_with_assignee_and_a_due_line(site, rt):
    file_need(rt)
    file_need(rt, title="Invoice PDF in English")
    site.edit("acme/billing#1", body="R&D notes stay.\n\n" + site.issue("acme/billing#1")["body"])
    file_minutes(rt, needs="N-0001 N-0002", action_items=[
        {"text": "Send a sample invoice", "owner": "Wang Wei", "due_date": "2026-12-01"},
        {"text": "Confirm the branch format", "owner": "Zhao Min", "due_date": ""},
    ])
    for key in ("acme/billing#1", "acme/billing#2"):
        body = site.issue(key)["body"]
        assert f"(<{MINUTES_URL}>)" in body and "### Meeting minutes" in body
    assert site.issue("acme/billing#1")["body"].startswith("R&D notes stay.")

    assert len(action_items.request_issues(rt, 1)) == 2

    with rt.Session() as session:
        first, second = session.scalars(select(ActionItem).order_by(ActionItem.position))
    assert (first.issue_key, second.issue_key) == ("acme/billing#3", "acme/billing#4")
    issue, other = site.issue("acme/billing#3"), site.issue("acme/billing#4")
    assert [user["login"] for user in issue["assignees"]] == ["wangwei"]
    assert [user["login"] for user in other["assignees"]] == ["zhaomin"]
    assert "| **Due date** | 2026\\-12\\-01 |" in issue["body"]  # GitHub has no due-date field
    assert "Due date" not in other["body"]
    assert issue["body"].startswith(mapping.GITHUB_SECTION_START)
    assert f"(<{MINUTES_URL}>)" in issue["body"]  # linked back to the minutes
    assert {label["name"] for label in issue["labels"]} >= {"cocreate-A-1", "cocreate"}
    assert issue["milestone"] is None


def test_an_action_item_joins_the_milestone_due_that_day(site, rt):
    import datetime as dt

    site.add_milestone("acme/billing", "Sprint 48", dt.date(2026, 12, 1))
    site.add_milestone("acme/billing", "Sprint 49", dt.date(2026, 12, 15))
    file_need(rt)
    file_minutes(rt, needs="N-0001", action_items=[
        {"text": "Send a sample invoice", "owner": "Wang Wei", "due_date": "2026-12-01"},
        {"text": "Review the draft", "owner": "Wang Wei", "due_date": "2026-12-03"},
    ])
    action_items.request_issues(rt, 1)
    matched, unmatched = site.issue("acme/billing#2"), site.issue("acme/billing#3")
    assert matched["milestone"]["title"] == "Sprint 48"
    assert unmatched["milestone"] is None
    assert "| **Due date** | 2026\\-12\\-03 |" in unmatched["body"]  # no milestone that day: the due line
