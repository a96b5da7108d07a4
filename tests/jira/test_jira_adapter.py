"""JiraAdapter driving the real jira client: Cloud against FakeJira (every exchange checked against Atlassian's
description), Data Center against hand-written REST v2 answers, and the mapping of every kind of failure."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from plugin.base import IssueSpec
from plugin.errors import (
    TrackerAuthError,
    TrackerError,
    TrackerInvalidField,
    TrackerNotFound,
    TrackerRateLimited,
    TrackerUnavailable,
)
from plugin.jira import JiraAdapter
from plugin.jira.adapter import adf_document, adf_text
from plugin.text import wiki_escape, wiki_unescape
from plugin.tracker_settings import JiraSettings
from tests.jira.fake_jira import (
    BASE_URL,
    COCREATE_ACCOUNT,
    FakeJira,
    check_cloud_calls,
    fake_settings,
)

API = f"{BASE_URL}/rest/api/3"
DC_URL = "https://jira.example.com"
DC_API = f"{DC_URL}/rest/api/2"
OWNER = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"


def spec(**overrides) -> IssueSpec:
    """An IssueSpec for project CS; a test names only what differs."""
    values = dict(project="CS", title="Invoices should show the tax number",
                  body=adf_document("Customer needs the tax number on every PDF invoice."),
                  marker="cocreate-N-0042", labels=frozenset({"cocreate"}), priority="High", assignee=OWNER,
                  due_date=dt.date(2026, 12, 15), custom_fields={"customfield_10050": "ACME Corp"})
    values.update(overrides)
    return IssueSpec(**values)


def sent(call) -> dict:
    return json.loads(call.request.body)


def writes_in(calls) -> list[tuple[str, str]]:
    return [(c.request.method, urlsplit(c.request.url).path) for c in calls
            if c.request.method in ("POST", "PUT", "DELETE") and not c.request.url.endswith("/search/jql")]


SITE_NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
"""The fake site's clock in the ``cloud`` fixture, so that timestamps read back are known."""


