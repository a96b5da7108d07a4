"""Whatever a client POSTs, the API never fails with 5xx, answers within its document, and stores a need
exactly when it answers 201."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.factories import need_data
from webhooks.api import NEED_FIELDS

NEEDS = "/api/v1/needs"
REQUIRED = {"category", "title", "urgency", "reporter_name", "customer"}

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any character at all, lone surrogates and NUL included: JSON can carry them all as \u escapes.
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
likely_text = st.sampled_from(["", " ", "billing", "reports", "high", "low", "rollout", "acme", "li.na@acme.example"])
long_text = st.integers(60, 320).map(lambda size: "x" * size)
reported_at = st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", "Z", "+00:00", "+14:00", "-12:00", "+05:30"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=6,
)
field_values = likely_text | any_text | long_text | reported_at | json_values


def post_and_check(api, need_count, body, content_type="application/json"):
    """POST ``body``; the answer must be 201 (one more need) or a refusal (no more needs)."""
    before = need_count()
    response = api.post(NEEDS, body, content_type=content_type)
    assert response.status_code in (201, 400, 415, 422), response.get_data(as_text=True)
    assert need_count() == before + (response.status_code == 201)
    return response


@PROPERTY
@given(fields=st.dictionaries(st.sampled_from(NEED_FIELDS) | any_text, field_values, max_size=14))
def test_any_json_object_is_stored_or_refused_naming_only_fields_it_has_or_needs(api, need_count, fields):
    response = post_and_check(api, need_count, fields)
    event(str(response.status_code))

    if response.status_code == 422:
        assert set(response.get_json()["fields"]) <= set(fields) | REQUIRED


@PROPERTY
@given(overrides=st.dictionaries(st.sampled_from(NEED_FIELDS), field_values, max_size=3),
       dropped=st.sets(st.sampled_from(NEED_FIELDS), max_size=2))
def test_a_valid_need_with_a_few_fields_changed_is_stored_or_refused(api, need_count, overrides, dropped):
    fields = {key: value for key, value in (need_data() | overrides).items() if key not in dropped}

    response = post_and_check(api, need_count, fields)
    event(str(response.status_code))

    if response.status_code == 201:
        stored = api.get(response.headers["Location"]).get_json()
        assert stored["title"] == fields["title"].strip()
        assert stored["customer"] == fields["customer"].strip()
    else:
        assert response.status_code == 422
        assert set(response.get_json()["fields"]) <= set(overrides) | dropped


@PROPERTY
# A body on the wire is bytes: text is sent as UTF-8, lone surrogates as the invalid bytes a client would send.
@given(body=st.binary(max_size=64) | json_values.map(json.dumps)
       | any_text.map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_any_body_is_answered_without_a_server_error(api, need_count, body):
    response = post_and_check(api, need_count, body)

    assert response.status_code in (400, 422)


@PROPERTY
@given(content_type=st.sampled_from(["text/plain", "application/xml", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=x", "application/jsonp", "json"]))
def test_a_need_in_any_other_content_type_is_415(api, need_count, content_type):
    response = post_and_check(api, need_count, json.dumps(need_data()), content_type=content_type)

    assert response.status_code == 415
