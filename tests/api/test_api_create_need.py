"""POST /api/v1/needs: a valid need is stored and answered 201; every refusal stores nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from sync.ledger.store import ApiToken, User, utcnow
from tests.factories import need_data
from webhooks.api import MAX_BODY_BYTES

NEEDS = "/api/v1/needs"


def test_valid_need_is_stored_and_answered_201_with_its_location(api, need_count):
    response = api.post(NEEDS, need_data())

    assert response.status_code == 201
    body = response.get_json()
    assert body["ref"] == "N-0001"
    assert body["status"] == "new"
    assert body["url"] == "http://localhost:8080/needs/N-0001"
    # No tracker is configured in the tests and jobs run inline: the sync has already looked.
    assert body["sync_state"] == "waiting_for_tracker"
    assert response.headers["Location"] == "http://localhost/api/v1/needs/N-0001"
    assert need_count() == 1


def test_stored_need_reads_back_as_it_was_sent(api):
    sent = need_data(reporter_channel="wecom", linked_to="BILL-12")
    location = api.post(NEEDS, sent).headers["Location"]

    need = api.get(location).get_json()

    assert {key: need[key] for key in sent if key != "reported_at"} == {
        key: value for key, value in sent.items() if key != "reported_at"
    }
    assert need["reported_at"] == "2026-11-20T09:30:00+00:00"
    assert need["created_by"] == "api-user"
    assert [change["status"] for change in need["history"]] == ["new"]
    assert need["history"][0]["actor"] == "api-user"


def test_only_required_fields_take_defaults(api):
    before = utcnow()
    required = {key: need_data()[key] for key in ("category", "title", "urgency", "reporter_name", "customer")}
    location = api.post(NEEDS, required).headers["Location"]

    need = api.get(location).get_json()

    assert before <= dt.datetime.fromisoformat(need["reported_at"]) <= utcnow()
    assert (need["description"], need["remarks"], need["owner"], need["stage"], need["reporter_email"]) == (
        "", "", None, None, None,
    )


def test_null_and_blank_optional_fields_mean_left_out(api):
    response = api.post(NEEDS, need_data(owner=None) | {"owner": None, "stage": "", "reported_at": None,
                                                        "reporter_email": "  "})

    assert response.status_code == 201
    need = api.get(response.headers["Location"]).get_json()
    assert (need["owner"], need["stage"], need["reporter_email"]) == (None, None, None)


def test_reported_at_with_an_offset_is_kept_in_utc(api):
    location = api.post(NEEDS, need_data(reported_at="2026-11-20T09:30:00+08:00")).headers["Location"]

    assert api.get(location).get_json()["reported_at"] == "2026-11-20T01:30:00+00:00"


def test_charset_parameter_and_json_suffix_types_are_json(api):
    assert api.post(NEEDS, need_data(), content_type="application/json; charset=utf-8").status_code == 201
    assert api.post(NEEDS, need_data(), content_type="application/vnd.cocreate+json").status_code == 201


def test_refs_count_up(api):
    refs = [api.post(NEEDS, need_data()).get_json()["ref"] for _ in range(3)]

    assert refs == ["N-0001", "N-0002", "N-0003"]


# 422: the need has problems -----------------------------------------------------------------------


def test_every_problem_is_named_at_once_in_english_and_nothing_is_stored(api, need_count):
    response = api.post(NEEDS, need_data(title="  ", urgency="urgent", reporter_email="li.na", colour="red"))

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid"
    assert body["fields"] == {
        "title": ["This field is required."],
        "urgency": ["Unknown urgency urgent."],
        "reporter_email": ["Not a valid e-mail address."],
        "colour": ["Unknown field."],
    }
    assert need_count() == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("category", "hardware", "Unknown category hardware."),
    ("stage", "launch", "Unknown stage launch."),
    ("title", "x" * 201, "At most 200 characters."),
    ("reported_at", "yesterday", "Not a valid date and time, e.g. 2026-11-23 14:30."),
    ("reported_at", "2999-01-01T00:00:00Z", "The time reported cannot be in the future."),
    ("reported_at", "0001-01-01T00:00:00Z", "The time reported must be in 1970 or later."),
    # Converting these to UTC leaves the range of datetime.
    ("reported_at", "0001-01-01T00:00:00+01:00", "Not a valid date and time, e.g. 2026-11-23 14:30."),
    ("reported_at", "9999-12-31T23:59:59-01:00", "Not a valid date and time, e.g. 2026-11-23 14:30."),
    ("title", 42, "Must be a string, not a number."),
    ("title", True, "Must be a string, not a boolean."),
    ("description", ["a", "b"], "Must be a string, not an array."),
    ("customer", {"key": "acme"}, "Must be a string, not an object."),
    ("title", "tax\x00number", "Contains a NUL character or an unpaired surrogate."),
])
def test_a_bad_field_is_named_with_its_problem_and_nothing_is_stored(api, need_count, field, value, message):
    response = api.post(NEEDS, need_data(**{field: value}))

    assert response.status_code == 422
    assert response.get_json()["fields"] == {field: [message]}
    assert need_count() == 0


def test_an_unpaired_surrogate_escape_is_refused(api, need_count):
    body = json.dumps(need_data()).replace('"Li Na"', '"Li \\ud800Na"')

    response = api.post(NEEDS, body)

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"reporter_name": ["Contains a NUL character or an unpaired surrogate."]}
    assert need_count() == 0


@pytest.mark.parametrize(("field", "limit"), [("owner", 200), ("reporter_channel", 64), ("linked_to", 300),
                                              ("remarks", 20_000)])
def test_over_long_optional_fields_are_refused(api, need_count, field, limit):
    response = api.post(NEEDS, need_data(**{field: "x" * (limit + 1)}))

    assert response.status_code == 422
    assert need_count() == 0


# 400, 415, 413: the body is not a need at all ----------------------------------------------------


@pytest.mark.parametrize(("body", "says"), [
    ("", "not valid JSON"),
    ("{'title': 'single quotes'}", "not valid JSON"),
    ('{"title": "unterminated', "not valid JSON"),
    (b'{"title": "\xff\xfe"}', "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
    ('[{"title": "x"}]', "not an array"),
    ('"a need"', "not a string"),
    ("42", "not a number"),
    ("null", "not null"),
    ("true", "not a boolean"),
])
def test_a_body_that_is_not_a_json_object_is_400(api, need_count, body, says):
    response = api.post(NEEDS, body)

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert says in response.get_json()["message"]
    assert need_count() == 0


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_body_not_sent_as_json_is_415(api, need_count, content_type):
    response = api.call("POST", NEEDS, data=json.dumps(need_data()), content_type=content_type)

    assert response.status_code == 415
    assert "application/json" in response.get_json()["message"]
    assert need_count() == 0


def test_a_body_over_the_limit_is_413_and_not_stored(api, need_count):
    body = json.dumps(need_data(description="x" * MAX_BODY_BYTES))

    response = api.post(NEEDS, body)

    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "message": f"the body is larger than {MAX_BODY_BYTES} bytes"}
    assert need_count() == 0


def test_a_body_at_the_limit_is_read(api, need_count):
    body = json.dumps(need_data(description=""))
    body = body.replace('"description": ""', '"description": "' + "x" * (MAX_BODY_BYTES - len(body)) + '"')
    assert len(body) == MAX_BODY_BYTES

    response = api.post(NEEDS, body)

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"description": ["At most 20000 characters."]}


def test_a_streamed_body_over_the_limit_is_413(api, need_count):
    """A body sent without Content-Length (chunked) is cut off at the limit, not read to its end."""
    body = json.dumps(need_data(description="x" * MAX_BODY_BYTES)).encode()
    environ = {"wsgi.input": _Chunked(body), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}

    response = api.call("POST", NEEDS, content_type="application/json", environ_overrides=environ)

    assert response.status_code == 413
    assert need_count() == 0


def test_a_smaller_app_wide_limit_is_kept(app, api, need_count):
    app.config["MAX_CONTENT_LENGTH"] = 500

    response = api.post(NEEDS, need_data(description="x" * 500))

    assert response.status_code == 413
    assert response.get_json()["message"] == "the body is larger than 500 bytes"
    assert need_count() == 0


class _Chunked:
    """A request body stream of unknown length, as a WSGI server hands over a chunked upload."""

    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int = -1) -> bytes:
        size = len(self.data) if size is None or size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


# 401: no token, or a token that does not count ---------------------------------------------------


def _revoke_tokens(runtime) -> None:
    with runtime.Session.begin() as session:
        for token in session.scalars(select(ApiToken)):
            token.revoked_at = utcnow()


def _deactivate_users(runtime) -> None:
    with runtime.Session.begin() as session:
        for user in session.scalars(select(User)):
            user.active = False


@pytest.mark.parametrize(("authorization", "spoil", "says"), [
    (None, None, "send an API token"),
    ("Basic YXBpLXVzZXI6cGFzc3dvcmQx", None, "send an API token"),
    ("Bearer", None, "send an API token"),
    ("Bearer cct_not-a-token-we-gave-out", None, "unknown or revoked"),
    ("Bearer {token}", _revoke_tokens, "unknown or revoked"),
    ("Bearer {token}", _deactivate_users, "unknown or revoked"),
])
def test_without_a_valid_token_it_is_401_and_nothing_is_stored(api, runtime, need_count, authorization, spoil,
                                                                  says):
    if spoil is not None:
        spoil(runtime)
    headers = {"Authorization": authorization.format(token=api.token)} if authorization else {}

    response = api.post(NEEDS, need_data(), token=None, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cocreate"'
    assert response.get_json()["error"] == "unauthorized"
    assert says in response.get_json()["message"]
    assert need_count() == 0


def test_the_token_is_checked_before_the_body(api):
    assert api.post(NEEDS, "not json", token=None).status_code == 401
    assert api.call("POST", NEEDS, token=None, data="x", content_type="text/plain").status_code == 401


@pytest.mark.parametrize("typed", ["ACME Corp", "ＡＣＭＥ ＣＯＲＰ", " acme "])
def test_a_customer_named_as_cs_types_it_is_stored_under_its_key(api, typed):
    location = api.post(NEEDS, need_data(customer=typed)).headers["Location"]

    assert api.get(location).get_json()["customer"] == "acme"


def test_a_customer_no_record_names_is_refused_and_nothing_is_stored(api, need_count):
    response = api.post(NEEDS, need_data(customer="Nobody Ltd"))

    assert response.status_code == 422
    assert list(response.get_json()["fields"]) == ["customer"]
    assert need_count() == 0
