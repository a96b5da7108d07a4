"""Replay real recorded GitHub exchanges (PyGithub's ReplayData) through GitHubAdapter and read them back."""

from __future__ import annotations

import ast
import datetime as dt
import email.utils
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses

from plugin.base import IssueSpec
from plugin.errors import TrackerAuthError, TrackerNotFound, TrackerRateLimited
from plugin.github import GitHubAdapter, Pacer
from plugin.github.adapter import is_pull_request, issue_state
from plugin.tracker_settings import GitHubSettings
from tests.contract import CONTRACTS, GITHUB

RECORDED = CONTRACTS / "recorded" / "PyGithub"
API = "https://api.github.com:443"
UTC = dt.timezone.utc
# Headers that described the recorded transfer, not the JSON we replay (the body is stored decoded).
_TRANSFER_HEADERS = {"status", "content-length", "content-encoding", "transfer-encoding", "connection",
                     "content-type"}


@dataclass(frozen=True)
class Exchange:
    """One recorded request and answer (10 lines in PyGithub's ReplayData format, see SOURCES.md)."""

    method: str
    path: str
    request_body: str | None
    status: int
    headers: list[tuple[str, str]]
    body: str

    @property
    def content_type(self) -> str:
        return next((value for name, value in self.headers if name.lower() == "content-type"), "application/json")

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def exchanges(name: str) -> list[Exchange]:
    """Every exchange in ``recorded/PyGithub/<name>.txt``."""
    lines = (RECORDED / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    found = []
    index = 0
    while index < len(lines):
        if not lines[index]:
            index += 1
            continue
        _protocol, method, _host, _port, path, _headers, request_body, status, headers, body = lines[index:index + 10]
        found.append(Exchange(method, path, None if request_body == "None" else request_body, int(status),
                              ast.literal_eval(headers), body))
        index += 10
    return found


def serve(mock: responses.RequestsMock, exchange: Exchange, method: str, path: str,
          body: str | None = None) -> None:
    """Answer ``method path`` (whatever its query) with the recorded status, headers and body."""
    headers = {name: value for name, value in exchange.headers if name.lower() not in _TRANSFER_HEADERS}
    mock.add(method, re.compile(re.escape(API + path) + r"(\?.*)?$"), status=exchange.status, headers=headers,
             body=exchange.body if body is None else body, content_type=exchange.content_type)


@dataclass(frozen=True)
class Replay:
    """A recorded answer served to one adapter call, and what the adapter must make of it.

    ``current`` says whether the recorded answer still fits GitHub's description today; answers recorded in
    2012-2013 lack fields GitHub has added since (``node_id``, the user URLs, label ids), so for those the
    test asserts the drift instead of hiding it, and checks only Cocreate's request.
    """

    recording: str
    index: int
    method: str
    path: str
    act: Callable[[GitHubAdapter], Any]
    check: Callable[[Any], None]
    current: bool
    as_list: bool = False
    raises: type[Exception] | None = None
    expected_request: dict[str, Any] | None = field(default=None)


def _created(state) -> None:
    assert state.key == "PyGithub/PyGithub#28" and state.title == "Issue created by PyGithub"
    assert (state.status_name, state.status_category, state.state_reason) == ("open", "new", None)
    assert state.labels == frozenset() and state.assignee is None and state.body is None
    assert state.url == "https://github.com/PyGithub/PyGithub/issues/28"
    assert state.updated_at == dt.datetime(2012, 5, 19, 10, 38, 23, tzinfo=UTC)


def _issue_28(state) -> None:
    assert state.key == "PyGithub/PyGithub#28"
    assert (state.status_name, state.status_category, state.state_reason) == ("closed", "done", "completed")
    assert state.labels == {"bug", "question"} and state.assignee == "jacquev6"
    assert state.body == "Body edited by PyGithub\n"
    assert state.updated_at == dt.datetime(2025, 8, 15, 19, 35, 40, tzinfo=UTC)
    assert state.raw_id == "MDU6SXNzdWU0NjUzNzU3"


def _not_planned(state) -> None:
    assert (state.status_category, state.state_reason) == ("done", "not_planned")
    assert state.labels == {"Bug"} and state.assignee == "jacquev6"  # the first of two assignees


def _comment(comment) -> None:
    assert (comment.id, comment.author, comment.text) == ("5808311", "jacquev6", "Comment created by PyGithub")
    assert comment.created_at == dt.datetime(2012, 5, 20, 11, 46, 42, tzinfo=UTC)


def _comments(comments) -> None:
    assert [(comment.id, comment.author) for comment in comments] == [("5449237", "jacquev6"),
                                                                       ("5518272", "roskakori")]
    assert comments[0].text.startswith("Thank you for the suggestion.")


def _current_comment(comments) -> None:
    assert [(comment.id, comment.author, comment.text) for comment in comments] == [
        ("20227753", "stuglaser", "Comment created by PyGithub\n")]


def _not_found_by_its_marker(found) -> None:
    assert found is None


def _bad_credentials(failure) -> None:
    assert (failure.status, failure.message) == (401, "Bad credentials")


def _unknown_repository(failure) -> None:
    assert (failure.status, failure.message) == (404, "Not Found")


def _rate_limited_without_reset(failure) -> None:
    assert (failure.status, failure.retry_after) == (403, None)
    assert failure.message == "API Rate Limit Exceeded for 92.104.200.119"


def _open_bugs(states) -> None:
    assert [state.key for state in states] == ["PyGithub/PyGithub#3379", "PyGithub/PyGithub#3373",
                                               "PyGithub/PyGithub#3372"]
    assert {(state.status_category, state.state_reason) for state in states} == {("new", None)}


SINCE = dt.datetime(2025, 9, 1, tzinfo=UTC)
REPLAYS = [
    Replay("Repository.testCreateIssue", 0, "POST", "/repos/PyGithub/PyGithub/issues",
           lambda adapter: adapter.create_issue(IssueSpec("PyGithub/PyGithub", "Issue created by PyGithub", None,
                                                          marker="cocreate-N-0028")),
           _created, current=False),
    Replay("Issue.setUp", 1, "GET", "/repos/PyGithub/PyGithub/issues/28",
           lambda adapter: adapter.get_issue("PyGithub/PyGithub#28"), _issue_28, current=True),
    Replay("Issue.testEditWithStateReasonNotPlanned", 0, "GET", "/repos/PyGithub/PyGithub/issues/28",
           lambda adapter: adapter.get_issue("PyGithub/PyGithub#28"), _not_planned, current=False),
    Replay("Issue.testCreateComment", 0, "POST", "/repos/PyGithub/PyGithub/issues/28/comments",
           lambda adapter: adapter.add_comment("PyGithub/PyGithub#28", "Comment created by PyGithub"), _comment,
           current=False, expected_request={"body": "Comment created by PyGithub"}),
    Replay("Issue.testGetComments", 0, "GET", "/repos/PyGithub/PyGithub/issues/28/comments",
           lambda adapter: adapter.list_comments("PyGithub/PyGithub#28"), _comments, current=False),
    Replay("IssueComment.setUp", 2, "GET", "/repos/PyGithub/PyGithub/issues/28/comments",
           lambda adapter: adapter.list_comments("PyGithub/PyGithub#28"), _current_comment, current=True,
           as_list=True),
    Replay("Repository.testGetIssuesWithTypeArgument", 0, "GET", "/repos/PyGithub/PyGithub/issues",
           lambda adapter: adapter.updated_since(["PyGithub/PyGithub"], SINCE), _open_bugs, current=True),
    # A listing that ignored the label filter must not pass for the marked issue.
    Replay("Repository.testGetIssuesWithTypeArgument", 1, "GET", "/repos/PyGithub/PyGithub/issues",
           lambda adapter: adapter.find_by_marker("PyGithub/PyGithub", "cocreate-N-3335"),
           _not_found_by_its_marker, current=True),
    Replay("SpecificExceptions.testBadCredentials", 0, "GET", "/user", lambda adapter: adapter.whoami(),
           _bad_credentials, current=True, raises=TrackerAuthError),
    Replay("SpecificExceptions.testUnknownObject", 1, "GET", "/repos/jacquev6/Xxx/issues/1",
           lambda adapter: adapter.get_issue("jacquev6/Xxx#1"),
           _unknown_repository, current=True, raises=TrackerNotFound),
    Replay("SpecificExceptions.testRateLimitExceeded", 1, "GET", "/user", lambda adapter: adapter.whoami(),
           _rate_limited_without_reset, current=True, raises=TrackerRateLimited),
]


@pytest.mark.parametrize("replay", REPLAYS, ids=[f"{replay.recording}[{replay.index}]" for replay in REPLAYS])
def test_recorded_exchange_through_the_adapter(replay):
    exchange = exchanges(replay.recording)[replay.index]
    body = json.dumps([json.loads(exchange.body)]) if replay.as_list else None
    adapter = GitHubAdapter(GitHubSettings(token="private_token_removed"), pacer=Pacer(sleep=lambda _: None))
    with responses.RequestsMock() as mock:
        serve(mock, exchange, replay.method, replay.path, body)
        if replay.raises:
            with pytest.raises(replay.raises) as caught:
                replay.act(adapter)
            result = caught.value
        else:
            result = replay.act(adapter)

        (call,) = mock.calls
        assert (call.request.method, urlsplit(call.request.url).path) == (replay.method, replay.path)
        if replay.expected_request is not None:
            assert json.loads(call.request.body) == replay.expected_request == json.loads(exchange.request_body)
        GITHUB.check_request(call.request)
        if replay.current:
            GITHUB.check_exchange(call.request, call.response)
        else:
            with pytest.raises(Exception, match="InvalidData|required property"):
                GITHUB.check_exchange(call.request, call.response)
    replay.check(result)


def test_replayed_rate_limit_reset_gives_the_wait():
    """A 403 primary limit (SpecificExceptions, 2013) with the limit headers of RateLimiting (2023):
    ``x-ratelimit-reset`` minus the answer's ``Date`` is the wait."""
    limited = exchanges("SpecificExceptions.testRateLimitExceeded")[1]
    recorded = exchanges("RateLimiting.testRateLimiting")[1]
    reset = int(recorded.header("X-RateLimit-Reset"))
    answered_at = email.utils.parsedate_to_datetime(recorded.header("Date")).timestamp()
    headers = [(name, "0" if name.lower() == "x-ratelimit-remaining" else value)
               for name, value in recorded.headers if name.lower().startswith("x-ratelimit")]
    exchange = Exchange(limited.method, limited.path, None, 403, headers + [("Date", recorded.header("Date"))],
                        limited.body)
    adapter = GitHubAdapter(GitHubSettings(token="private_token_removed"), wall_clock=lambda: answered_at)
    with responses.RequestsMock() as mock:
        serve(mock, exchange, "GET", "/repos/PyGithub/PyGithub/issues/28")
        with pytest.raises(TrackerRateLimited) as caught:
            adapter.get_issue("PyGithub/PyGithub#28")
        GITHUB.check_calls(mock.calls)
    assert caught.value.retry_after == reset - answered_at == 3479.0  # 58 min before the hourly reset
    assert caught.value.message == "API Rate Limit Exceeded for 92.104.200.119"


def test_recorded_search_results_tell_pull_requests_from_issues():
    """Cocreate lists issues rather than searching (search lags); the 2014 search answer still shows how
    GitHub marks pull requests among issues, which the adapter must skip."""
    (exchange,) = exchanges("Search.testSearchIssues")
    items = json.loads(exchange.body)["items"]
    pulls = [item for item in items if is_pull_request(item)]
    assert len(items) == 30 and len(pulls) == 19
    assert all("/pull/" in item["html_url"] for item in pulls)
    assert all("/issues/" in issue_state("search/result", item).url for item in items if item not in pulls)


def test_every_recording_parses():
    files = sorted(path.stem for path in Path(RECORDED).glob("*.txt"))
    assert len(files) >= 20
    for name in files:
        for exchange in exchanges(name):
            assert exchange.method in {"GET", "POST", "PATCH", "PUT", "DELETE"} and exchange.path.startswith("/")
