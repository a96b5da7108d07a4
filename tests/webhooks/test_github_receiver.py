"""POST /webhooks/github: every real GitHub payload, and each rung of the boundary ladder."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.store import Job, Need
from webhooks.receiver import github

SECRET = "gh-test-secret"
MAX_BODY_BYTES = 100_000

CONTRACTS = Path(os.environ.get("COCREATE_CONTRACTS") or Path(__file__).resolve().parents[3] / "shared" / "contracts")
EXAMPLES_DIR = CONTRACTS / "github-webhooks" / "payload-examples"
EXAMPLES = sorted(EXAMPLES_DIR.rglob("*.json"))
FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "github"
FIXTURES = sorted(FIXTURES_DIR.glob("*.json"))

# What the receiver must do, written from the specification rather than read from the code's tables.
EXPECTED_HANDLED = {
    *(f"issues.{action}" for action in ("opened", "edited", "closed", "reopened", "labeled", "unlabeled", "assigned",
                                        "unassigned", "milestoned", "demilestoned", "deleted", "transferred")),
    *(f"issue_comment.{action}" for action in ("created", "edited", "deleted")),
    "release.published", "release.released",
}


@pytest.fixture
def settings(settings):
    """The shared test settings plus a GitHub webhook secret, given through the environment as in production."""
    yaml = f"webhooks:\n  github_secret: ${{GITHUB_WEBHOOK_SECRET}}\n  max_body_bytes: {MAX_BODY_BYTES}\n"
    webhooks = parse_settings(yaml, "webhooks.yaml", {"GITHUB_WEBHOOK_SECRET": SECRET}).webhooks
    return settings.model_copy(update={"webhooks": webhooks})


@pytest.fixture
def deliver(client, sign):
    """``deliver(body, event, delivery_id=None, secret=SECRET, omit=(), **headers)``: POST as GitHub would."""

    def post(body: bytes, event: str, *, delivery_id: str | None = None, secret: str = SECRET,
             omit: tuple[str, ...] = (), **headers: str):
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, body),
            "User-Agent": "GitHub-Hookshot/044aadd",
        }
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        for name in omit:
            sent.pop(name)
        return client.post("/webhooks/github", data=body, headers=sent)

    return post


def fixture(name: str) -> tuple[bytes, str]:
    """The body of ``tests/fixtures/webhooks/github/<event>__<action>.json`` and its X-GitHub-Event header."""
    return (FIXTURES_DIR / f"{name}.json").read_bytes(), name.partition("__")[0]


def example_event(path: Path) -> str:
    """``issues/assigned.with-organization.payload.json`` -> ``issues.assigned``; ``ping/...`` -> ``ping``."""
    event = path.parent.name
    return event if event == "ping" else f"{event}.{path.name.split('.')[0]}"


def test_contract_examples_are_there():
    """Guards the parametrized tests below against an empty (skipped) parameter list."""
    assert len(EXAMPLES) >= 59, f"expected the octokit payload examples under {EXAMPLES_DIR}"
    assert {path.parent.name for path in EXAMPLES} == {"installation", "issue_comment", "issues", "ping"}


def test_tables_say_what_the_specification_says():
    assert set(github.HANDLED_EVENTS) == EXPECTED_HANDLED
    assert not set(github.HANDLED_EVENTS) & github.IGNORED_EVENTS
    assert {"ping", "installation"} <= github.IGNORED_EVENTS


@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda path: path.name if path.parent == FIXTURES_DIR
                         else str(path.relative_to(EXAMPLES_DIR)))
def test_every_payload_event_is_declared(path):
    """Fails when a real payload's event is in neither table, so the tables cannot drift from what GitHub sends."""
    payload = json.loads(path.read_bytes())
    header = path.name.partition("__")[0] if path.parent == FIXTURES_DIR else path.parent.name
    event = github.event_name(header, payload)
    declared = event in github.HANDLED_EVENTS or event in github.IGNORED_EVENTS or header in github.IGNORED_EVENTS
    assert declared, f"{event} from {path.name} is neither handled nor ignored: add it to one table"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: str(path.relative_to(EXAMPLES_DIR)))
