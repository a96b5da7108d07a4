"""The jira client Cocreate builds: no call when built, no retries of its own, auth per deployment, error text."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import requests
import responses

from plugin.errors import TrackerRateLimited, TrackerUnavailable
from plugin.jira.client import (
    TIMEOUT_SECONDS,
    build_client,
    call,
    jira_errors,
    retry_after_seconds,
)
from plugin.tracker_settings import JiraSettings
from tests.jira.fake_jira import BASE_URL, check_cloud_calls, fake_settings

DC_URL = "https://jira.example.com"


def dc_settings() -> JiraSettings:
    return JiraSettings(url=DC_URL, deployment="datacenter", personal_access_token="pat-secret")


def test_building_a_client_makes_no_http_call():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        build_client(fake_settings())
        build_client(dc_settings())
        assert len(mock.calls) == 0


def test_cloud_client_speaks_rest_v3_with_basic_auth_and_no_retries():
    client = build_client(fake_settings())
    assert client._options["rest_api_version"] == "3"
    assert client._is_cloud
    assert client._session.max_retries == 0
    assert client._session.timeout == TIMEOUT_SECONDS
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE_URL}/rest/api/3/myself", json={"accountId": "5b10ac8d82e05b22cc7d4ef5"})
        client.myself()
        expected = base64.b64encode(b"cocreate@example.com:fake-token").decode()
        assert mock.calls[0].request.headers["Authorization"] == f"Basic {expected}"
        check_cloud_calls(mock.calls)


def test_data_center_client_speaks_rest_v2_with_a_bearer_token():
    client = build_client(dc_settings())
    assert client._options["rest_api_version"] == "2"
    assert not client._is_cloud
    assert client._session.max_retries == 0
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_URL}/rest/api/2/myself", json={"name": "cocreate", "key": "JIRAUSER10100"})
        client.myself()
        assert mock.calls[0].request.headers["Authorization"] == "Bearer pat-secret"


@pytest.mark.parametrize("status", [429, 503])
def test_the_client_does_not_retry_or_sleep_on_its_own(status):
    client = build_client(fake_settings())
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE_URL}/rest/api/3/myself", status=status, headers={"Retry-After": "120"},
                 json={"errorMessages": ["slow down"], "errors": {}})
        started = dt.datetime.now()
        with pytest.raises((TrackerRateLimited, TrackerUnavailable)):
            with jira_errors("read myself"):
                call(client, "GET", "myself")
        assert len(mock.calls) == 1
        assert (dt.datetime.now() - started).total_seconds() < 2
        check_cloud_calls(mock.calls)


def test_a_refused_connection_is_unavailable():
    client = build_client(fake_settings())
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE_URL}/rest/api/3/myself", body=requests.ConnectionError("connection refused"))
        with pytest.raises(TrackerUnavailable, match="read myself: Jira did not answer"):
            with jira_errors("read myself"):
                client.myself()
        assert len(mock.calls) == 1


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "0.5"}, 0.5),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ({}, None),
    ({"Retry-After": "soon"}, None),
    ({"Retry-After": "nan"}, None),  # float() reads these; a wait of NaN or forever is no answer
    ({"Retry-After": "inf"}, None),
    ({"Retry-After": "-3"}, None),
    ({"Retry-After": "9" * 400}, None),  # digits only, yet float() makes it infinite
    ({"Retry-After": "\u0663"}, None),  # a digit, but not an ASCII one
    ({"Retry-After": " 12 "}, 12.0),
])
def test_retry_after_seconds(headers, expected):
    assert retry_after_seconds(headers) == expected


def test_retry_after_falls_back_to_jira_clouds_reset_time():
    reset = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%MZ")
    seconds = retry_after_seconds({"X-RateLimit-Reset": reset})
    assert seconds is not None and 180 < seconds <= 300
