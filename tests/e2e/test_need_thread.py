"""A need's thread end to end: an internal note reaches no one outside CS (not the status page, a notice by e-mail
at a real SMTP server or by signed webhook at a real HTTP server, an exported table, nor the tracker), a reply
reaches every one of them once, and R&D's ``[customer]`` comment arrives by a signed GitHub webhook into the
thread and onto the status page."""

import io
import json

import pytest
import responses
from sqlalchemy import select

from sync.ledger.customers import issue_status_token
from sync.ledger.store import NeedMessage, OutboxMessage
from sync.loop.thread import add_message
from sync.table.export import export_table
from tests.e2e.loop import github_issue_comment, post_github
from tests.factories import file_need
from tests.github.fake_github import FakeGitHub
from tests.notify.servers import http_recorder, smtp_server  # noqa: F401 - fixtures
from tests.sync.trackers import tracker_runtime
from webhooks.app import create_app

NOTE = "內部：客戶合約快到期，先別承諾日期"
REPLY = "感謝您的耐心，研發已排入十二月的版本。"
ISSUE = "acme/billing#1"


def thread_runtime(tmp_path, smtp_server, http_recorder, *, mirror: bool):
    http_recorder.reply(200, {"ok": True})
    return tracker_runtime(
        "github", tmp_path, replace={
            "    locale: en\n    channels: [{kind: email, to: [lin@acme.example]}]":
            "    locale: zh-Hant\n    channels: [{kind: email, to: [lin@acme.example]}, "
            f"{{kind: webhook, url: '{http_recorder.url('/notices')}', secret: notice-secret}}]"},
        extra_yaml=(f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
                    f"sender: 'Cocreate <cocreate@example.com>'}}\n"
                    f"sync: {{mirror_replies: {'true' if mirror else 'false'}}}\n"))


@pytest.fixture
def github_thread(tmp_path, smtp_server, http_recorder):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = thread_runtime(tmp_path, smtp_server, http_recorder, mirror=True)
        file_need(runtime)
        yield fake, runtime
        runtime.engine.dispose()


def customer_mails(smtp_server):
    return [mail.message.get_body(("plain",)).get_content() for mail in smtp_server.messages
            if "lin@acme.example" in mail.rcpt_tos]


def webhook_bodies(http_recorder):
    """Each notice the webhook channel received, as text (JSON escapes undone, so Chinese reads as itself)."""
    return [json.dumps(request.json(), ensure_ascii=False) for request in http_recorder.requests]


def status_page(runtime, language: str = "en"):
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    return client.get(f"/s/{issue_status_token(runtime, 'acme')}",
                      headers={"Accept-Language": language}).get_data(as_text=True)


def messages(runtime):
    with runtime.Session() as session:
        return session.scalars(select(NeedMessage).order_by(NeedMessage.id)).all()


def test_internal_note_reaches_no_customer_and_no_tracker_and_a_reply_reaches_all_once(
        github_thread, smtp_server, http_recorder):
    fake, runtime = github_thread
    comments_before = len(fake.comments(ISSUE))

    add_message(runtime, "N-0001", "internal", NOTE, "cs1")
    assert customer_mails(smtp_server) == [] and http_recorder.requests == []
    assert len(fake.comments(ISSUE)) == comments_before
    with runtime.Session() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(["reply", "comment"]))).all() == []

    add_message(runtime, "N-0001", "customer", REPLY, "cs1")

    mails = customer_mails(smtp_server)
    assert len(mails) == 1 and REPLY in mails[0] and NOTE not in mails[0]
    assert "我們的留言" in mails[0]  # in the customer's language
    bodies = webhook_bodies(http_recorder)
    assert len(bodies) == 1 and REPLY in json.loads(bodies[0])["text"] and NOTE not in bodies[0]
    posted = fake.comments(ISSUE)[comments_before:]
    assert len(posted) == 1 and REPLY in posted[0]["body"] and NOTE not in posted[0]["body"]
    assert all(NOTE not in comment["body"] for comment in fake.comments(ISSUE))

    page = status_page(runtime)
    assert REPLY in page and NOTE not in page
    exported = io.BytesIO()
    export_table(runtime, exported, "csv", filters={"customer": "acme"})
    assert NOTE not in exported.getvalue().decode("utf-8-sig")

    note, reply = messages(runtime)
    assert (note.kind, note.delivery_state, note.tracker_comment_id) == ("internal", None, None)
    assert (reply.kind, reply.delivery_state) == ("customer", "sent")
    assert reply.tracker_comment_id == str(posted[0]["id"])


def test_rnd_customer_comment_by_signed_webhook_joins_the_thread_and_the_status_page_once(
        github_thread, smtp_server):
    fake, runtime = github_thread
    client = create_app({"TESTING": True}, runtime=runtime).test_client()
    internal = fake.comment(ISSUE, "Root cause: the PDF renderer drops the field.", login="rd-dev")
    marked = fake.comment(ISSUE, "[customer] 統一編號將於 4.2 版顯示在 PDF 發票上。", login="rd-dev")
    issue = fake.issue(ISSUE)
    for comment in (internal, marked, marked):  # the last: GitHub delivering the same event again
        payload = github_issue_comment(issue, comment, "acme/billing")
        assert post_github(client, "issue_comment", payload, "github-secret").status_code == 202

    [message] = messages(runtime)
    assert (message.kind, message.author, message.body) == ("rnd", "rd-dev", "統一編號將於 4.2 版顯示在 PDF 發票上。")
    assert message.tracker_comment_id == str(marked["id"]) and message.delivery_state == "sent"
    mails = customer_mails(smtp_server)
    assert len(mails) == 1 and "4.2" in mails[0] and "Root cause" not in mails[0]
    page = status_page(runtime)
    assert "統一編號將於 4.2 版顯示在 PDF 發票上。" in page and "Root cause" not in page
    assert "來自研發團隊" in status_page(runtime, "zh-TW")


def test_a_reply_is_not_mirrored_to_the_issue_unless_configured(tmp_path, smtp_server, http_recorder):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = thread_runtime(tmp_path, smtp_server, http_recorder, mirror=False)
        file_need(runtime)
        before = len(fake.comments(ISSUE))
        add_message(runtime, "N-0001", "customer", REPLY, "cs1")
        assert len(fake.comments(ISSUE)) == before
        assert len(customer_mails(smtp_server)) == 1
        runtime.engine.dispose()


def test_a_reply_to_a_customer_without_channels_says_it_was_not_sent(runtime, make_need):
    make_need(customer="globex")
    message = add_message(runtime, "N-0001", "customer", REPLY, "cs1")
    assert message.delivery_state == "no_channel"
    with runtime.Session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
