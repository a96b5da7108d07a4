"""Whatever arrives at POST /webhooks/github and POST /webhooks/jira, on the PostgreSQL store: no 5xx, no crash,
an answer from the ladder (200 duplicate, 202, 400, 401, 413), and nothing stored from a refused request.

PostgreSQL refuses what SQLite keeps (NUL in text), so these run against the scaled-out store on purpose. The
bodies are random bytes, random JSON, and real captured payloads with random parts replaced; most are signed
right, so that the fuzzing gets past the signature to the parts that parse and store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sync.ledger.store import Delivery, Job
from tests.scale.runtimes import runtime_on
from webhooks.app import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
GITHUB_SECRET = "fuzz-github-secret"
JIRA_SECRET = "fuzz-jira-secret"
JIRA_TOKEN = "fuzz-url-token"
MAX_BODY = 20_000

FUZZ_YAML = f"""
locale: en
secret_key: fuzz
tracker:
  kind: github
  github: {{token: t, login: cocreate-bot}}
categories:
  - {{key: billing, name: Billing, github_repo: acme/billing}}
webhooks: {{github_secret: {GITHUB_SECRET}, jira_secret: {JIRA_SECRET}, jira_url_token: {JIRA_TOKEN},
           max_body_bytes: {MAX_BODY}}}
"""

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
ANSWERS = {200, 202, 400, 401, 413}

any_text = st.text(st.characters(exclude_categories=()), max_size=24)  # NUL and lone surrogates included
# What breaks stores and parsers: NUL (PostgreSQL refuses it in text), lone surrogates (no driver encodes them),
# very long values, and the wrong JSON type where a string or a number belongs.
nasty_text = st.sampled_from(["", " ", "\x00", "opened\x00", "o/r\x00", "\ud800", "a\udfffb", "x" * 400,
                              "é/ü#1", "😀", "../../etc", "PROJ-1\x00"]) | any_text
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(any_text, children, max_size=3), max_leaves=8)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), min_size=0, max_size=40)


def _fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


GITHUB_PAYLOADS = [_fixture("github/issues__opened.json"), _fixture("github/issue_comment__created.json")]
JIRA_PAYLOADS = [_fixture("jira/issue_updated__resolved.json")]
KEY_FIELDS = {
    "github": [("action",), ("repository", "full_name"), ("issue", "number"), ("sender", "login"), ("issue", "title")],
    "jira": [("webhookEvent",), ("issue", "key"), ("user", "accountId"), ("timestamp",), ("comment", "body")],
}
"""Where the receivers look: each is replaced with a nasty value now and then."""


@st.composite
def mutated(draw, payloads: list[dict], tracker: str) -> dict:
    """A real payload with one of the fields the receiver reads set to a nasty value, and up to four values
    anywhere in it replaced by random JSON (or removed)."""
    payload = json.loads(json.dumps(draw(st.sampled_from(payloads))))
    if draw(st.booleans()):
        *parents, last = draw(st.sampled_from(KEY_FIELDS[tracker]))
        node = payload
        for key in parents:
            node = node.setdefault(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[last] = draw(nasty_text | json_values)
    for _ in range(draw(st.integers(0, 4))):
        node, path = payload, []
        while isinstance(node, dict) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node)))
            path.append(key)
            if not isinstance(node[key], dict):
                break
            node = node[key]
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        if not path:
            continue
        if draw(st.integers(0, 4)) == 0:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_values)
    return payload


def bodies(payloads: list[dict], tracker: str):
    return st.one_of(
        mutated(payloads, tracker).map(lambda value: json.dumps(value).encode()),
        mutated(payloads, tracker).map(lambda value: json.dumps(value).encode()),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200),
        st.integers(MAX_BODY - 2, MAX_BODY + 2).map(lambda size: b"{" + b" " * (size - 2) + b"}"),
    )


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def fuzz_runtime(postgres, redis_server, tmp_path_factory):
    """The app's runtime on its own PostgreSQL database and Redis; no worker runs, so jobs stay queued."""
    database = postgres.create_database("fuzz_webhooks")
    redis_server.flush()
    with runtime_on(FUZZ_YAML, database, redis_server.url(1), tmp_path_factory.mktemp("fuzz-home")) as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(fuzz_runtime):
    return create_app({"TESTING": True}, runtime=fuzz_runtime).test_client()


@pytest.fixture(scope="module")
def stored(fuzz_runtime):
    """``stored()``: (deliveries, jobs) now."""

    def count() -> tuple[int, int]:
        with fuzz_runtime.Session() as session:
            return (session.scalar(select(func.count()).select_from(Delivery)),
                    session.scalar(select(func.count()).select_from(Job)))

    return count


