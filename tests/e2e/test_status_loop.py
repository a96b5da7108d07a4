"""The whole loop: a need synced to the tracker, R&D moves the issue, the need, the issue (one comment) and
the customer (e-mail at a real SMTP server, WeCom at a real HTTP server) all learn it once."""

import pytest
import responses
from sqlalchemy import select

from sync.ledger.store import Delivery, Need, OutboxMessage
from sync.loop.reconcile import reconcile
from tests.browser import OUTPUT, page, serve  # noqa: F401 - page: the Chromium fixture
from tests.e2e.loop import github_issues_event, jira_comment_created, jira_issue_updated, post_github, post_jira
from tests.factories import file_need
from tests.github.fake_github import FakeGitHub
from tests.jira.fake_jira import COCREATE_ACCOUNT, FakeJira, check_cloud_calls
from tests.notify.servers import http_recorder, smtp_server  # noqa: F401 - fixtures
from tests.sync.trackers import tracker_runtime
from webhooks.app import create_app


def loop_runtime(kind, tmp_path, smtp_server, http_recorder):
    http_recorder.reply(200, {"errcode": 0, "errmsg": "ok"})
    email_only = "channels: [{kind: email, to: [lin@acme.example]}]"
    email_and_wecom = ("channels: [{kind: email, to: [lin@acme.example]}, "
                       f"{{kind: wecom, url: '{http_recorder.url('/cgi-bin/webhook/send?key=k')}'}}]")
    return tracker_runtime(
        kind, tmp_path, replace={email_only: email_and_wecom},
        extra_yaml=("sync: {customer_comment_authors: [rd-engineer]}\n"
                    f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
                    f"sender: 'Cocreate <cocreate@example.com>'}}\n"))


def mails_to(smtp_server, address):
    return [mail for mail in smtp_server.messages if address in mail.rcpt_tos]


def need_status(runtime, ref="N-0001"):
    with runtime.Session() as session:
        return session.scalars(select(Need.status).where(Need.ref == ref)).one()


@pytest.fixture
def jira_loop(tmp_path, smtp_server, http_recorder):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei", "rd-engineer": "R&D"})
        runtime = loop_runtime("jira", tmp_path, smtp_server, http_recorder)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        yield fake, runtime, client
        check_cloud_calls(mock.calls)
        runtime.engine.dispose()


def test_jira_status_change_reaches_need_issue_and_customer_once(jira_loop, smtp_server, http_recorder):
    fake, runtime, client = jira_loop
    fake.set_status("CS-1", "In Progress", "indeterminate")
    payload = jira_issue_updated(fake.issue_json("CS-1"))
    answer = post_jira(client, payload, "jira-secret", delivery="d-1")
    assert answer.status_code == 202

    assert need_status(runtime) == "in_progress"
    comments = fake.comments["CS-1"]
    assert len(comments) == 1
    text = str(comments[0]["body"])
    assert "[Cocreate status sync]" in text and "Received → In progress" in text and "ACME Corp" in text
    customer_mail = mails_to(smtp_server, "lin@acme.example")
    assert len(customer_mail) == 1 and "N-0001" in customer_mail[0].message["Subject"]
    assert len(mails_to(smtp_server, "wang.wei@example.com")) == 1  # the CS owner is told too
    assert len(http_recorder.requests) == 1
    assert http_recorder.last.json()["msgtype"] == "markdown"
    assert "N-0001" in http_recorder.last.json()["markdown"]["content"]

    # The same delivery again, a new delivery of the same state, and Cocreate's own comment: nothing more.
    assert post_jira(client, payload, "jira-secret", delivery="d-1").status_code == 200
    assert post_jira(client, payload, "jira-secret", delivery="d-2").status_code == 202
    own = jira_comment_created(fake.issue_json("CS-1"), COCREATE_ACCOUNT, "[Cocreate status sync] ...")
    assert post_jira(client, own, "jira-secret").json["result"] == "ignored"
    assert len(fake.comments["CS-1"]) == 1
    assert len(smtp_server.messages) == 2 and len(http_recorder.requests) == 1
    with runtime.Session() as session:
        assert {row.state for row in session.scalars(select(OutboxMessage))} == {"sent"}