def test_every_contract_payload_is_received(path, deliver, inbox, ledger):
    body = path.read_bytes()
    payload = json.loads(body)
    event = example_event(path)
    delivery_id = str(uuid.uuid4())

    response = deliver(body, path.parent.name, delivery_id=delivery_id)

    if event == "ping":
        assert (response.status_code, response.json) == (200, {"result": "pong"})
        assert inbox() == [] and ledger() == []
        return
    assert response.status_code == 202, response.json
    [row] = inbox()
    assert (row.source, row.delivery_id, row.event) == ("github", delivery_id, event)
    if event in EXPECTED_HANDLED:
        issue_key = f"{payload['repository']['full_name']}#{payload['issue']['number']}"
        assert response.json == {"result": "queued", "event": event, "issue_key": issue_key}
        assert (row.outcome, row.issue_key, row.payload) == ("queued", issue_key, payload)
        [job] = ledger()
        assert (job.args, job.ref, job.state) == (["github", issue_key], issue_key, "done")
    else:
        assert response.json == {"result": "ignored", "event": event}
        assert (row.outcome, row.issue_key, row.payload) == ("ignored", None, {})
        assert ledger() == []


@pytest.mark.parametrize(("example", "issue_key"), [
    ("api.github.com/issues/transferred.payload.json", "octo-org/octo-repo#1"),
    ("api.github.com/issues/milestoned.payload.json", "Codertocat/Hello-World#2"),
    ("ghes-35/issue_comment/created.json", "Codertocat/Hello-World#1"),
])
def test_issue_key_is_repository_and_number(example, issue_key, deliver, inbox):
    path = EXAMPLES_DIR / example
    assert deliver(path.read_bytes(), path.parent.name).status_code == 202
    assert [row.issue_key for row in inbox()] == [issue_key]


def test_closed_is_handled(deliver, inbox, ledger):
    """octokit has no issues.closed example; this is its opened example with the fields closing changes."""
    payload = json.loads(fixture("issues__opened")[0])
    payload["action"] = "closed"
    payload["issue"].update(state="closed", state_reason="completed", closed_at="2019-05-15T15:21:00Z")

    response = deliver(json.dumps(payload).encode(), "issues")

    assert response.status_code == 202
    assert [(row.event, row.issue_key) for row in inbox()] == [("issues.closed", "Codertocat/Hello-World#1")]
    assert len(ledger()) == 1


def test_job_for_linked_needs_without_a_tracker_is_logged_not_failed(deliver, make_need, runtime, ledger, caplog):
    """The full apply (status, comment, notices) is covered by tests/e2e; here no tracker is configured."""
    first, second = make_need(), make_need(customer="acme", title="Also wanted by another contact")
    with runtime.Session.begin() as session:
        for need in session.scalars(select(Need).where(Need.ref.in_([first.ref, second.ref]))):
            need.issue_key = "Codertocat/Hello-World#1"
    caplog.set_level(logging.INFO, logger="cocreate.jobs")

    assert deliver(*fixture("issue_comment__created")).status_code == 202

    [job] = ledger()
    assert job.state == "done"
    assert "github event for Codertocat/Hello-World#1, but the configured tracker is none" in caplog.text


# Signature and secret ---------------------------------------------------------------------------


def test_bad_signature_is_401(deliver, inbox, ledger):
    response = deliver(*fixture("issues__opened"), secret="not-the-secret")

    assert response.status_code == 401
    assert response.json["error"] == "bad_signature"
    assert inbox() == [] and ledger() == []


def test_signature_of_another_body_is_401(client, sign, inbox):
    body, event = fixture("issues__opened")
    tampered = body.replace(b'"opened"', b'"closed"', 1)
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": sign(SECRET, body),
               "Content-Type": "application/json"}

    assert client.post("/webhooks/github", data=tampered, headers=headers).status_code == 401
    assert inbox() == []


@pytest.mark.parametrize("signature", ["", "sha1=0123", "sha256=", "sha256=zz", "sha256=é"])
def test_missing_or_malformed_signature_is_401(signature, deliver, inbox, ledger):
    body, event = fixture("issues__opened")
    response = deliver(body, event, X_Hub_Signature_256=signature) if signature else deliver(
        body, event, omit=("X-Hub-Signature-256",))

    assert response.status_code == 401
    assert inbox() == [] and ledger() == []