@pytest.fixture
def cloud():
    """(adapter, fake, mock) on a fake Jira Cloud; every exchange is checked against the description."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, users={OWNER: "Wang Wei"}, now=SITE_NOW)
        yield JiraAdapter(fake_settings()), fake, mock
        check_cloud_calls(mock.calls)


# Cloud: each method -------------------------------------------------------------------------------


def test_whoami_is_the_cloud_account_id_read_once(cloud):
    adapter, fake, mock = cloud
    assert adapter.whoami() == COCREATE_ACCOUNT
    assert adapter.whoami() == COCREATE_ACCOUNT
    assert [urlsplit(c.request.url).path for c in mock.calls] == ["/rest/api/3/myself"]


def test_create_issue_sends_every_field_once_and_returns_the_stored_issue(cloud):
    adapter, fake, mock = cloud
    state = adapter.create_issue(spec())
    create = mock.calls[0]
    assert (create.request.method, create.request.url) == ("POST", f"{API}/issue")
    assert sent(create) == {"fields": {
        "project": {"key": "CS"},
        "summary": "Invoices should show the tax number",
        "issuetype": {"name": "Task"},
        "labels": ["cocreate", "cocreate-N-0042"],
        "description": adf_document("Customer needs the tax number on every PDF invoice."),
        "priority": {"name": "High"},
        "assignee": {"accountId": OWNER},
        "duedate": "2026-12-15",
        "customfield_10050": "ACME Corp",
    }}
    read = mock.calls[1]
    assert read.request.method == "GET" and urlsplit(read.request.url).path == "/rest/api/3/issue/CS-1"
    assert state.key == "CS-1"
    assert state.url == f"{BASE_URL}/browse/CS-1"
    assert state.title == "Invoices should show the tax number"
    assert state.labels == {"cocreate", "cocreate-N-0042"}
    assert (state.status_name, state.status_category) == ("To Do", "new")
    assert state.priority == "High"
    assert state.assignee == OWNER
    assert state.due_date == dt.date(2026, 12, 15)
    assert state.body == adf_document("Customer needs the tax number on every PDF invoice.")
    assert state.updated_at == SITE_NOW
    assert state.raw_id == "10001"
    assert fake.writes == 1


def test_create_issue_leaves_out_what_the_spec_leaves_empty(cloud):
    adapter, fake, mock = cloud
    adapter.create_issue(spec(body=None, priority=None, assignee=None, due_date=None, custom_fields={},
                              labels=frozenset(), issue_type="Bug"))
    assert sent(mock.calls[0])["fields"] == {"project": {"key": "CS"}, "summary": "Invoices should show the tax number",
                                             "issuetype": {"name": "Bug"}, "labels": ["cocreate-N-0042"]}


def test_create_issue_refused_field_carries_jiras_words(cloud):
    adapter, fake, mock = cloud
    with pytest.raises(TrackerInvalidField) as raised:
        adapter.create_issue(spec(priority="Urgent"))
    assert raised.value.status == 400
    assert "priority: Specify a valid 'id' or 'name' for Priority" in raised.value.message
    assert "cocreate-N-0042" in raised.value.message


def test_find_by_marker_searches_the_new_jql_endpoint(cloud):
    adapter, fake, mock = cloud
    fake.add_issue(summary="Other need", labels=["cocreate-N-0041"])
    key = fake.add_issue(summary="This need", labels=["cocreate-N-0042"])
    found = adapter.find_by_marker("CS", "cocreate-N-0042")
    assert found is not None and found.key == key and found.title == "This need"
    search = mock.calls[0]
    assert (search.request.method, search.request.url) == ("POST", f"{API}/search/jql")
    body = sent(search)
    assert body["jql"] == 'project = "CS" AND labels = "cocreate-N-0042" ORDER BY created ASC'
    assert set(body["fields"]) >= {"summary", "status", "labels", "priority", "assignee", "duedate", "updated"}
    assert adapter.find_by_marker("CS", "cocreate-N-9999") is None
    assert fake.writes == 0


def test_jql_string_values_are_quoted_and_escaped(cloud):
    adapter, fake, mock = cloud
    assert adapter.find_by_marker("CS", 'odd"marker\\') is None
    assert sent(mock.calls[0])["jql"] == 'project = "CS" AND labels = "odd\\"marker\\\\" ORDER BY created ASC'


def test_get_issue_reads_status_category_and_people(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue(summary="Seeded", assignee={"accountId": OWNER}, priority={"name": "Low"})
    fake.set_status(key, "In Review", "indeterminate")
    state = adapter.get_issue(key)
    assert (state.status_name, state.status_category) == ("In Review", "indeterminate")
    assert state.assignee == OWNER and state.priority == "Low"
    query = parse_qs(urlsplit(mock.calls[0].request.url).query)
    assert query["fields"] == ["summary,description,status,labels,priority,assignee,duedate,updated"]


def test_get_issue_of_a_missing_issue_is_not_found(cloud):
    adapter, fake, mock = cloud
    with pytest.raises(TrackerNotFound, match="Issue does not exist or you do not have permission to see it"):
        adapter.get_issue("CS-404")


def test_update_issue_writes_only_the_changes_in_one_put(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue(assignee={"accountId": OWNER})
    adapter.update_issue(key, {
        "title": "New title",
        "labels": {"cocreate-N-0042", "customer-acme"},
        "priority": "Highest",
        "assignee": None,
        "due_date": dt.date(2027, 1, 5),
        "custom_fields": {"customfield_10050": "ACME Corp, Globex"},
    })
    assert len(mock.calls) == 1
    put = mock.calls[0]
    assert (put.request.method, put.request.url) == ("PUT", f"{API}/issue/{key}")
    assert put.response.status_code == 204
    assert sent(put) == {"fields": {
        "summary": "New title",
        "labels": ["cocreate-N-0042", "customer-acme"],
        "priority": {"name": "Highest"},
        "assignee": None,
        "duedate": "2027-01-05",
        "customfield_10050": "ACME Corp, Globex",
    }}
    state = adapter.get_issue(key)
    assert state.title == "New title" and state.assignee is None and state.priority == "Highest"


def test_update_issue_body_alone(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    adapter.update_issue(key, {"body": adf_document("Rewritten")})
    assert sent(mock.calls[0]) == {"fields": {"description": adf_document("Rewritten")}}


def test_update_issue_without_changes_makes_no_call(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    adapter.update_issue(key, {})
    assert len(mock.calls) == 0 and fake.writes == 0


def test_update_issue_rejects_an_unknown_change_before_calling(cloud):
    adapter, fake, mock = cloud
    with pytest.raises(ValueError, match="status"):
        adapter.update_issue("CS-1", {"status": "Done"})
    assert len(mock.calls) == 0


def test_add_comment_posts_adf_whose_text_nodes_keep_mentions_inert(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    text = "Status: Done\nThanks [~accountid:5b10ac8d82e05b22cc7d4ef5] @all\n\nSecond *paragraph*"
    comment = adapter.add_comment(key, text)
    post = mock.calls[0]
    assert (post.request.method, post.request.url) == ("POST", f"{API}/issue/{key}/comment")
    assert sent(post) == {"body": {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Status: Done"},
            {"type": "hardBreak"},
            {"type": "text", "text": "Thanks [~accountid:5b10ac8d82e05b22cc7d4ef5] @all"},
        ]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Second *paragraph*"}]},
    ]}}
    assert comment.text == text
    assert comment.author == COCREATE_ACCOUNT
    assert comment.id == "10000" and comment.created_at is not None


def test_list_comments_reads_every_page_oldest_first(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    for number in range(130):
        adapter.add_comment(key, f"comment {number}")
    mock.calls.reset()
    comments = adapter.list_comments(key)
    assert [c.text for c in comments] == [f"comment {number}" for number in range(130)]
    pages = [parse_qs(urlsplit(c.request.url).query) for c in mock.calls]
    assert [page["startAt"] for page in pages] == [["0"], ["100"]]
    assert all(page["orderBy"] == ["created"] for page in pages)


def test_set_link_creates_then_leaves_an_identical_link_alone_then_updates_in_place(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    global_id = "cocreate:need:N-0042"
    adapter.set_link(key, global_id, "https://cocreate.example/needs/N-0042", "N-0042 Invoices")
    assert writes_in(mock.calls) == [("POST", f"/rest/api/3/issue/{key}/remotelink")]
    lookup = mock.calls[0]
    assert lookup.request.method == "GET"
    assert parse_qs(urlsplit(lookup.request.url).query) == {"globalId": [global_id]}
    assert sent(mock.calls[1]) == {"globalId": global_id,
                                   "object": {"url": "https://cocreate.example/needs/N-0042",
                                              "title": "N-0042 Invoices"}}

    writes_before = fake.writes
    adapter.set_link(key, global_id, "https://cocreate.example/needs/N-0042", "N-0042 Invoices")
    assert fake.writes == writes_before

    adapter.set_link(key, global_id, "https://cocreate.example/needs/N-0042", "N-0042 Invoices (3 customers)")
    assert fake.writes == writes_before + 1
    assert [link["object"]["title"] for link in fake.remote_links[key]] == ["N-0042 Invoices (3 customers)"]


def test_set_link_on_a_missing_issue_is_not_found(cloud):
    adapter, fake, mock = cloud
    with pytest.raises(TrackerNotFound):
        adapter.set_link("CS-404", "cocreate:need:N-1", "https://cocreate.example/needs/N-1", "N-1")


def test_remove_link_deletes_by_global_id_and_tolerates_an_absent_link(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    adapter.set_link(key, "cocreate:minutes:1", "https://cocreate.example/minutes/1", "Workshop")
    adapter.remove_link(key, "cocreate:minutes:1")
    assert fake.remote_links[key] == []
    delete = mock.calls[-1]
    assert delete.request.method == "DELETE"
    assert parse_qs(urlsplit(delete.request.url).query) == {"globalId": ["cocreate:minutes:1"]}
    adapter.remove_link(key, "cocreate:minutes:1")  # already gone: no error
    adapter.remove_link("CS-404", "cocreate:minutes:1")  # no issue, so no link either: the end state holds


def test_add_attachment_uploads_one_multipart_file_with_its_type(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    attachment_id = adapter.add_attachment(key, "screenshot.png", b"\x89PNG\r\n", "image/png")
    post = mock.calls[0]
    assert (post.request.method, post.request.url) == ("POST", f"{API}/issue/{key}/attachments")
    assert post.request.headers["X-Atlassian-Token"] == "no-check"
    assert post.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    stored = fake.attachments[key][0]
    assert attachment_id == stored["id"]
    assert (stored["filename"], stored["mimeType"], stored["data"]) == ("screenshot.png", "image/png", b"\x89PNG\r\n")


def test_create_issues_bulk_creates_fifty_per_call_and_keeps_the_order(cloud):
    adapter, fake, mock = cloud
    specs = [spec(title=f"Need {n}", marker=f"cocreate-N-{n:04d}", assignee=None) for n in range(120)]
    states = adapter.create_issues(specs)
    assert [s.title for s in states] == [f"Need {n}" for n in range(120)]
    assert all(f"cocreate-N-{n:04d}" in s.labels for n, s in enumerate(states))
    bulks = [c for c in mock.calls if c.request.url == f"{API}/issue/bulk"]
    assert [len(sent(c)["issueUpdates"]) for c in bulks] == [50, 50, 20]
    searches = [sent(c) for c in mock.calls if c.request.url == f"{API}/search/jql"]
    assert len(searches) == 3
    assert searches[2]["reconcileIssues"] == [int(s.raw_id) for s in states[100:]]
    assert searches[2]["jql"] == f"key in ({', '.join(s.key for s in states[100:])})"
    assert fake.writes == 3


def test_create_issues_names_the_refused_needs_and_what_was_created(cloud):
    adapter, fake, mock = cloud
    specs = [spec(marker="cocreate-N-0001"), spec(marker="cocreate-N-0002", priority="Urgent"),
             spec(marker="cocreate-N-0003", labels=frozenset({"two words"}))]
    with pytest.raises(TrackerInvalidField) as raised:
        adapter.create_issues(specs)
    message = raised.value.message
    assert "created CS-1" in message
    assert "cocreate-N-0002: priority: Specify a valid 'id' or 'name' for Priority" in message
    assert "cocreate-N-0003: labels: The label 'two words' contains spaces which is invalid." in message
    assert list(fake.issues) == ["CS-1"]


def test_create_issues_when_jira_creates_none_of_the_batch(cloud):
    adapter, fake, mock = cloud
    with pytest.raises(TrackerInvalidField, match="created none; refused cocreate-N-0042: project: valid project"):
        adapter.create_issues([spec(project="NOPE")])
    assert mock.calls[0].response.status_code == 400


def test_create_issues_with_nothing_makes_no_call(cloud):
    adapter, fake, mock = cloud
    assert adapter.create_issues([]) == []
    assert len(mock.calls) == 0


def test_updated_since_asks_in_the_accounts_time_zone_and_reads_every_page():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS", "OPS"), time_zone="Asia/Shanghai")
        adapter = JiraAdapter(fake_settings())
        old = fake.add_issue(summary="untouched")
        fake.advance(3600)
        since = fake.now
        fresh = [fake.add_issue(project=("CS", "OPS")[n % 2], summary=f"fresh {n}") for n in range(150)]
        fake.set_status(old, "Done", "done")  # touched after `since`: found again, last
        states = adapter.updated_since(["CS", "OPS"], since)
        assert [s.key for s in states] == [*fresh, old]
        searches = [sent(c) for c in mock.calls if c.request.url == f"{API}/search/jql"]
        local = since.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert searches[0]["jql"] == (f'project in ("CS", "OPS") AND updated >= "{local:%Y/%m/%d %H:%M}"'
                                      " ORDER BY updated ASC")
        assert len(searches) == 2 and searches[1]["nextPageToken"]
        assert adapter.updated_since([], since) == []
        check_cloud_calls(mock.calls)


def test_updated_since_takes_a_naive_time_as_utc():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeJira(mock, time_zone="America/Vancouver")
        adapter = JiraAdapter(fake_settings())
        adapter.updated_since(["CS"], dt.datetime(2026, 11, 23, 12, 0))
        jql = sent(mock.calls[-1])["jql"]
        assert 'updated >= "2026/11/23 04:00"' in jql
        check_cloud_calls(mock.calls)


# Cloud: failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "body", "headers", "error", "words"), [
    (401, {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
           "errors": {}}, {}, TrackerAuthError, "You are not authenticated"),
    (403, {"errorMessages": ["You do not have the permission to see the specified issue."], "errors": {}}, {},
     TrackerAuthError, "permission to see the specified issue"),
    (404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}, {},
     TrackerNotFound, "Issue does not exist"),
    (429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {"Retry-After": "17"},
     TrackerRateLimited, "Rate limit exceeded."),
    (503, {"errorMessages": ["Service Unavailable"], "errors": {}}, {}, TrackerUnavailable, "Service Unavailable"),
    (500, {"errorMessages": ["Internal server error"], "errors": {}}, {}, TrackerUnavailable, "Internal server"),
])
def test_each_http_failure_becomes_its_tracker_error_with_jiras_words(cloud, status, body, headers, error, words):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    fake.fail("GET", r"/issue/.*", status, body, headers)
    with pytest.raises(error) as raised:
        adapter.get_issue(key)
    assert raised.value.status == status
    assert words in raised.value.message
    assert raised.value.message.startswith(f"read {key}: ")
    if status == 429:
        assert raised.value.retry_after == 17
    assert len(mock.calls) == 1


def test_bad_request_with_an_errors_dict_names_each_field(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    fake.fail("PUT", rf"/issue/{key}", 400, {"errorMessages": ["Check the custom fields."], "errors": {
        "customfield_10050": "Field 'customfield_10050' cannot be set. It is not on the appropriate screen, "
                             "or unknown.",
        "priority": "Specify a valid 'id' or 'name' for Priority"}})
    with pytest.raises(TrackerInvalidField) as raised:
        adapter.update_issue(key, {"priority": "Urgent", "custom_fields": {"customfield_10050": "ACME"}})
    assert raised.value.status == 400
    assert raised.value.message == (
        f"update {key}: Check the custom fields.; "
        "customfield_10050: Field 'customfield_10050' cannot be set. It is not on the appropriate screen, or unknown.; "
        "priority: Specify a valid 'id' or 'name' for Priority")


def test_a_refused_edit_names_the_field(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    with pytest.raises(TrackerInvalidField, match="duedate: Error parsing date string: someday"):
        adapter.update_issue(key, {"custom_fields": {"duedate": "someday"}})


def test_rate_limited_write_keeps_retry_after(cloud):
    adapter, fake, mock = cloud
    key = fake.add_issue()
    fake.fail("POST", rf"/issue/{key}/comment", 429, headers={"Retry-After": "30"})
    with pytest.raises(TrackerRateLimited) as raised:
        adapter.add_comment(key, "hello")
    assert raised.value.retry_after == 30
    assert raised.value.retryable
    adapter.add_comment(key, "hello")
    assert len(fake.comments[key]) == 1


@pytest.mark.parametrize("failure", [requests.ConnectionError("Connection refused"),
                                     requests.ReadTimeout("Read timed out. (read timeout=30)"),
                                     requests.ConnectTimeout("Connect timed out")])
def test_no_answer_is_unavailable(failure):
    with responses.RequestsMock() as mock:
        mock.post(f"{API}/search/jql", body=failure)
        adapter = JiraAdapter(fake_settings())
        with pytest.raises(TrackerUnavailable, match="Jira did not answer") as raised:
            adapter.find_by_marker("CS", "cocreate-N-0042")
        assert raised.value.retryable
        assert len(mock.calls) == 1
        check_cloud_calls(mock.calls)


def test_a_non_json_answer_is_reported_not_parsed():
    with responses.RequestsMock() as mock:
        mock.post(f"{API}/search/jql", body="<html>Log in</html>", content_type="text/html")
        adapter = JiraAdapter(fake_settings())
        with pytest.raises(TrackerError) as raised:
            adapter.find_by_marker("CS", "cocreate-N-0042")
        assert type(raised.value) is TrackerError and not raised.value.retryable
        assert "not JSON" in raised.value.message


# Data Center (REST v2, wiki markup, user names) ----------------------------------------------------


def dc_adapter() -> JiraAdapter:
    return JiraAdapter(JiraSettings(url=DC_URL, deployment="datacenter", personal_access_token="pat-secret"))


def dc_issue(key: str = "CS-7", **fields) -> dict:
    """An issue as Jira Data Center 9 returns it over REST v2."""
    values = {
        "summary": "Invoices should show the tax number",
        "description": "Customer needs the tax number\\-on every invoice.",
        "status": {"self": f"{DC_API}/status/3", "description": "",
                   "iconUrl": f"{DC_URL}/images/icons/statuses/inprogress.png", "name": "In Progress", "id": "3",
                   "statusCategory": {"self": f"{DC_API}/statuscategory/4", "id": 4, "key": "indeterminate",
                                      "colorName": "yellow", "name": "In Progress"}},
        "labels": ["cocreate-N-0042"],
        "priority": {"self": f"{DC_API}/priority/2", "name": "High", "id": "2"},
        "assignee": {"self": f"{DC_API}/user?username=wang.wei", "name": "wang.wei", "key": "JIRAUSER10200",
                     "displayName": "Wang Wei", "active": True, "timeZone": "Asia/Shanghai"},
        "duedate": "2026-12-15",
        "updated": "2026-11-23T20:00:00.000+0800",
    }
    values.update(fields)
    return {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": "10107", "self": f"{DC_API}/issue/10107", "key": key, "fields": values}


def test_data_center_whoami_is_the_user_name():
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_API}/myself", json={"self": f"{DC_API}/user?username=cocreate", "key": "JIRAUSER10100",
                                           "name": "cocreate", "displayName": "Cocreate", "timeZone": "Asia/Shanghai"})
        assert dc_adapter().whoami() == "cocreate"
        assert mock.calls[0].request.headers["Authorization"] == "Bearer pat-secret"


def test_data_center_create_sends_wiki_body_and_user_name():
    with responses.RequestsMock() as mock:
        mock.post(f"{DC_API}/issue", status=201, json={"id": "10107", "key": "CS-7", "self": f"{DC_API}/issue/10107"})
        mock.get(f"{DC_API}/issue/CS-7", json=dc_issue())
        state = dc_adapter().create_issue(spec(body="Customer needs h1. nothing", assignee="wang.wei",
                                               custom_fields={}))
        fields = sent(mock.calls[0])["fields"]
        assert fields["assignee"] == {"name": "wang.wei"}
        assert fields["description"] == "Customer needs h1. nothing"
        assert state.assignee == "wang.wei"
        assert (state.status_name, state.status_category) == ("In Progress", "indeterminate")
        assert state.url == f"{DC_URL}/browse/CS-7"
        assert state.updated_at == dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_data_center_update_sends_the_user_name():
    with responses.RequestsMock() as mock:
        mock.put(f"{DC_API}/issue/CS-7", status=204)
        dc_adapter().update_issue("CS-7", {"assignee": "li.na"})
        assert sent(mock.calls[0]) == {"fields": {"assignee": {"name": "li.na"}}}


def test_data_center_search_pages_by_start_at():
    first = [dc_issue(f"CS-{n}") for n in range(1, 101)]
    second = [dc_issue("CS-101")]
    with responses.RequestsMock() as mock:
        mock.post(f"{DC_API}/search", json={"startAt": 0, "maxResults": 100, "total": 101, "issues": first})
        mock.post(f"{DC_API}/search", json={"startAt": 100, "maxResults": 100, "total": 101, "issues": second})
        mock.get(f"{DC_API}/myself", json={"name": "cocreate", "timeZone": "Europe/Berlin"})
        states = dc_adapter().updated_since(["CS"], dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
        assert [s.key for s in states] == [f"CS-{n}" for n in range(1, 102)]
        searches = [sent(c) for c in mock.calls if c.request.url == f"{DC_API}/search"]
        assert [s["startAt"] for s in searches] == [0, 100]
        assert searches[0]["jql"] == 'project in ("CS") AND updated >= "2026/11/23 13:00" ORDER BY updated ASC'


def test_data_center_bulk_reads_back_missing_issues_one_by_one():
    with responses.RequestsMock() as mock:
        mock.post(f"{DC_API}/issue/bulk", status=201, json={"issues": [
            {"id": "10107", "key": "CS-7", "self": f"{DC_API}/issue/10107"},
            {"id": "10108", "key": "CS-8", "self": f"{DC_API}/issue/10108"}], "errors": []})
        mock.post(f"{DC_API}/search", json={"startAt": 0, "maxResults": 100, "total": 1, "issues": [dc_issue("CS-8")]})
        mock.get(f"{DC_API}/issue/CS-7", json=dc_issue("CS-7"))
        states = dc_adapter().create_issues([spec(marker="cocreate-N-0007"), spec(marker="cocreate-N-0008")])
        assert [s.key for s in states] == ["CS-7", "CS-8"]
        assert "reconcileIssues" not in sent(mock.calls[1])


def test_data_center_comments_are_escaped_wiki_markup_and_read_back_plain():
    text = "Done in [~admin] *release* {code} -x- 100%"
    with responses.RequestsMock() as mock:
        mock.post(f"{DC_API}/issue/CS-7/comment", status=201, json={
            "self": f"{DC_API}/issue/10107/comment/10001", "id": "10001",
            "author": {"name": "cocreate", "displayName": "Cocreate"},
            "body": wiki_escape(text), "created": "2026-11-23T20:00:00.000+0800",
            "updated": "2026-11-23T20:00:00.000+0800"})
        comment = dc_adapter().add_comment("CS-7", text)
        body = sent(mock.calls[0])["body"]
        assert body == "Done in \\[\\~admin\\] \\*release\\* \\{code\\} \\-x\\- 100%"
        assert comment.text == text and comment.author == "cocreate"


def test_data_center_forbidden_with_a_captcha_reason_header():
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_API}/issue/CS-7", status=403, body="",
                 headers={"X-Authentication-Denied-Reason":
                          "CAPTCHA_CHALLENGE; login-url=https://jira.example.com/login.jsp"})
        with pytest.raises(TrackerAuthError, match="CAPTCHA_CHALLENGE"):
            dc_adapter().get_issue("CS-7")


# Text helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["one line", "two\nlines", "para one\n\npara two\nwith break", "[~accountid:x] @all"])
def test_adf_round_trip(text):
    assert adf_text(adf_document(text)) == text


def test_adf_text_reads_nodes_people_write():
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hi "},
                                          {"type": "mention", "attrs": {"id": OWNER, "text": "@Wang Wei"}},
                                          {"type": "text", "text": " see "},
                                          {"type": "inlineCard", "attrs": {"url": "https://x.example"}}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}]},
    ]}
    assert adf_text(doc) == "Hi @Wang Wei see https://x.example\n\na\n\nb"


def test_wiki_escape_round_trip():
    text = "a\\b *c* _d_ {e} [f|g] h-i ^j^ ~k~ +l+ ?? !m! #n |o"
    assert wiki_unescape(wiki_escape(text)) == text
