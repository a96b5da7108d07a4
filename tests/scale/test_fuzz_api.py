"""Schemathesis against /api/v1/openapi.json, on the PostgreSQL store: whatever a client sends, valid for the
document or not, the API never answers 5xx, answers within its document, and stores a need exactly when it
answers 201.

Each operation's cases come from schemathesis's strategies, positive (fits the document) and negative (does not),
driven by Hypothesis inside one test: schemathesis's own lazy pytest integration does not work on pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
from sqlalchemy import func, select

from sync.ledger import accounts
from sync.ledger.store import Attachment, Job, Need, StatusChange
from tests.scale.cluster import need_json
from tests.scale.runtimes import runtime_on
from webhooks.app import create_app

API_YAML = """
locale: en
secret_key: fuzz
customers: [{key: acme, name: ACME Corp, locale: en}]
categories:
  - {key: billing, name: Billing}
people: [{name: Wang Wei, email: wang.wei@example.com}]
"""
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, response_headers_conformance]
"""Not ``negative_data_rejection``: a "negative" query value such as ``customer=false`` (a boolean where the
document says string) is the same string on the wire, and the test sends the token the case thinks it left out."""
TOTALS: dict[str, int] = {}


@pytest.fixture(scope="module")
def api_runtime(postgres, redis_server, tmp_path_factory):
    with runtime_on(API_YAML, postgres.create_database("fuzz_api"), redis_server.url(2),
                    tmp_path_factory.mktemp("fuzz-api-home")) as runtime:
        yield runtime


@pytest.fixture(scope="module")
def token(api_runtime) -> str:
    with api_runtime.Session.begin() as session:
        accounts.add_user(session, "fuzzer", "password1", "cs")
    with api_runtime.Session.begin() as session:
        return accounts.create_token(session, "fuzzer")


@pytest.fixture(scope="module")
def api_schema(api_runtime):
    app = create_app({"TESTING": True}, runtime=api_runtime)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module")
def stored(api_runtime):
    def count() -> tuple[int, ...]:
        with api_runtime.Session() as session:
            return tuple(session.scalar(select(func.count()).select_from(table))
                         for table in (Need, StatusChange, Attachment, Job))

    return count


def operations(api_schema) -> list:
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_api_answers_within_its_document_and_stores_only_what_it_accepts(api_schema, token, stored, mode):
    for operation in operations(api_schema):

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(mode), data=st.data())
        def run(case, data) -> None:
            if case.method == "POST" and isinstance(case.body, dict) and data.draw(st.booleans(), "near-valid"):
                # Random strings rarely name a configured category, urgency and customer: half the bodies are a
                # valid need with up to three of the generated fields put in, so that storing is fuzzed too.
                kept = data.draw(st.sets(st.sampled_from(sorted(case.body)), max_size=3), "fields kept") \
                    if case.body else set()
                case.body = {**need_json("Fuzzed need"), **{key: case.body[key] for key in kept}}
            headers = {name: value for name, value in (case.headers or {}).items() if name.lower() != "authorization"}
            before = stored()
            response = case.call(headers={**headers, "Authorization": f"Bearer {token}"})
            after = stored()
            case.validate_response(response, checks=CHECKS)
            created = case.method == "POST" and response.status_code == 201
            # A need is stored with its first history entry (and no job: no tracker is configured, so it waits for
            # one); a refusal stores nothing at all, and an edit (PATCH) adds no need, history entry or job.
            expected = tuple(n + d for n, d in zip(before, (1, 1, 0, 0), strict=True)) if created else before
            assert after == expected, (case.method, case.path, response.status_code, before, after)
            label = f"{mode.value} {case.method} {operation.path} {response.status_code}"
            TOTALS[label] = TOTALS.get(label, 0) + 1

        run()


def test_api_fuzz_totals(scale_report, stored):
    """Runs after the test above (file order): what was sent and what was kept."""
    assert sum(TOTALS.values()) >= 100
    assert not any(label.rsplit(" ", 1)[-1].startswith("5") for label in TOTALS)
    needs, history, attachments, jobs = stored()
    scale_report(requests=sum(TOTALS.values()), by_operation_and_status=dict(sorted(TOTALS.items())),
                 needs_stored=needs, server_errors=0)