@pytest.mark.parametrize("unset", [None, ""])
def test_unconfigured_receiver_refuses_even_signed_requests(unset, deliver, configure_webhooks, inbox):
    configure_webhooks(github_secret=unset)

    response = deliver(*fixture("issues__opened"), secret="")

    assert response.status_code == 401
    assert response.json["error"] == "not_configured"
    assert "not configured" in response.json["message"]
    assert inbox() == []


# Required headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_header_is_400(header, deliver, inbox, ledger):
    response = deliver(*fixture("issues__opened"), omit=(header,))

    assert response.status_code == 400
    assert response.json == {"error": "missing_header", "message": f"the {header} header is missing"}
    assert inbox() == [] and ledger() == []


def test_overlong_delivery_id_is_400(deliver, inbox):
    assert deliver(*fixture("issues__opened"), delivery_id="x" * 201).status_code == 400
    assert inbox() == []


# Size -------------------------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted_and_one_byte_more_is_413(deliver, inbox):
    body, event = fixture("issues__opened")
    at_limit = b" " * (MAX_BODY_BYTES - len(body)) + body  # JSON allows leading whitespace

    assert deliver(at_limit, event).status_code == 202
    response = deliver(b" " + at_limit, event)

    assert response.status_code == 413
    assert len(inbox()) == 1


class EndlessBody(io.RawIOBase):
    """A request body with no Content-Length that never ends; counts the bytes the receiver pulled."""

    def __init__(self):
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), 8192)
        buffer[:size] = b" " * size
        self.pulled += size
        return size


def test_chunked_body_is_cut_off_after_the_limit(client, inbox):
    body = EndlessBody()
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=00",
               "Content-Type": "application/json", "Transfer-Encoding": "chunked"}

    response = client.post("/webhooks/github", headers=headers,
                           environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})

    assert response.status_code == 413
    assert MAX_BODY_BYTES < body.pulled <= MAX_BODY_BYTES + 8192
    assert inbox() == []


# JSON -------------------------------------------------------------------------------------------


def test_invalid_json_is_400(deliver, inbox):
    response = deliver(b'{"action": "opened", ', "issues")

    assert response.status_code == 400
    assert response.json["error"] == "invalid_json"
    assert inbox() == []


def test_deeply_nested_json_is_400_not_a_crash(deliver):
    assert deliver(b"[" * 50_000 + b"]" * 50_000, "issues").status_code == 400


