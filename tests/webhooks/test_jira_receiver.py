"""POST /webhooks/jira: every real Jira Cloud and Server payload, both ways to authenticate, and the ladder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.store import Job
from webhooks.receiver import jira

SECRET = "jira-test-secret"
URL_TOKEN = "jira-url-token-0123456789"
MAX_BODY_BYTES = 100_000

CONTRACTS = Path(os.environ.get("COCREATE_CONTRACTS") or Path(__file__).resolve().parents[3] / "shared" / "contracts")
PLUGIN_DIR = CONTRACTS / "jira-webhooks" / "mattermost-plugin-jira"
EXAMPLES_DIR = PLUGIN_DIR / "server" / "testdata"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))
FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "jira"
FIXTURES = sorted(FIXTURES_DIR.glob("*.json"))

EXPECTED_HANDLED = {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
                    "comment_created", "comment_updated", "comment_deleted", "jira:version_released"}
"""Written from the specification rather than read from the code's table."""


def recorded_events() -> dict[str, str]:
    """File name -> webhookEvent, as the contract's SOURCES.md records it (an oracle independent of the code)."""
    rows = re.findall(r"^\| server/testdata/(\S+\.json) \|.*\| (\S+) / \S+ \|$",
                      (PLUGIN_DIR / "SOURCES.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(rows)


RECORDED = recorded_events()


@pytest.fixture
def settings(settings):
    """The shared test settings plus a Jira secret and URL token, given through the environment as in production."""
    yaml = (f"webhooks:\n  jira_secret: ${{JIRA_WEBHOOK_SECRET}}\n  jira_url_token: ${{JIRA_URL_TOKEN}}\n"
            f"  max_body_bytes: {MAX_BODY_BYTES}\n")
    environ = {"JIRA_WEBHOOK_SECRET": SECRET, "JIRA_URL_TOKEN": URL_TOKEN}
    webhooks = parse_settings(yaml, "webhooks.yaml", environ).webhooks
    return settings.model_copy(update={"webhooks": webhooks})


@pytest.fixture
def deliver(client, sign):
    """``deliver(body, identifier=<new>, secret=SECRET, path="/webhooks/jira", omit=(), **headers)``: POST as
    Jira Cloud would (signed, with X-Atlassian-Webhook-Identifier); ``identifier=None`` sends none, as Server."""

    def post(body: bytes, *, identifier: str | None = "new", secret: str | None = SECRET,
             path: str = "/webhooks/jira", **headers: str):
        sent = {"Content-Type": "application/json; charset=UTF-8", "User-Agent": "Atlassian Webhook HTTP Client"}
        if identifier is not None:
            sent["X-Atlassian-Webhook-Identifier"] = str(uuid.uuid4()) if identifier == "new" else identifier
        if secret is not None:
            sent["X-Hub-Signature"] = sign(secret, body)
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        return client.post(path, data=body, headers=sent)

    return post


def fixture(name: str) -> bytes:
    return (FIXTURES_DIR / f"{name}.json").read_bytes()


def test_contract_examples_are_there_and_recorded():
    """Guards the parametrized tests against an empty parameter list, and the oracle against missing files."""
    assert len(EXAMPLES) >= 55, f"expected the mattermost-plugin-jira captures under {EXAMPLES_DIR}"
    assert {path.name for path in EXAMPLES} == set(RECORDED)


def test_tables_say_what_the_specification_says():
    assert set(jira.HANDLED_EVENTS) == EXPECTED_HANDLED
    assert not set(jira.HANDLED_EVENTS) & jira.IGNORED_EVENTS


@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda path: path.name)
def test_every_payload_event_is_declared(path):
    """Fails when a real payload's webhookEvent is in neither table, so the tables cannot drift from Jira."""
    event = json.loads(path.read_bytes())["webhookEvent"]
    assert event in jira.HANDLED_EVENTS or event in jira.IGNORED_EVENTS, (
        f"{event} from {path.name} is neither handled nor ignored: add it to one table")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_contract_payload_is_received(path, deliver, inbox, ledger):
    body = path.read_bytes()
    payload = json.loads(body)
    event = RECORDED[path.name]
    identifier = str(uuid.uuid4())

    response = deliver(body, identifier=identifier)

    assert response.status_code == 202, response.json
    [row] = inbox()
    assert (row.source, row.delivery_id, row.event) == ("jira", identifier, event)
    if "issue" in payload:
        issue_key = payload["issue"]["key"]
        assert response.json == {"result": "queued", "event": event, "issue_key": issue_key}
        assert (row.outcome, row.issue_key, row.payload) == ("queued", issue_key, payload)
        [job] = ledger()
        assert (job.args, job.ref, job.state) == (["jira", issue_key], issue_key, "done")
    else:
        # Jira Server comment events carry no issue; the matching jira:issue_updated brings the change.
        assert path.name.startswith("webhook-server-comment-")
        assert response.json == {"result": "ignored", "event": event}
        assert (row.outcome, row.issue_key) == ("ignored", None)
        assert ledger() == []


def test_comment_event_queues_its_issue(deliver, inbox, ledger):
    body = (EXAMPLES_DIR / "webhook-cloud-comment-deleted.json").read_bytes()

    assert deliver(body).status_code == 202
    assert [(row.event, row.issue_key) for row in inbox()] == [("comment_deleted", "KT-7")]
    assert [job.args for job in ledger()] == [["jira", "KT-7"]]


# The token in the URL (Data Center, Automation for Jira) -----------------------------------------


@pytest.mark.parametrize("path", [f"/webhooks/jira?token={URL_TOKEN}", f"/webhooks/jira/{URL_TOKEN}"])
def test_url_token_authenticates_an_unsigned_request(path, deliver, inbox, ledger):
    response = deliver(fixture("issue_updated__resolved"), secret=None, identifier=None, path=path)

    assert response.status_code == 202
    assert [(row.event, row.issue_key) for row in inbox()] == [("jira:issue_updated", "TES-41")]
    assert len(ledger()) == 1


@pytest.mark.parametrize("path", ["/webhooks/jira?token=wrong", "/webhooks/jira/wrong", "/webhooks/jira?token=",
                                  f"/webhooks/jira/{URL_TOKEN}x", "/webhooks/jira/%C3%A9"])
def test_wrong_url_token_is_401(path, deliver, inbox):
    response = deliver(fixture("issue_updated__resolved"), secret=None, path=path)

    assert response.status_code == 401
    assert inbox() == []


def test_url_token_is_refused_when_only_a_secret_is_configured(deliver, configure_webhooks, inbox):
    configure_webhooks(jira_url_token=None)

    response = deliver(fixture("issue_updated__resolved"), secret=None, path=f"/webhooks/jira/{URL_TOKEN}")

    assert (response.status_code, response.json["error"]) == (401, "not_configured")
    assert inbox() == []


def test_every_credential_presented_must_hold(deliver, inbox):
    signed_but_wrong_token = deliver(fixture("issue_updated__resolved"), path="/webhooks/jira?token=wrong")
    right_token_but_bad_signature = deliver(fixture("issue_updated__resolved"), secret="other",
                                            path=f"/webhooks/jira?token={URL_TOKEN}")

    assert signed_but_wrong_token.status_code == 401
    assert right_token_but_bad_signature.status_code == 401
    assert inbox() == []


# Signature and secret ---------------------------------------------------------------------------


def test_bad_signature_is_401(deliver, inbox, ledger):
    response = deliver(fixture("issue_updated__resolved"), secret="not-the-secret")

    assert (response.status_code, response.json["error"]) == (401, "bad_signature")
    assert inbox() == [] and ledger() == []


def test_missing_signature_and_token_is_401(deliver, inbox, ledger):
    response = deliver(fixture("issue_updated__resolved"), secret=None)

    assert (response.status_code, response.json["error"]) == (401, "unsigned")
    assert inbox() == [] and ledger() == []


def test_signed_request_is_refused_when_only_a_url_token_is_configured(deliver, configure_webhooks, inbox):
    configure_webhooks(jira_secret=None)

    response = deliver(fixture("issue_updated__resolved"), secret="")

    assert (response.status_code, response.json["error"]) == (401, "not_configured")
    assert inbox() == []


def test_unconfigured_receiver_refuses_everything(deliver, configure_webhooks, inbox):
    configure_webhooks(jira_secret=None, jira_url_token=None)

    for response in (deliver(fixture("issue_updated__resolved"), secret=""),
                     deliver(fixture("issue_updated__resolved"), secret=None, path="/webhooks/jira?token="),
                     deliver(fixture("issue_updated__resolved"), secret=None)):
        assert response.status_code == 401
        assert "not configured" in response.json["message"]
    assert inbox() == []


# Size, JSON, headers ----------------------------------------------------------------------------


def test_oversized_body_is_413(deliver, inbox):
    body = fixture("issue_updated__resolved")
    at_limit = body + b" " * (MAX_BODY_BYTES - len(body))

    assert deliver(at_limit).status_code == 202
    assert deliver(at_limit + b" ").status_code == 413
    assert deliver(at_limit + b" ", secret=None, path=f"/webhooks/jira/{URL_TOKEN}").status_code == 413
    assert len(inbox()) == 1


def test_invalid_json_is_400(deliver, inbox):
    response = deliver(b"<html>not json</html>")

    assert (response.status_code, response.json["error"]) == (400, "invalid_json")
    assert inbox() == []


def test_overlong_identifier_is_400(deliver, inbox):
    assert deliver(fixture("issue_updated__resolved"), identifier="x" * 201).status_code == 400
    assert inbox() == []


# Dedupe -----------------------------------------------------------------------------------------


def test_retried_delivery_is_2xx_and_queues_nothing_more(deliver, inbox, ledger):
    body = fixture("issue_updated__resolved")

    first = deliver(body, identifier="9c1b7c55-0a4c-4f33-8f0c-2b0d4d8a1e11")
    retry = deliver(body, identifier="9c1b7c55-0a4c-4f33-8f0c-2b0d4d8a1e11", X_Atlassian_Webhook_Retry="1")

    assert first.status_code == 202
    assert retry.status_code in (200, 202)
    assert retry.json["result"] == "duplicate"
    assert len(inbox()) == 1
    assert len(ledger()) == 1


def test_without_identifier_the_body_identifies_the_delivery(deliver, inbox, ledger):
    body = fixture("issue_updated__resolved")
    later = json.loads(body)
    later["timestamp"] += 1

    deliver(body, identifier=None)
    again = deliver(body, identifier=None)
    deliver(json.dumps(later).encode(), identifier=None)

    assert again.json["result"] == "duplicate"
    assert [row.delivery_id for row in inbox()][0] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert len(inbox()) == 2
    assert len(ledger()) == 2


# Dispatch ---------------------------------------------------------------------------------------


def test_unknown_webhook_event_is_202_and_logged(deliver, inbox, ledger, caplog):
    body = json.dumps({"timestamp": 1, "webhookEvent": "sprint_started", "sprint": {"id": 3}}).encode()

    response = deliver(body)

    assert response.json == {"result": "unsupported", "event": "sprint_started"}
    assert response.status_code == 202
    assert [(row.event, row.outcome, row.payload) for row in inbox()] == [("sprint_started", "unsupported", {})]
    assert ledger() == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.unsupported"]


def test_ignored_event_is_202_and_silent(deliver, inbox, ledger, caplog):
    body = json.dumps({"timestamp": 1, "webhookEvent": "worklog_updated", "worklog": {"issueId": "10001"}}).encode()

    response = deliver(body)

    assert (response.status_code, response.json["result"]) == (202, "ignored")
    assert [row.outcome for row in inbox()] == ["ignored"]
    assert ledger() == [] and caplog.records == []


@pytest.mark.parametrize("payload", [
    {"timestamp": 1, "issue": {"key": "TES-41"}},
    {"timestamp": 1, "webhookEvent": "", "issue": {"key": "TES-41"}},
    {"timestamp": 1, "webhookEvent": ["jira:issue_updated"]},
    {"timestamp": 1, "webhookEvent": "jira:issue_updated"},
    {"timestamp": 1, "webhookEvent": "jira:issue_updated", "issue": {"id": "10001"}},
    {"timestamp": 1, "webhookEvent": "comment_created", "issue": {"key": ""}, "comment": {"id": "1"}},
    "jira:issue_updated",
])
def test_anomalous_payload_is_400_and_logged(payload, deliver, inbox, ledger, caplog):
    response = deliver(json.dumps(payload).encode())

    assert (response.status_code, response.json["error"]) == (400, "anomalous")
    assert inbox() == [] and ledger() == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.anomalous"]


# Versions ------------------------------------------------------------------------------------------


def release_jobs(runtime):
    with runtime.Session() as session:
        return list(session.scalars(select(Job).where(Job.name == "apply_release")))


def test_version_released_queues_apply_release(deliver, inbox, ledger, runtime):
    """The payload built from Atlassian's webhook documentation (tests/fixtures/webhooks/SOURCES.md)."""
    response = deliver(fixture("version_released__released"))

    assert response.status_code == 202
    assert response.json == {"result": "queued", "event": "jira:version_released", "issue_key": "10000"}
    [row] = inbox()
    assert (row.outcome, row.issue_key, row.payload["version"]["name"]) == ("queued", "10000", "v5.2")
    assert [job.args for job in release_jobs(runtime)] == [["jira", "10000"]]
    assert ledger() == []


def test_repeated_version_delivery_queues_nothing_more(deliver, inbox, runtime):
    body = fixture("version_released__released")
    assert deliver(body, identifier="hook-1").status_code == 202
    again = deliver(body, identifier="hook-1")
    assert (again.status_code, again.json["result"]) == (200, "duplicate")
    assert len(inbox()) == 1 and len(release_jobs(runtime)) == 1


@pytest.mark.parametrize("event", ["jira:version_created", "jira:version_updated", "jira:version_unreleased",
                                   "jira:version_deleted", "jira:version_moved", "jira:version_merged"])
def test_other_version_events_are_ignored(event, deliver, inbox, runtime, caplog):
    payload = {**json.loads(fixture("version_released__released")), "webhookEvent": event}
    response = deliver(json.dumps(payload).encode())
    assert (response.status_code, response.json["result"]) == (202, "ignored")
    assert release_jobs(runtime) == [] and caplog.records == []


def test_version_said_unreleased_is_ignored(deliver, runtime):
    payload = json.loads(fixture("version_released__released"))
    payload["version"]["released"] = False
    assert deliver(json.dumps(payload).encode()).json["result"] == "ignored"
    assert release_jobs(runtime) == []


@pytest.mark.parametrize("version", [None, {}, {"id": ""}, {"id": "v5.2"}, {"id": True}, "10000"])
def test_version_without_its_id_is_400(version, deliver, inbox, runtime, caplog):
    payload = {**json.loads(fixture("version_released__released")), "version": version}

    response = deliver(json.dumps(payload).encode())

    assert (response.status_code, response.json["error"]) == (400, "anomalous")
    assert inbox() == [] and release_jobs(runtime) == []
    assert [record.name for record in caplog.records] == ["cocreate.webhooks.anomalous"]
