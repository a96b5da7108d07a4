"""GET and POST /api/v1/needs/<ref>/messages: the need's thread, as the document describes it."""

from __future__ import annotations

from sqlalchemy import select

from sync.ledger.store import OutboxMessage


def test_a_note_and_a_reply_are_added_and_read_back_in_order(api, make_need):
    make_need()
    note = api.post("/api/v1/needs/N-0001/messages", {"kind": "internal", "body": "  Only for us.  "})
    reply = api.post("/api/v1/needs/N-0001/messages", {"kind": "customer", "body": "Scheduled for December."})

    assert note.status_code == 201 and reply.status_code == 201
    assert note.get_json()["body"] == "Only for us." and note.get_json()["author"] == "api-user"
    assert note.get_json()["delivery_state"] is None
    items = api.get("/api/v1/needs/N-0001/messages").get_json()["items"]
    assert [(item["kind"], item["body"]) for item in items] == [
        ("internal", "Only for us."), ("customer", "Scheduled for December.")]


def test_an_internal_note_queues_nothing(api, make_need, runtime):
    make_need()
    api.post("/api/v1/needs/N-0001/messages", {"kind": "internal", "body": "Only for us."})
    with runtime.Session() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_bad_messages_are_422_naming_the_field(api, make_need):
    make_need()
    for body, field in (({"kind": "rnd", "body": "R&D writes in the tracker"}, "kind"),
                        ({"kind": "internal", "body": "   "}, "body"),
                        ({"kind": "internal", "body": "x" * 10_001}, "body"),
                        ({"kind": "internal", "body": 42}, "body"),
                        ({"kind": "internal", "body": "hi", "author": "someone else"}, "author")):
        answer = api.post("/api/v1/needs/N-0001/messages", body)
        assert answer.status_code == 422, body
        assert field in answer.get_json()["fields"]
    assert api.get("/api/v1/needs/N-0001/messages").get_json()["items"] == []


def test_an_unknown_need_is_404(api):
    assert api.get("/api/v1/needs/N-9999/messages").status_code == 404
    assert api.post("/api/v1/needs/N-9999/messages", {"kind": "internal", "body": "hi"}).status_code == 404


def test_a_token_is_needed(api, make_need):
    make_need()
    assert api.get("/api/v1/needs/N-0001/messages", token=None).status_code == 401
