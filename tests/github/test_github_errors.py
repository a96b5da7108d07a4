"""Every GitHub failure reaches Cocreate as the right ``Tracker*`` error, with GitHub's words and no retry."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import responses

from plugin.base import IssueSpec
from plugin.errors import (
    TrackerAuthError,
    TrackerInvalidField,
    TrackerNotFound,
    TrackerRateLimited,
    TrackerUnavailable,
)
from plugin.github import GitHubAdapter, Pacer
from plugin.github.adapter import retry_after
from plugin.tracker_settings import GitHubSettings
from tests.contract import GITHUB

API = "https://api.github.com:443"
NOW = 1_754_000_000.0
SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you "
             "reach out to GitHub Support for help, please include the request ID FBD0:2BC522:2ED2C84:2ACA6D1.")
PRIMARY = ("API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include "
           "the request ID FBD0:2BC522:2ED2C84:2ACA6D2.")


def error(message: str, status: int, doc: str = "rest") -> dict:
    return {"message": message, "documentation_url": f"https://docs.github.com/{doc}", "status": str(status)}


SPEC = IssueSpec(project="acme/app", title="Export as xlsx", body="Body", marker="cocreate-N-0042")
CALLS = {
    "whoami": ("GET", "/user", lambda adapter: adapter.whoami()),
    "create": ("POST", "/repos/acme/app/issues", lambda adapter: adapter.create_issue(SPEC)),
    "get": ("GET", "/repos/acme/app/issues/9", lambda adapter: adapter.get_issue("acme/app#9")),
    "update": ("PATCH", "/repos/acme/app/issues/9", lambda adapter: adapter.update_issue("acme/app#9", {"body": "x"})),
    "comment": ("POST", "/repos/acme/app/issues/9/comments", lambda adapter: adapter.add_comment("acme/app#9", "x")),
    "comments": ("GET", "/repos/acme/app/issues/9/comments", lambda adapter: adapter.list_comments("acme/app#9")),
    "find": ("GET", "/repos/acme/app/issues", lambda adapter: adapter.find_by_marker("acme/app", "cocreate-N-1")),
    "since": ("GET", "/repos/acme/app/issues",
              lambda adapter: adapter.updated_since(["acme/app"], dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))),
}


CASES = [
    # (call, status, body, headers, error class, message, retry_after)
    ("whoami", 401, error("Bad credentials", 401), {}, TrackerAuthError, "Bad credentials", None),
    ("create", 403, error("Resource not accessible by personal access token", 403,
                          "rest/issues/issues#create-an-issue"), {},
     TrackerAuthError, "Resource not accessible by personal access token", None),
    ("update", 403, error("Resource not accessible by integration", 403), {},
     TrackerAuthError, "Resource not accessible by integration", None),
    ("get", 404, error("Not Found", 404, "rest/issues/issues#get-an-issue"), {}, TrackerNotFound, "Not Found", None),
    ("comments", 404, error("Not Found", 404), {}, TrackerNotFound, "Not Found", None),
    ("get", 410, error("Issues are disabled for this repo", 410), {},
     TrackerNotFound, "Issues are disabled for this repo", None),
    ("create", 422, {**error("Validation Failed", 422),
                     "errors": [{"value": "nobody", "resource": "Issue", "field": "assignees", "code": "invalid"}]},
     {}, TrackerInvalidField, "Validation Failed: assignees: invalid 'nobody'", None),
    ("update", 422, {**error("Validation Failed", 422),
                     "errors": [{"resource": "Issue", "code": "custom", "field": "body",
                                 "message": "body is too long (maximum is 65536 characters)"}]},
     {}, TrackerInvalidField, "Validation Failed: body: body is too long (maximum is 65536 characters)", None),
    ("create", 403, error(SECONDARY, 403), {"Retry-After": "30"}, TrackerRateLimited, SECONDARY, 30.0),
    ("comment", 403, error(SECONDARY, 403), {"x-ratelimit-remaining": "4990"}, TrackerRateLimited, SECONDARY, 60.0),
    ("get", 403, error(PRIMARY, 403), {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120)},
     TrackerRateLimited, PRIMARY, 120.0),
    ("comment", 429, error(SECONDARY, 429), {"Retry-After": "7"}, TrackerRateLimited, SECONDARY, 7.0),
    ("find", 429, error(PRIMARY, 429), {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 45)},
     TrackerRateLimited, PRIMARY, 45.0),
    ("create", 503, {"code": "unavailable", "message": "Service Unavailable",
                     "documentation_url": "https://docs.github.com/rest"}, {},
     TrackerUnavailable, "Service Unavailable", None),
    ("get", 500, error("Server Error", 500), {}, TrackerUnavailable, "Server Error", None),
    ("since", 502, error("Server Error", 502), {}, TrackerUnavailable, "Server Error", None),
]


@pytest.fixture
def adapter() -> GitHubAdapter:
    return GitHubAdapter(GitHubSettings(token="ghp_test"), pacer=Pacer(sleep=lambda _: None),
                         wall_clock=lambda: NOW)


@pytest.mark.parametrize(("call", "status", "body", "headers", "expected", "message", "wait"), CASES,
                         ids=[f"{case[0]}-{case[1]}-{case[4].__name__}" for case in CASES])
def test_github_errors_become_tracker_errors(adapter, call, status, body, headers, expected, message, wait):
    method, path, act = CALLS[call]
    with responses.RequestsMock() as mock:
        mock.add(method, API + path, json=body, status=status, headers=headers)
        with pytest.raises(expected) as caught:
            act(adapter)
        assert len(mock.calls) == 1  # PyGithub did not retry on its own
        assert GITHUB.check_calls(mock.calls) == 1
    failure = caught.value
    assert type(failure) is expected
    assert (failure.status, failure.message) == (status, message)
    assert failure.retryable is (expected in (TrackerRateLimited, TrackerUnavailable))
    if expected is TrackerRateLimited:
        assert failure.retry_after == wait


@pytest.mark.parametrize("exception", [requests.ConnectionError("Connection reset by peer"),
                                       requests.exceptions.ReadTimeout("Read timed out. (read timeout=15)")])
@pytest.mark.parametrize("call", ["get", "create"])
def test_no_answer_is_unavailable(adapter, exception, call):
    method, path, act = CALLS[call]
    with responses.RequestsMock() as mock:
        mock.add(method, API + path, body=exception)
        with pytest.raises(TrackerUnavailable, match="GitHub did not answer") as caught:
            act(adapter)
        assert len(mock.calls) == 1
        assert GITHUB.check_calls(mock.calls) == 1  # the request alone
    assert caught.value.retryable and caught.value.status is None


def test_retry_after_reads_an_http_date():
    assert retry_after({"retry-after": "Fri, 01 Aug 2025 00:00:30 GMT"}, 1754006400.0, False) == 30.0


def test_retry_after_that_is_neither_seconds_nor_a_date_falls_back_to_the_reset():
    headers = {"retry-after": "soon", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 9)}
    assert retry_after(headers, NOW, True) == 9.0


def test_retry_after_is_unknown_for_a_primary_limit_without_reset():
    assert retry_after({"x-ratelimit-remaining": "0"}, NOW, False) is None