def test_jira_out_of_order_deliveries_end_in_the_current_state(jira_loop, smtp_server):
    fake, runtime, client = jira_loop
    fake.set_status("CS-1", "In Progress", "indeterminate")
    stale = jira_issue_updated(fake.issue_json("CS-1"))
    fake.set_status("CS-1", "Done", "done")
    fresh = jira_issue_updated(fake.issue_json("CS-1"), to_status="Done")
    post_jira(client, fresh, "jira-secret")
    post_jira(client, stale, "jira-secret")  # arrives late: the issue is read, not the payload
    assert need_status(runtime) == "done"
    assert len(fake.comments["CS-1"]) == 1
    assert len(mails_to(smtp_server, "lin@acme.example")) == 1


def test_jira_lost_webhook_is_caught_by_reconcile(jira_loop, smtp_server):
    fake, runtime, _client = jira_loop
    fake.set_status("CS-1", "Done", "done")  # no webhook arrives
    result = reconcile(runtime)
    assert result["changed"] == 1 and need_status(runtime) == "done"
    assert reconcile(runtime)["changed"] == 0  # applying again changes nothing
    assert len(fake.comments["CS-1"]) == 1
    assert len(mails_to(smtp_server, "lin@acme.example")) == 1


def test_comment_marked_for_the_customer_is_forwarded_and_internal_ones_are_not(jira_loop, smtp_server):
    fake, runtime, client = jira_loop
    fake.comments.setdefault("CS-1", [])
    for text in ("Internal: root cause is the PDF renderer", "[customer] The fix ships in release 4.2."):
        issue_payload = jira_comment_created(fake.issue_json("CS-1"), "rd-engineer", text)
        fake.comments["CS-1"].append(_comment_json(fake, len(fake.comments["CS-1"]) + 1, text))
        assert post_jira(client, issue_payload, "jira-secret").status_code == 202
    customer_mail = mails_to(smtp_server, "lin@acme.example")
    assert len(customer_mail) == 1
    body = customer_mail[0].message.get_body(("plain",)).get_content()
    assert "The fix ships in release 4.2." in body and "root cause" not in body


def _comment_json(fake, number, text):
    return {"id": str(20000 + number), "self": f"{fake.api}/issue/10001/comment/{20000 + number}",
            "author": {"accountId": "rd-engineer", "displayName": "R&D", "active": True},
            "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": text}]}]},
            "created": "2026-11-23T12:00:00.000+0000", "updated": "2026-11-23T12:00:00.000+0000"}


def test_github_closed_completed_reaches_need_issue_and_customer(tmp_path, smtp_server, http_recorder):
    with responses.RequestsMock() as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = loop_runtime("github", tmp_path, smtp_server, http_recorder)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        issue = fake.close("acme/billing#1", "completed")
        payload = github_issues_event("closed", issue, "acme/billing")
        assert post_github(client, "issues", payload, "github-secret").status_code == 202
        assert need_status(runtime) == "done"
        assert len(fake.comments("acme/billing#1")) == 1
        assert "Received → Done" in fake.comments("acme/billing#1")[0]["body"]
        assert len(mails_to(smtp_server, "lin@acme.example")) == 1
        assert len(http_recorder.requests) == 1
        # Cocreate's own comment comes back as an event: ignored, nothing loops.
        own = github_issues_event("edited", fake.issue("acme/billing#1"), "acme/billing", sender="cocreate-bot")
        assert post_github(client, "issues", own, "github-secret").json["result"] == "ignored"
        assert post_github(client, "issues", payload, "github-secret").status_code == 202
        assert len(fake.comments("acme/billing#1")) == 1
        with runtime.Session() as session:
            assert session.scalars(select(Delivery.outcome)).all() == ["queued", "ignored", "queued"]
        runtime.engine.dispose()


def test_status_page_in_chromium_shows_the_new_status(jira_loop, page):
    """After R&D moves the issue, the customer's own page (in a real browser) shows the new status."""
    from sync.ledger.customers import issue_status_token

    fake, runtime, client = jira_loop
    fake.set_status("CS-1", "In Progress", "indeterminate")
    assert post_jira(client, jira_issue_updated(fake.issue_json("CS-1")), "jira-secret").status_code == 202
    token = issue_status_token(runtime, "acme")
    with serve(create_app({}, runtime=runtime)) as url:
        page.goto(f"{url}/s/{token}")
        row = page.locator("tr#N-0001")
        assert row.locator(".col-status").inner_text() == "In progress"
        assert "Invoices should show the tax number" in row.inner_text()
        page.screenshot(path=str(OUTPUT / "customer-status-page.png"), full_page=True)
