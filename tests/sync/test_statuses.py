"""Tracker state -> customer-facing status, for Jira (categories and overrides) and GitHub (state, reason, labels)."""

import pytest

from plugin.base import IssueState
from plugin.loading import parse_settings
from sync.loop.status import customer_status

JIRA = parse_settings("""
tracker: {kind: jira, jira: {url: 'https://x.atlassian.net', email: a@b.c, api_token: t,
          status_overrides: {Selected for Development: scheduled, "Won't Do": declined}}}
categories: [{key: c, name: C, jira_project: C}]
""", "j.yaml")
GITHUB = parse_settings("""
tracker: {kind: github, github: {token: t}}
categories: [{key: c, name: C, github_repo: o/r}]
statuses:
  - {key: new, name: New}
  - {key: accepted, name: Accepted, github_label: "status: accepted"}
  - {key: in_progress, name: In progress, github_label: "status: in progress"}
  - {key: done, name: Done}
  - {key: declined, name: Declined}
""", "g.yaml")


def state(status_name="Open", category="new", reason=None, labels=()):
    return IssueState(key="K-1", url="u", title="t", labels=frozenset(labels), status_name=status_name,
                      status_category=category, state_reason=reason)


@pytest.mark.parametrize(("name", "category", "expected"), [
    ("To Do", "new", "new"),
    ("In Progress", "indeterminate", "in_progress"),
    ("In Review", "indeterminate", "in_progress"),
    ("Done", "done", "done"),
    ("Selected for Development", "new", "scheduled"),
    ("selected for development", "new", "scheduled"),
    ("Won't Do", "done", "declined"),
])
def test_jira(name, category, expected):
    assert customer_status(JIRA, state(name, category)) == expected


@pytest.mark.parametrize(("category", "reason", "labels", "expected"), [
    ("new", None, (), "new"),
    ("new", "reopened", ("bug",), "new"),
    ("new", None, ("status: accepted",), "accepted"),
    ("new", None, ("status: accepted", "status: in progress"), "in_progress"),
    ("done", "completed", ("status: in progress",), "done"),
    ("done", None, (), "done"),
    ("done", "not_planned", (), "declined"),
])
def test_github(category, reason, labels, expected):
    assert customer_status(GITHUB, state("open" if category == "new" else "closed", category, reason, labels)) == expected