TOTALS = {"github": 0, "jira": 0}


def check(response, stored_before: tuple[int, int], stored_after: tuple[int, int]) -> None:
    assert response.status_code in ANSWERS, (response.status_code, response.get_data(as_text=True)[:500])
    deliveries, jobs = stored_after[0] - stored_before[0], stored_after[1] - stored_before[1]
    result = (response.get_json(silent=True) or {}).get("result")
    if response.status_code >= 400 or result in ("duplicate", "pong"):
        assert (deliveries, jobs) == (0, 0), f"{response.status_code} {result} but stored {deliveries}, {jobs}"
    else:
        assert deliveries == 1 and jobs == (result == "queued"), (result, deliveries, jobs)
    event(f"{response.status_code} {result or (response.get_json(silent=True) or {}).get('error')}")


@FUZZ
@given(body=bodies(GITHUB_PAYLOADS, "github"),
       event_name=st.sampled_from(["issues", "issue_comment", "ping", "installation", "push"]) | header_text,
       delivery=st.uuids().map(str) | header_text,
       signing=st.sampled_from(["right", "right", "right", "wrong", "none"]),
       content_type=st.sampled_from(["application/json", "application/json", "application/x-www-form-urlencoded",
                                     "text/plain"]))
def test_github_receiver_takes_anything(client, stored, body, event_name, delivery, signing, content_type):
    headers = {"Content-Type": content_type, "X-GitHub-Event": event_name, "X-GitHub-Delivery": delivery}
    if signing != "none":
        headers["X-Hub-Signature-256"] = sign(GITHUB_SECRET if signing == "right" else "other", body)
    before = stored()
    response = client.post("/webhooks/github", data=body, headers=headers)
    check(response, before, stored())
    if signing != "right":
        assert response.status_code in (401, 413)
    TOTALS["github"] += 1


@FUZZ
@given(body=bodies(JIRA_PAYLOADS, "jira"),
       delivery=st.none() | st.uuids().map(str) | header_text,
       credential=st.sampled_from(["signature", "signature", "token", "both", "wrong", "none"]))
def test_jira_receiver_takes_anything(client, stored, body, delivery, credential):
    headers = {"Content-Type": "application/json"}
    if delivery is not None:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    if credential in ("signature", "both"):
        headers["X-Hub-Signature"] = sign(JIRA_SECRET, body)
    if credential == "wrong":
        headers["X-Hub-Signature"] = sign("other", body)
    path = "/webhooks/jira" + (f"?token={JIRA_TOKEN}" if credential in ("token", "both") else "")
    before = stored()
    response = client.post(path, data=body, headers=headers)
    check(response, before, stored())
    if credential in ("wrong", "none"):
        assert response.status_code in (401, 413)
    TOTALS["jira"] += 1


def test_fuzz_totals(scale_report, stored):
    """Runs after the two above (file order): how much was thrown at the receivers, and what was kept."""
    assert TOTALS["github"] >= 100 and TOTALS["jira"] >= 100
    deliveries, jobs = stored()
    scale_report(github_requests=TOTALS["github"], jira_requests=TOTALS["jira"], deliveries_stored=deliveries,
                 jobs_queued=jobs, server_errors=0)


@pytest.mark.parametrize(("tracker", "field", "value"), [
    ("github", ("action",), "opened\x00"),
    ("github", ("repository", "full_name"), "o/r\x00"),
    ("github", ("repository", "full_name"), "o/\ud800"),
    ("jira", ("webhookEvent",), "\x00"),
    ("jira", ("issue", "key"), "PROJ-1\udfff"),
])
def test_text_no_store_can_keep_is_anomalous(client, stored, tracker, field, value):
    """Found by the fuzzing above: PostgreSQL refused the NUL (500). Now a 400, logged as anomalous."""
    payload = json.loads(json.dumps((GITHUB_PAYLOADS if tracker == "github" else JIRA_PAYLOADS)[0]))
    node = payload
    for key in field[:-1]:
        node = node[key]
    node[field[-1]] = value
    body = json.dumps(payload).encode()
    if tracker == "github":
        response = client.post("/webhooks/github", data=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": f"nul-{field}",
            "X-Hub-Signature-256": sign(GITHUB_SECRET, body)})
    else:
        response = client.post("/webhooks/jira", data=body, headers={
            "Content-Type": "application/json", "X-Hub-Signature": sign(JIRA_SECRET, body)})
    before = stored()
    assert (response.status_code, response.get_json()["error"]) == (400, "anomalous")
    assert stored() == before
