"""A status CS sets by hand: recorded with its note, told to the customer once through the outbox; once the need
has a tracker issue the tracker sets the status, the page says so, and both changes stay in the history."""

from __future__ import annotations

import re
from html import unescape

import pytest
import responses
from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import Need, OutboxMessage, StatusChange
from sync.loop.outbound import queue_resume
from sync.loop.status import StatusSetByTracker, set_status_by_hand
from tests.e2e.loop import jira_issue_updated, post_jira
from tests.factories import file_need
from tests.jira.fake_jira import FakeJira, check_cloud_calls
from tests.notify.servers import smtp_server  # noqa: F401 - fixture
from tests.sync.trackers import tracker_runtime
from tests.web.pages import log_in
from webhooks.app import create_app


def smtp_yaml(smtp_server) -> str:
    return (f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
            f"sender: 'Cocreate <cocreate@example.com>'}}\n")


def browser(runtime, user: str = "cs1"):
    """A logged-in test client (CSRF off) of an app on ``runtime``."""
    with runtime.Session.begin() as session:
        if session.scalar(select(accounts.User).where(accounts.User.name == user)) is None:
            accounts.add_user(session, user, "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(client, user)
    return client


def status_history(runtime) -> list[tuple]:
    with runtime.Session() as session:
        return [(row.status, row.previous, row.source, row.actor, row.note)
                for row in session.scalars(select(StatusChange).order_by(StatusChange.id))]


def outbox(runtime) -> list[tuple]:
    with runtime.Session() as session:
        return [(row.kind, row.channel, row.target, row.payload["old"], row.payload["new"], row.state)
                for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def history_rows(html: str) -> list[list[str]]:
    table = html[html.index("<h2>Status history</h2>"):].split("</table>")[0]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "<td" in row]


@pytest.fixture
def jira():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        yield FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei", "rd-engineer": "R&D"})
        check_cloud_calls(mock.calls)


def test_a_status_set_by_hand_is_told_once_then_the_tracker_wins(jira, tmp_path, smtp_server):
    home = tmp_path / "home"
    before = tracker_runtime("jira", home, tracker=False, extra_yaml=smtp_yaml(smtp_server))
    file_need(before)
    client = browser(before)

    page = client.post("/needs/N-0001/status", data={"status": "declined", "note": "Out of scope for 2026"},
                       follow_redirects=True).text
    assert "Status set to Declined." in page
    again = client.post("/needs/N-0001/status", data={"status": "declined", "note": "twice"}, follow_redirects=True)
    assert "The status already was Declined; nobody was told again." in again.text

    assert status_history(before) == [("new", None, "cs", None, ""),
                                      ("declined", "new", "cs", "cs1", "Out of scope for 2026")]
    # One notice to the customer's one channel and one to the owner; no issue, so no status-sync comment.
    assert outbox(before) == [("customer", "email", "0", "new", "declined", "sent"),
                              ("owner", "email", "wang.wei@example.com", "new", "declined", "sent")]
    customer_mail = [mail for mail in smtp_server.messages if "lin@acme.example" in mail.rcpt_tos]
    assert len(customer_mail) == 1 and "N-0001" in customer_mail[0].message["Subject"]
    assert "Out of scope" not in customer_mail[0].message.get_body(("plain",)).get_content()  # the note is ours
    before.engine.dispose()

    # A tracker is configured: the need gets its issue, and from then on the tracker sets its status.
    after = tracker_runtime("jira", home, extra_yaml=smtp_yaml(smtp_server))
    assert queue_resume(after)
    with after.Session() as session:
        assert session.scalars(select(Need.issue_key)).one() == "CS-1"
    client = browser(after)
    page = client.get("/needs/N-0001").text
    assert "The tracker sets this need's status: change it in CS-1, and the customer is told from there." in page
    assert 'action="/needs/N-0001/status"' not in page
    refused = client.post("/needs/N-0001/status", data={"status": "accepted", "note": ""}, follow_redirects=True)
    assert "The tracker sets this need&#39;s status: change it in CS-1." in refused.text
    with pytest.raises(StatusSetByTracker):
        set_status_by_hand(after, "N-0001", "accepted", "", "cs1")

    jira.set_status("CS-1", "In Progress", "indeterminate")
    assert post_jira(client, jira_issue_updated(jira.issue_json("CS-1")), "jira-secret").status_code == 202

    assert status_history(after)[-1] == ("in_progress", "declined", "tracker", "jira", "In Progress")
    rows = history_rows(client.get("/needs/N-0001").text)
    assert [(row[1], row[2], row[3], row[4], row[5]) for row in rows] == [
        ("In progress", "Declined", "Tracker", "Jira", "R&D moved the issue to “In Progress” in Jira"),
        ("Declined", "Received", "Customer success", "cs1", "Out of scope for 2026"),
        ("Received", "—", "Customer success", "", ""),
    ]
    customer_mail = [mail for mail in smtp_server.messages if "lin@acme.example" in mail.rcpt_tos]
    assert len(customer_mail) == 2  # the tracker's change is told once more, through the same outbox
    after.engine.dispose()


def test_an_unknown_status_is_refused(runtime, make_need, cs_client):
    make_need()

    response = cs_client.post("/needs/N-0001/status", data={"status": "teleported", "note": ""},
                              follow_redirects=True)

    assert "Unknown status teleported." in response.text
    assert status_history(runtime) == [("new", None, "cs", None, "")]
