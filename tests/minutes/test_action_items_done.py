"""Action items are done: marked on the minutes page (who and when kept), or by the tracker when their issue is
closed (a signed GitHub ``issues`` delivery, a Jira ``issue_updated`` to a status of the done category, or
reconcile); a reopened issue takes back only the tracker's mark."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import responses
from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import ActionItem
from sync.loop.reconcile import reconcile
from sync.minutes import action_items
from tests.e2e.loop import (
    github_issues_event,
    jira_issue_updated,
    post_github,
    post_jira,
)
from tests.github.fake_github import checked_site
from tests.jira.fake_jira import FakeJira, check_cloud_calls
from tests.minutes.helpers import JIRA_USERS, file_minutes, minutes_runtime
from tests.web.pages import csrf_token_of, log_in
from webhooks.app import create_app

ITEMS = [{"text": "Send a sample invoice", "owner": "Wang Wei", "due_date": ""},
         {"text": "Confirm the branch format", "owner": "Zhao Min", "due_date": ""}]


@pytest.fixture
def github():
    # Its clock is now's: reconcile asks for the issues updated in the last days.
    with checked_site(start=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) as fake:
        yield fake


@pytest.fixture
def jira():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeJira(mock, projects=("CS",), users=JIRA_USERS)
        check_cloud_calls(mock.calls)


def browser(runtime):
    """A client of an app on ``runtime`` with CSRF checked, logged in as CS user ``cs1``."""
    with runtime.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    log_in(client, csrf_token=csrf_token_of(client.get("/login").text))
    return client


def done(runtime) -> list[tuple[str, str | None, bool, bool]]:
    """Per action item: ref, who marked it done, whether the tracker did, whether a time is kept."""
    with runtime.Session() as session:
        return [(item.ref, item.done_by, item.done_by_tracker, item.done_at is not None)
                for item in session.scalars(select(ActionItem).order_by(ActionItem.position))]


def press(client, item_id: int, value: str) -> list[str]:
    """Press the done (``1``) or not-done (``0``) button of an action item on /minutes/1; the flashes after."""
    page = client.get("/minutes/1").text
    answer = client.post(f"/minutes/1/action-items/{item_id}/done",
                         data={"csrf_token": csrf_token_of(page), "done": value})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/minutes/1#action-item-{item_id}"
    html = client.get("/minutes/1").text
    return [unescape(text) for text in re.findall(r'<p class="flash [^"]+"[^>]*>(.*?)</p>', html, re.S)]


def done_cell(html: str, item_id: int) -> str:
    row = re.search(rf'<tr id="action-item-{item_id}">(.*?)</tr>', html, re.S).group(1)
    cell = re.search(r'<td class="col-done">(.*?)</td>', row, re.S).group(1)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def test_github_marks_an_action_item_done_when_its_issue_is_closed(github, tmp_path):
    rt = minutes_runtime("github", tmp_path)
    file_minutes(rt, action_items=ITEMS)
    assert action_items.request_issues(rt, 1) == [1, 2]
    client = browser(rt)

    assert press(client, 2, "1") == ["A-2 marked done."]  # by hand, before R&D closes anything
    assert done(rt) == [("A-1", None, False, False), ("A-2", "cs1", False, True)]
    assert done_cell(client.get("/minutes/1").text, 1) == "Mark done"
    assert press(client, 2, "1") == ["A-2 already was so; nothing was changed."]

    github.close("acme/billing#1")
    payload = github_issues_event("closed", github.issue("acme/billing#1"), "acme/billing")
    assert post_github(client, "issues", payload, "github-secret").status_code == 202
    assert done(rt) == [("A-1", "github", True, True), ("A-2", "cs1", False, True)]
    cell = done_cell(client.get("/minutes/1").text, 1)
    assert cell.startswith("✓ Done issue closed in GitHub · ") and cell.endswith("Not done")
    assert done_cell(client.get("/minutes/1").text, 2).startswith("✓ Done cs1 · ")

    # Reopened: the tracker's mark goes, the person's stays even when that issue is closed and reopened too.
    github.close("acme/billing#2", reason="not_planned")
    github.reopen("acme/billing#1")
    github.reopen("acme/billing#2")
    for key in ("acme/billing#1", "acme/billing#2"):
        payload = github_issues_event("reopened", github.issue(key), "acme/billing")
        assert post_github(client, "issues", payload, "github-secret").status_code == 202
    assert done(rt) == [("A-1", None, False, False), ("A-2", "cs1", False, True)]

    # A delivery lost: reconcile finds the closed issue.
    github.close("acme/billing#1")
    reconcile(rt)
    assert done(rt) == [("A-1", "github", True, True), ("A-2", "cs1", False, True)]

    assert press(client, 2, "0") == ["A-2 marked not done."]
    assert done(rt)[1] == ("A-2", None, False, False)
    rt.engine.dispose()


def test_jira_marks_an_action_item_done_by_the_status_category(jira, tmp_path):
    rt = minutes_runtime("jira", tmp_path)
    file_minutes(rt, action_items=ITEMS)
    action_items.request_issues(rt, 1)
    with rt.Session() as session:
        keys = list(session.scalars(select(ActionItem.issue_key).order_by(ActionItem.position)))
    assert keys == ["CS-1", "CS-2"]
    client = browser(rt)

    jira.set_status("CS-1", "In Review", "indeterminate")
    assert post_jira(client, jira_issue_updated(jira.issue_json("CS-1"), to_status="In Review"),
                     "jira-secret").status_code == 202
    assert done(rt)[0] == ("A-1", None, False, False)

    jira.set_status("CS-1", "Shipped", "done")  # a done status of any name
    assert post_jira(client, jira_issue_updated(jira.issue_json("CS-1"), to_status="Shipped"),
                     "jira-secret").status_code == 202
    assert done(rt) == [("A-1", "jira", True, True), ("A-2", None, False, False)]
    assert done_cell(client.get("/minutes/1").text, 1).startswith("✓ Done issue closed in Jira · ")
    rt.engine.dispose()


def test_marking_done_needs_the_csrf_token_and_an_item_of_these_minutes(tmp_path):
    rt = minutes_runtime("github", tmp_path)
    file_minutes(rt, action_items=ITEMS)
    file_minutes(rt, topic="Second meeting", action_items=ITEMS[:1])
    client = browser(rt)
    assert client.post("/minutes/1/action-items/1/done", data={"done": "1"}).status_code == 400
    token = csrf_token_of(client.get("/minutes/1").text)
    assert client.post("/minutes/1/action-items/3/done", data={"done": "1", "csrf_token": token}).status_code == 404
    assert done(rt)[0] == ("A-1", None, False, False)
    rt.engine.dispose()
