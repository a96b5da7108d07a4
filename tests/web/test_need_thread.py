"""The thread on the need page: CS writes internal notes and replies; the customer's page shows only the replies."""

from __future__ import annotations

from plugin.loading import parse_settings
from sync.ledger import accounts
from sync.ledger.customers import issue_status_token
from sync.loop.thread import add_message
from tests.factories import DEFAULT_YAML, file_need, migrated_runtime
from tests.web.pages import log_in
from webhooks.app import create_app


def test_cs_adds_a_note_and_a_reply_and_sees_both_marked(cs_client, make_need):
    make_need()
    answer = cs_client.post("/needs/N-0001/messages", data={"kind": "internal", "body": "Call them on Friday."})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/needs/N-0001#thread")
    cs_client.post("/needs/N-0001/messages", data={"kind": "customer", "body": "It is scheduled."})

    html = cs_client.get("/needs/N-0001").get_data(as_text=True)
    thread = html[html.index('id="thread"'):]
    assert thread.index("Call them on Friday.") < thread.index("It is scheduled.")
    assert "Internal note" in thread and "Reply to the customer" in thread
    assert "not sent: the customer has no channel" in thread  # acme has no channel in the default config


def test_an_empty_message_is_refused_on_the_page(cs_client, make_need):
    make_need()
    answer = cs_client.post("/needs/N-0001/messages", data={"kind": "internal", "body": "  "})
    assert answer.status_code == 400
    assert "Write a message first" in answer.get_data(as_text=True)


def test_a_kind_cs_does_not_write_is_a_bad_request(cs_client, make_need):
    make_need()
    assert cs_client.post("/needs/N-0001/messages", data={"kind": "rnd", "body": "hi"}).status_code == 400
    assert cs_client.post("/needs/N-9999/messages", data={"kind": "internal", "body": "hi"}).status_code == 404


def test_the_status_page_shows_replies_and_never_internal_notes(runtime, client, make_need):
    make_need()
    add_message(runtime, "N-0001", "internal", "Contract renewal is at risk.", "cs1")
    add_message(runtime, "N-0001", "customer", "We will call you on Friday.", "cs1")
    html = client.get(f"/s/{issue_status_token(runtime, 'acme')}").get_data(as_text=True)
    assert "We will call you on Friday." in html and "From your customer success team" in html
    assert "Contract renewal" not in html and "Internal note" not in html


def test_the_thread_needs_a_login(client, make_need):
    make_need()
    assert client.post("/needs/N-0001/messages", data={"kind": "internal", "body": "hi"}).status_code in (302, 400)


def test_a_reply_is_listed_as_sent_to_the_customer_not_to_an_owner(tmp_path, migrated_store):
    settings = parse_settings(DEFAULT_YAML.replace(
        "    locale: en\n", "    locale: en\n    channels: [{kind: email, to: [lin@acme.example]}]\n"), "test.yaml")
    runtime = migrated_runtime(settings, tmp_path / "home", migrated_store)
    file_need(runtime)
    with runtime.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(client)

    client.post("/needs/N-0001/messages", data={"kind": "customer", "body": "It is scheduled."})

    html = client.get("/needs/N-0001").get_data(as_text=True)
    deliveries = html[html.index('id="deliveries"'):]
    assert "ACME Corp (e-mail)" in deliveries and "owner 0" not in deliveries
    runtime.close()
