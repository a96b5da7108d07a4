"""GitHubAdapter on the real PyGithub client against FakeGitHub, every exchange checked against GitHub's description."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from plugin.base import IssueSpec
from plugin.errors import TrackerInvalidField, TrackerNotFound, TrackerUnavailable
from plugin.github import GitHubAdapter, Pacer
from plugin.text import markdown_text, plain_text
from plugin.tracker_settings import GitHubSettings
from tests.contract import GITHUB
from tests.github.fake_github import FIXTURES, FakeGitHub

MARKER = "cocreate-N-0042"
UTC = dt.timezone.utc


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def mock():
    """A ``responses`` mock whose every recorded exchange must fit GitHub's description."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as requests_mock:
        yield requests_mock
        assert GITHUB.check_calls(requests_mock.calls) == len(requests_mock.calls)


@pytest.fixture
def fake(mock) -> FakeGitHub:
    return FakeGitHub(mock, repos=["acme/app", "acme/web"], assignable={"wang-wei", "li-na"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def adapter(clock) -> GitHubAdapter:
    return GitHubAdapter(GitHubSettings(token="ghp_test"), pacer=Pacer(clock=clock, sleep=clock.sleep))


def spec(**overrides) -> IssueSpec:
    values = {"project": "acme/app", "title": "Export the monthly report as xlsx",
              "body": "Customer **ACME** asks for it.\n\n<!-- cocreate -->", "marker": MARKER,
              "labels": frozenset({"urgency: high", "customer-need"}), "assignee": "wang-wei"}
    return IssueSpec(**{**values, **overrides})


def sent(call) -> dict:
    return json.loads(call.request.body)


def query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def test_whoami_reads_the_token_owner_once(mock, fake, adapter):
    assert adapter.kind == "github"
    assert adapter.whoami() == "cocreate-bot"
    assert adapter.whoami() == "cocreate-bot"
    assert [(call.request.method, urlsplit(call.request.url).path) for call in mock.calls] == [("GET", "/user")]


def test_whoami_prefers_the_configured_login(mock, fake):
    adapter = GitHubAdapter(GitHubSettings(token="ghp_test", login="cocreate-app[bot]"))
    assert adapter.whoami() == "cocreate-app[bot]"
    assert len(mock.calls) == 0


def test_whoami_for_an_app_is_its_configured_login(mock, fake):
    settings = GitHubSettings(app_id=1, private_key_path="unused.pem", installation_id=2, login="cocreate-app[bot]")
    adapter = GitHubAdapter(settings, client=GitHubAdapter(GitHubSettings(token="unused")).client)
    assert adapter.whoami() == "cocreate-app[bot]"
    assert len(mock.calls) == 0  # an app cannot read GET /user


def test_create_issue_sends_title_body_labels_with_marker_and_assignee(mock, fake, adapter):
    state = adapter.create_issue(spec())

    (call,) = mock.calls
    assert (call.request.method, urlsplit(call.request.url).path) == ("POST", "/repos/acme/app/issues")
    assert sent(call) == {"title": "Export the monthly report as xlsx",
                          "body": "Customer **ACME** asks for it.\n\n<!-- cocreate -->",
                          "labels": ["cocreate-N-0042", "customer-need", "urgency: high"],
                          "assignees": ["wang-wei"]}
    assert state.key == "acme/app#1"
    assert state.url == "https://github.com/acme/app/issues/1"
    assert state.labels == {MARKER, "customer-need", "urgency: high"}
    assert (state.status_name, state.status_category, state.state_reason) == ("open", "new", None)
    assert state.assignee == "wang-wei"
    assert state.body == "Customer **ACME** asks for it.\n\n<!-- cocreate -->"
    assert state.raw_id == fake.issue("acme/app#1")["node_id"]
    assert state.updated_at == dt.datetime(2025, 1, 6, 9, 0, 1, tzinfo=UTC)
    assert fake.writes == 1
    # GitHub creates labels the repository does not have yet (grey, no description).
    assert {label["color"] for label in fake.issue("acme/app#1")["labels"]} == {"ededed"}


def test_create_issue_without_body_or_assignee_sends_neither(mock, fake, adapter):
    state = adapter.create_issue(spec(body=None, assignee=None, labels=frozenset()))
    assert sent(mock.calls[0]) == {"title": "Export the monthly report as xlsx", "labels": [MARKER]}
    assert state.assignee is None and state.body is None


def test_create_issue_rejects_a_body_that_is_not_markdown(mock, fake, adapter):
    with pytest.raises(TypeError):
        adapter.create_issue(spec(body={"type": "doc"}))
    assert len(mock.calls) == 0


def test_create_issue_warns_when_github_drops_the_labels(mock, adapter, caplog):
    """Without push access GitHub creates the issue but silently drops its labels, marker included."""
    issue = json.loads((FIXTURES / "issue.json").read_text(encoding="utf-8"))
    issue.update(state="open", state_reason=None, closed_at=None, closed_by=None, labels=[], assignee=None,
                 assignees=[], number=7, html_url="https://github.com/acme/app/issues/7",
                 repository_url="https://api.github.com/repos/acme/app")
    mock.add("POST", "https://api.github.com:443/repos/acme/app/issues", json=issue, status=201)
    with caplog.at_level(logging.WARNING, logger="plugin.github.adapter"):
        state = adapter.create_issue(spec(assignee=None))
    assert state.key == "acme/app#7" and state.labels == frozenset()
    assert "cocreate-N-0042" in caplog.text and "triage or write access" in caplog.text


def test_create_issues_keeps_order(mock, fake, adapter):
    states = adapter.create_issues([spec(marker="cocreate-N-0001"), spec(marker="cocreate-N-0002")])
    assert [state.key for state in states] == ["acme/app#1", "acme/app#2"]
    assert MARKER not in states[0].labels and "cocreate-N-0001" in states[0].labels


def test_find_by_marker_lists_by_label_and_skips_pull_requests(mock, fake, adapter):
    pull = fake.add_pull_request("acme/app", "Adds xlsx export")
    fake.edit(f"acme/app#{pull['number']}", labels=[MARKER])
    fake.open_issue("acme/app", "Unrelated", labels=["customer-need"])
    created = adapter.create_issue(spec())
    mock.calls.reset()

    found = adapter.find_by_marker("acme/app", MARKER)

    assert found is not None and found.key == created.key
    (call,) = mock.calls
    assert (call.request.method, urlsplit(call.request.url).path) == ("GET", "/repos/acme/app/issues")
    assert query(call) == {"labels": [MARKER], "state": ["all"], "per_page": ["100"]}


def test_find_by_marker_finds_closed_issues_and_matches_case_insensitively(mock, fake, adapter):
    fake.open_issue("acme/app", "Made by an earlier try", labels=["Cocreate-N-0042"])
    fake.close("acme/app#1", "completed")
    found = adapter.find_by_marker("acme/app", MARKER)
    assert found is not None and found.key == "acme/app#1" and found.status_category == "done"


def test_find_by_marker_returns_none_when_no_issue_carries_it(mock, fake, adapter):
    fake.open_issue("acme/app", "Someone else's", labels=["cocreate-N-0041"])
    assert adapter.find_by_marker("acme/app", MARKER) is None


def test_find_by_marker_in_an_unknown_repository_raises_not_found(mock, fake, adapter):
    with pytest.raises(TrackerNotFound, match="Not Found"):
        adapter.find_by_marker("acme/gone", MARKER)


def test_get_issue_maps_open_closed_and_reopened(mock, fake, adapter):
    key = adapter.create_issue(spec()).key

    fake.close(key, "not_planned")
    closed = adapter.get_issue(key)
    assert (closed.status_name, closed.status_category, closed.state_reason) == ("closed", "done", "not_planned")

    fake.reopen(key)
    reopened = adapter.get_issue(key)
    assert (reopened.status_category, reopened.state_reason) == ("new", "reopened")
    assert reopened.updated_at > closed.updated_at
    assert [urlsplit(call.request.url).path for call in mock.calls[1:]] == ["/repos/acme/app/issues/1"] * 2


def test_get_issue_reads_the_first_assignee_and_labels_set_by_engineers(mock, fake, adapter):
    fake.open_issue("acme/web", "Two people on it", assignees=["li-na", "wang-wei"], labels=["bug", "ui"],
                    body="Steps:\n1. open")
    state = adapter.get_issue("acme/web#1")
    assert state.key == "acme/web#1" and state.assignee == "li-na"
    assert state.labels == {"bug", "ui"} and state.body == "Steps:\n1. open"


def test_get_issue_that_does_not_exist_raises_not_found(mock, fake, adapter):
    with pytest.raises(TrackerNotFound) as caught:
        adapter.get_issue("acme/app#99")
    assert caught.value.status == 404 and caught.value.message == "Not Found"


def test_update_issue_sends_one_patch_with_only_the_given_fields(mock, fake, adapter, clock):
    key = adapter.create_issue(spec()).key
    mock.calls.reset()

    adapter.update_issue(key, {"title": "Export as xlsx and csv", "labels": {MARKER, "urgency: critical"},
                               "assignee": "li-na", "due_date": dt.date(2025, 3, 1), "priority": "Highest"})

    (call,) = mock.calls
    assert (call.request.method, urlsplit(call.request.url).path) == ("PATCH", "/repos/acme/app/issues/1")
    assert sent(call) == {"title": "Export as xlsx and csv", "labels": [MARKER, "urgency: critical"],
                          "assignees": ["li-na"]}
    state = adapter.get_issue(key)
    assert state.title == "Export as xlsx and csv" and state.assignee == "li-na"
    assert state.labels == {MARKER, "urgency: critical"}
    assert fake.writes == 2


def test_update_issue_body_alone_and_unassign(mock, fake, adapter):
    key = adapter.create_issue(spec()).key
    mock.calls.reset()
    adapter.update_issue(key, {"body": "New body", "assignee": None})
    assert sent(mock.calls[0]) == {"body": "New body", "assignees": []}
    assert adapter.get_issue(key).assignee is None


@pytest.mark.parametrize("changes", [{}, {"due_date": dt.date(2025, 3, 1), "priority": "High",
                                          "custom_fields": {"customfield_1": "x"}}])
def test_update_issue_with_nothing_github_stores_makes_no_call(mock, fake, adapter, clock, changes):
    adapter.update_issue("acme/app#1", changes)
    assert len(mock.calls) == 0 and clock.sleeps == []


def test_update_issue_refuses_fields_it_does_not_know(mock, fake, adapter):
    with pytest.raises(ValueError, match="state"):
        adapter.update_issue("acme/app#1", {"state": "closed"})


def test_update_issue_with_an_assignee_github_rejects_raises_invalid_field(mock, fake, adapter):
    key = adapter.create_issue(spec()).key
    with pytest.raises(TrackerInvalidField) as caught:
        adapter.update_issue(key, {"assignee": "nobody"})
    assert caught.value.status == 422
    assert caught.value.message == "Validation Failed: assignees: invalid 'nobody'"


def test_add_comment_escapes_markdown_and_neutralises_mentions(mock, fake, adapter):
    key = adapter.create_issue(spec()).key
    text = "Status: Done.\nThanks @all, @acme/support and @wang-wei! Mail wang.wei@example.com\n- *not* a list"

    comment = adapter.add_comment(key, text)

    posted = sent(mock.calls[-1])["body"]
    assert urlsplit(mock.calls[-1].request.url).path == "/repos/acme/app/issues/1/comments"
    assert "@all" not in posted and "@acme/support" not in posted and "@wang-wei" not in posted
    assert "@\u200dall" in posted and "@\u200dacme/support" in posted and "@\u200dwang-wei" in posted
    assert "wang.wei@example.com" in posted  # an e-mail address is no mention
    assert "\n\\- \\*not\\* a list" in posted
    assert comment.text == text and comment.author == "cocreate-bot"
    assert fake.comments(key)[0]["body"] == posted


def test_list_comments_oldest_first_across_pages(mock, fake, adapter):
    key = adapter.create_issue(spec()).key
    for index in range(104):
        fake.comment(key, f"comment {index}", login="li-na")
    adapter.add_comment(key, "Cocreate's status @all")
    mock.calls.reset()

    comments = adapter.list_comments(key)

    assert [comment.text for comment in comments[:2]] == ["comment 0", "comment 1"]
    assert comments[-1].text == "Cocreate's status @all" and comments[-1].author == "cocreate-bot"
    assert comments[0].author == "li-na" and comments[0].created_at < comments[-1].created_at
    assert len(comments) == 105 and len({comment.id for comment in comments}) == 105
    assert [query(call).get("page") for call in mock.calls] == [None, ["2"]]


def test_updated_since_pages_in_update_order_skipping_pull_requests(mock, fake, adapter):
    for index in range(1, 121):
        fake.open_issue("acme/app", f"need {index}")
    fake.add_pull_request("acme/app")  # acme/app#121
    fake.open_issue("acme/web", "web need")
    fake.now += dt.timedelta(minutes=5)
    cutoff = fake.now  # what changes after this is wanted
    fake.edit("acme/app#3", title="need 3, edited")
    for number in range(4, 121):
        fake.comment(f"acme/app#{number}", "bump")
    fake.edit("acme/app#121", title="pull request, edited")
    fake.edit("acme/web#1", labels=["ui"])
    mock.calls.reset()

    states = adapter.updated_since(["acme/app", "acme/web"], cutoff.astimezone(dt.timezone(dt.timedelta(hours=8))))

    assert [state.key for state in states] == [
        "acme/app#3", *(f"acme/app#{number}" for number in range(4, 121)), "acme/web#1"]
    assert all(state.updated_at > cutoff for state in states)
    first = query(mock.calls[0])
    assert first == {"state": ["all"], "sort": ["updated"], "direction": ["asc"], "per_page": ["100"],
                     "since": [cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")]}
    assert [urlsplit(call.request.url).path for call in mock.calls] == [
        "/repos/acme/app/issues", "/repos/acme/app/issues", "/repos/acme/web/issues"]


def test_updated_since_reads_naive_times_as_utc(mock, fake, adapter):
    adapter.updated_since(["acme/app"], dt.datetime(2025, 1, 6, 9, 30))
    assert query(mock.calls[0])["since"] == ["2025-01-06T09:30:00Z"]


def test_links_and_attachments_cost_no_call(mock, fake, adapter):
    assert adapter.set_link("acme/app#1", "cocreate-need-N-0042", "https://cs.example.com/needs/N-0042",
                            "N-0042") is None
    assert adapter.add_attachment("acme/app#1", "shot.png", b"\x89PNG", "image/png") is None
    assert len(mock.calls) == 0


@pytest.mark.parametrize("key", ["acme/app", "acme/app#0", "#12", "acme/app#x", "acme app#1"])
def test_malformed_keys_are_refused_before_any_call(mock, adapter, key):
    with pytest.raises(ValueError, match="issue key"):
        adapter.get_issue(key)
    assert len(mock.calls) == 0


def test_writes_are_paced_and_reads_are_not(mock, fake, adapter, clock):
    key = adapter.create_issue(spec()).key
    adapter.get_issue(key)
    adapter.update_issue(key, {"title": "again"})
    adapter.add_comment(key, "hello")
    adapter.list_comments(key)
    assert clock.sleeps == [1.0, 1.0]  # three writes, one second apart; the reads waited for nothing


def test_fake_answers_injected_failures_then_recovers(mock, fake, adapter):
    fake.fail_next(503, "Service Unavailable", method="POST")
    with pytest.raises(TrackerUnavailable):
        adapter.create_issue(spec())
    assert fake.writes == 0 and adapter.find_by_marker("acme/app", MARKER) is None
    assert adapter.create_issue(spec()).key == "acme/app#1"


# Pacer ---------------------------------------------------------------------------------------------


def test_pacer_keeps_writes_one_second_apart():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    assert [pacer.wait() for _ in range(3)] == [0.0, 1.0, 1.0]
    clock.now += 5
    assert pacer.wait() == 0.0


def test_pacer_caps_writes_per_minute():
    clock = FakeClock()
    pacer = Pacer(per_minute=3, min_interval=0.0, clock=clock, sleep=clock.sleep)
    assert [pacer.wait() for _ in range(7)] == [0.0, 0.0, 0.0, 60.0, 0.0, 0.0, 60.0]


def test_pacer_default_never_exceeds_80_per_minute():
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(200):
        pacer.wait()
        starts.append(clock.now)
    assert all(later - earlier >= 1.0 for earlier, later in zip(starts, starts[1:], strict=False))
    assert max(sum(1 for s in starts if t <= s < t + 60) for t in starts) <= 80


def test_pacer_queues_concurrent_writers():
    start_times: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            start_times.append(seconds)

    pacer = Pacer(clock=lambda: 100.0, sleep=sleep)
    threads = [threading.Thread(target=pacer.wait) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(start_times) == [float(n) for n in range(1, 20)]  # one went at once, each other its own slot


def test_pacer_refuses_nonsense():
    with pytest.raises(ValueError):
        Pacer(per_minute=0)


# Markdown --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "plain", "@all please", "ping @org/team-a now", "(@user)", "a\\b\\*c", "# not a heading\n> nor a quote",
    "1. one\n2) two\n+ three\n===", "<script>alert(1)</script> & &amp;", "`code` ~~strike~~ |table|",
    "[link](https://evil.example.com) ![img](x)", "中文 @用户 @张三abc", "",
])
def test_markdown_text_round_trips(text):
    assert plain_text(markdown_text(text)) == text


def test_markdown_text_leaves_no_live_mention_or_markup():
    escaped = markdown_text("@all @org/team @user-1 <b>x</b> [a](b) *e* _u_")
    assert escaped == ("@\u200dall @\u200dorg/team @\u200duser-1 \\<b\\>x\\</b\\> \\[a\\](b) \\*e\\* \\_u\\_")