def test_form_encoded_body_tells_the_admin_what_to_change(deliver, inbox):
    response = deliver(b"payload=%7B%7D", "issues", Content_Type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "application/json" in response.json["message"]
    assert inbox() == []


# Dedupe -----------------------------------------------------------------------------------------


def test_duplicate_delivery_is_2xx_and_queues_nothing_more(deliver, inbox, ledger):
    body, event = fixture("issues__opened")

    first = deliver(body, event, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = deliver(body, event, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")

    assert first.status_code == 202
    assert again.status_code in (200, 202)
    assert again.json["result"] == "duplicate"
    assert len(inbox()) == 1
    assert len(ledger()) == 1


def test_each_delivery_of_the_same_issue_queues_its_job(deliver, inbox, ledger):
    body, event = fixture("issues__opened")

    deliver(body, event)
    deliver(body, event)

    assert [row.issue_key for row in inbox()] == ["Codertocat/Hello-World#1"] * 2
    assert len(ledger()) == 2


def test_a_delivery_whose_push_fails_keeps_its_job_in_the_ledger(deliver, runtime, inbox, ledger, monkeypatch):
    """The delivery and its job commit together; with the queue's storage down the push only logs, and the
    heartbeat sweep sends the recorded job later (tests/scale prove that end to end)."""

    def queue_down(*args, **kwargs):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(runtime.queue.huey, "enqueue", queue_down)
    response = deliver(*fixture("issues__opened"), delivery_id="d-kept")

    assert response.status_code == 202
    assert [row.delivery_id for row in inbox()] == ["d-kept"]
    assert [(job.name, job.state) for job in ledger()] == [("apply_issue_change", "queued")]


# Dispatch ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "payload", "stored_as"), [
    ("push", {"ref": "refs/heads/main"}, "push"),
    ("issues", {"action": "typed", "issue": {"number": 1}, "repository": {"full_name": "o/r"}}, "issues.typed"),
])
def test_unsupported_event_is_202_and_logged(event, payload, stored_as, deliver, inbox, ledger, caplog):
    response = deliver(json.dumps(payload).encode(), event)

    assert response.status_code == 202
    assert response.json == {"result": "unsupported", "event": stored_as}
    assert [(row.event, row.outcome) for row in inbox()] == [(stored_as, "unsupported")]
    assert ledger() == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.unsupported"]
    assert stored_as in caplog.records[0].getMessage()


@pytest.mark.parametrize("payload", [
    {"action": "opened", "repository": {"full_name": "o/r"}},
    {"action": "opened", "issue": {"number": "1"}, "repository": {"full_name": "o/r"}},
    {"action": "opened", "issue": {"number": 1}},
    ["not", "an", "object"],
])
def test_anomalous_payload_is_400_and_logged(payload, deliver, inbox, ledger, caplog):
    response = deliver(json.dumps(payload).encode(), "issues")

    assert response.status_code == 400
    assert response.json["error"] == "anomalous"
    assert inbox() == [] and ledger() == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.anomalous"]


def test_ignored_installation_event_is_silent(deliver, caplog):
    path = EXAMPLES_DIR / "api.github.com" / "installation" / "suspend.payload.json"

    response = deliver(path.read_bytes(), "installation")

    assert (response.status_code, response.json["result"]) == (202, "ignored")
    assert caplog.records == []


# Releases --------------------------------------------------------------------------------------


def release_jobs(runtime):
    with runtime.Session() as session:
        return list(session.scalars(select(Job).where(Job.name == "apply_release")))


@pytest.mark.parametrize("action", ["published", "released"])
def test_release_published_queues_apply_release(action, deliver, inbox, ledger, runtime):
    body, event = fixture("release__published")
    payload = {**json.loads(body), "action": action}

    response = deliver(json.dumps(payload).encode(), event)

    ref = "Codertocat/Hello-World:17372790"
    assert response.status_code == 202
    assert response.json == {"result": "queued", "event": f"release.{action}", "issue_key": ref}
    [row] = inbox()
    assert (row.outcome, row.issue_key) == ("queued", ref)
    assert [job.args for job in release_jobs(runtime)] == [["github", ref]]
    assert ledger() == []  # no apply_issue_change


@pytest.mark.parametrize("change", [{"draft": True}, {"prerelease": True}])
def test_draft_or_prerelease_is_ignored(change, deliver, inbox, runtime, caplog):
    body, event = fixture("release__published")
    payload = json.loads(body)
    payload["release"].update(change)

    response = deliver(json.dumps(payload).encode(), event)

    assert (response.status_code, response.json["result"]) == (202, "ignored")
    assert [row.outcome for row in inbox()] == ["ignored"]
    assert release_jobs(runtime) == [] and caplog.records == []


@pytest.mark.parametrize("action", ["created", "edited", "prereleased", "unpublished", "deleted"])
def test_other_release_actions_are_ignored(action, deliver, inbox, runtime):
    body, event = fixture("release__published")
    response = deliver(json.dumps({**json.loads(body), "action": action}).encode(), event)
    assert (response.status_code, response.json["result"]) == (202, "ignored")
    assert release_jobs(runtime) == []


@pytest.mark.parametrize("change", [
    {"release": None},
    {"release": {"id": "17372790"}},
    {"release": {"id": True}},
    {"repository": {"name": "Hello-World"}},
])
def test_release_without_its_id_or_repository_is_400(change, deliver, inbox, runtime, caplog):
    body, event = fixture("release__published")
    payload = {**json.loads(body), **change}

    response = deliver(json.dumps(payload).encode(), event)

    assert (response.status_code, response.json["error"]) == (400, "anomalous")
    assert inbox() == [] and release_jobs(runtime) == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.anomalous"]


def test_unsigned_release_is_401_before_anything(deliver, inbox):
    body, event = fixture("release__published")
    response = deliver(body, event, secret="wrong")
    assert (response.status_code, response.json["error"]) == (401, "bad_signature")
    assert inbox() == []
