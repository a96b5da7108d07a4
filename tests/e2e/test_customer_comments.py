"""Who may talk to customers: a ``[customer]`` comment is forwarded only when a team member wrote it.

GitHub deliveries are the captured ``issue_comment`` payload, Jira's the ``comment_created`` shape; the comments
themselves are read back from the fake trackers as the real clients read them."""

import copy
import json

import pytest
import responses
from sqlalchemy import select

from sync.ledger import accounts
from sync.ledger.store import OutboxMessage
from tests.e2e.loop import FIXTURES, jira_comment_created, post_github, post_jira
from tests.factories import file_need
from tests.github.fake_github import FakeGitHub
from tests.jira.fake_jira import FakeJira
from tests.notify.servers import smtp_server  # noqa: F401 - fixture
from tests.sync.trackers import tracker_runtime
from tests.web.pages import log_in
from webhooks.app import create_app

SCAM = "[customer] Your contract lapsed. Re-enter your card at https://evil.example/pay"
REAL = "[customer] The fix ships in release 4.2."


def _runtime(kind, tmp_path, smtp_server):
    return tracker_runtime(kind, tmp_path, extra_yaml=(
        f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
        f"sender: 'Cocreate <cocreate@example.com>'}}\n"))


def _customer_mail(smtp_server):
    return [mail.message.get_body(("plain",)).get_content() for mail in smtp_server.messages
            if "lin@acme.example" in mail.rcpt_tos]


def _refused(runtime):
    with runtime.Session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.state == "refused")).all()


def github_comment_event(issue: dict, comment: dict, repo: str) -> dict:
    """The captured ``issue_comment.created`` delivery, about ``comment`` on ``issue``."""
    payload = json.loads((FIXTURES / "github" / "issue_comment__created.json").read_text(encoding="utf-8"))
    payload["issue"] = copy.deepcopy(issue)
    payload["comment"] = copy.deepcopy(comment)
    payload["repository"] = {**payload["repository"], "full_name": repo, "name": repo.split("/")[1]}
    payload["sender"] = {**payload["sender"], "login": comment["user"]["login"]}
    return payload


@pytest.fixture
def github_loop(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = _runtime("github", tmp_path, smtp_server)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        yield fake, runtime, client
        runtime.engine.dispose()


def test_github_stranger_customer_comment_is_refused_and_shown_to_cs(github_loop, smtp_server):
    fake, runtime, client = github_loop
    comment = fake.comment("acme/billing#1", SCAM, login="mallory", association="NONE")
    event = github_comment_event(fake.issue("acme/billing#1"), comment, "acme/billing")
    assert event["comment"]["author_association"] == "NONE"
    assert post_github(client, "issue_comment", event, "github-secret").status_code == 202
    assert _customer_mail(smtp_server) == []
    refused = _refused(runtime)
    assert len(refused) == 1 and refused[0].reason == "not_member" and "mallory" in refused[0].last_error
    # The same comment delivered again is recorded once.
    post_github(client, "issue_comment", event, "github-secret")
    assert len(_refused(runtime)) == 1
    # CS sees it on the need page, in the page's language, never sent.
    with runtime.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    page_client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(page_client)
    page = page_client.get("/needs/N-0001", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "not forwarded: not a member" in page and "R&amp;D comment by mallory" in page
    page = page_client.get("/needs/N-0001", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "未轉發：非團隊成員" in page


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_github_member_customer_comment_is_forwarded_with_the_writer(github_loop, smtp_server, association):
    fake, runtime, client = github_loop
    comment = fake.comment("acme/billing#1", REAL, login="octo-dev", association=association)
    event = github_comment_event(fake.issue("acme/billing#1"), comment, "acme/billing")
    assert post_github(client, "issue_comment", event, "github-secret").status_code == 202
    bodies = _customer_mail(smtp_server)
    assert len(bodies) == 1
    assert "The fix ships in release 4.2." in bodies[0] and "A message from octo-dev of our team" in bodies[0]
    assert _refused(runtime) == []


def test_github_people_directory_login_is_a_member_by_its_name(github_loop, smtp_server):
    fake, _runtime_, client = github_loop
    comment = fake.comment("acme/billing#1", REAL, login="wangwei", association="CONTRIBUTOR")
    event = github_comment_event(fake.issue("acme/billing#1"), comment, "acme/billing")
    post_github(client, "issue_comment", event, "github-secret")
    bodies = _customer_mail(smtp_server)
    assert len(bodies) == 1 and "A message from Wang Wei of our team" in bodies[0]


@pytest.fixture
def jira_loop(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei", "acc-stranger": "Wang Wei"})
        runtime = _runtime("jira", tmp_path, smtp_server)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        fake.comments.setdefault("CS-1", [])
        yield fake, runtime, client
        runtime.engine.dispose()


def _jira_comment(fake, account_id, display_name, text):
    number = len(fake.comments["CS-1"]) + 1
    fake.comments["CS-1"].append({
        "id": str(20000 + number), "self": f"{fake.api}/issue/10001/comment/{20000 + number}",
        "author": {"accountId": account_id, "displayName": display_name, "active": True},
        "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": text}]}]},
        "created": "2026-11-23T12:00:00.000+0000", "updated": "2026-11-23T12:00:00.000+0000"})


def test_jira_stranger_customer_comment_is_refused_even_under_a_members_name(jira_loop, smtp_server):
    fake, runtime, client = jira_loop
    # A service-desk customer (or anyone with comment rights) who took the display name of a team member.
    _jira_comment(fake, "acc-stranger", "Wang Wei", SCAM)
    payload = jira_comment_created(fake.issue_json("CS-1"), "acc-stranger", SCAM)
    assert post_jira(client, payload, "jira-secret").status_code == 202
    assert _customer_mail(smtp_server) == []
    refused = _refused(runtime)
    assert len(refused) == 1 and refused[0].reason == "not_member"


def test_jira_people_directory_member_comment_is_forwarded_with_the_writer(jira_loop, smtp_server):
    fake, runtime, client = jira_loop
    _jira_comment(fake, "acc-wang", "Wei W.", REAL)
    assert post_jira(client, jira_comment_created(fake.issue_json("CS-1"), "acc-wang", REAL),
                     "jira-secret").status_code == 202
    bodies = _customer_mail(smtp_server)
    assert len(bodies) == 1 and "A message from Wang Wei of our team" in bodies[0]
    assert _refused(runtime) == []


def test_jira_allow_listed_account_is_a_member(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei", "acc-support": "Support"})
        runtime = tracker_runtime("jira", tmp_path, extra_yaml=(
            "sync: {customer_comment_authors: [acc-support]}\n"
            f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
            f"sender: 'Cocreate <cocreate@example.com>'}}\n"))
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        fake.comments.setdefault("CS-1", [])
        _jira_comment(fake, "acc-support", "Support desk", REAL)
        post_jira(client, jira_comment_created(fake.issue_json("CS-1"), "acc-support", REAL), "jira-secret")
        bodies = _customer_mail(smtp_server)
        assert len(bodies) == 1 and "A message from Support desk of our team" in bodies[0]
        runtime.engine.dispose()
