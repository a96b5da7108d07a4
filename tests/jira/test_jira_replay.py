"""Real Jira answers recorded by others (../shared/contracts) replayed through JiraAdapter's reading and parsing."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from plugin.errors import TrackerInvalidField
from plugin.jira import JiraAdapter
from plugin.tracker_settings import JiraSettings
from tests.contract import CONTRACTS
from tests.jira.fake_jira import BASE_URL, check_cloud_calls, fake_settings

RECORDED = CONTRACTS / "recorded"
JIRA_RUBY = RECORDED / "jira-ruby" / "spec" / "mock_responses"
DEVLAKE = RECORDED / "incubator-devlake" / "backend" / "plugins" / "jira" / "e2e" / "raw_tables"
WEBHOOKS = CONTRACTS / "jira-webhooks" / "mattermost-plugin-jira" / "server" / "testdata"
API = f"{BASE_URL}/rest/api/3"
DC_URL = "http://localhost:2990/jira"
DC_API = f"{DC_URL}/rest/api/2"


def recorded(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def devlake_rows(table: str) -> list[dict]:
    """The JSON bodies DevLake recorded from a real Jira Cloud site, one response element per row."""
    csv.field_size_limit(10**8)
    with (DEVLAKE / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


def dc_adapter() -> JiraAdapter:
    return JiraAdapter(JiraSettings(url=DC_URL, deployment="datacenter", personal_access_token="pat"))


# Jira Server (jira-ruby's recordings from a Jira Server dev instance, REST v2) -------------------------


def test_server_issue_without_status_categories():
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_API}/issue/SAMPLEPROJECT-1", json=recorded(JIRA_RUBY / "issue" / "10002.json"))
        state = dc_adapter().get_issue("SAMPLEPROJECT-1")
    assert state.key == "SAMPLEPROJECT-1" and state.raw_id == "10002"
    assert state.title == "Sample Issue"
    # Recorded on Jira before 6.1: statuses had no category yet.
    assert (state.status_name, state.status_category) == ("Open", "undefined")
    assert state.priority == "Major"
    assert state.assignee == "admin"
    assert state.due_date == dt.date(2011, 12, 14)
    assert state.labels == frozenset()
    assert state.body is None
    assert state.updated_at == dt.datetime(2011, 12, 14, 10, 26, 6, 30000, tzinfo=dt.timezone(dt.timedelta(hours=13)))
    assert state.url == f"{DC_URL}/browse/SAMPLEPROJECT-1"


def test_server_comments_and_a_posted_comment():
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_API}/issue/SAMPLEPROJECT-1/comment",
                 json=recorded(JIRA_RUBY / "issue" / "10002" / "comment.json"))
        mock.post(f"{DC_API}/issue/SAMPLEPROJECT-1/comment", status=201,
                  json=recorded(JIRA_RUBY / "issue" / "10002" / "comment.post.json"))
        adapter = dc_adapter()
        comments = adapter.list_comments("SAMPLEPROJECT-1")
        posted = adapter.add_comment("SAMPLEPROJECT-1", "new comment")
    assert [(c.id, c.author, c.text) for c in comments] == [
        ("10000", "admin", "This is a comment. Creative."), ("10001", "admin", "new comment")]
    assert comments[0].created_at == dt.datetime(2012, 1, 11, 10, 2, 14, 430000,
                                                 tzinfo=dt.timezone(dt.timedelta(hours=13)))
    assert (posted.id, posted.author, posted.text) == ("10001", "admin", "new comment")


@pytest.mark.parametrize(("file", "words"), [
    ("10002.invalid.put.json", "invalid: Field 'invalid' is not valid for this operation."),
    ("10002.put.missing_field_update.json", "one of 'fields' or 'update' required"),
])
def test_server_refusals_of_an_edit(file, words):
    with responses.RequestsMock() as mock:
        mock.put(f"{DC_API}/issue/SAMPLEPROJECT-1", status=400, json=recorded(JIRA_RUBY / "issue" / file))
        with pytest.raises(TrackerInvalidField) as raised:
            dc_adapter().update_issue("SAMPLEPROJECT-1", {"custom_fields": {"invalid": "x"}})
    assert raised.value.message == f"update SAMPLEPROJECT-1: {words}"


# Jira Cloud (DevLake's recordings from merico.atlassian.net) ----------------------------------------


def test_cloud_search_result_as_recorded_by_devlake():
    issue = devlake_rows("_raw_jira_api_issues_for_due_date")[0]
    # DevLake asked for expand=changelog, which Cocreate never does; real changelogs carry nulls and
    # tmp*AccountId keys that Atlassian's description forbids.
    issue.pop("changelog")
    with responses.RequestsMock() as mock:
        mock.post(f"{API}/search/jql", json={"issues": [issue], "isLast": True})
        state = JiraAdapter(fake_settings()).find_by_marker("EE", "Saas")
        check_cloud_calls(mock.calls)
    assert state is not None and state.key == "EE-1" and state.raw_id == "10063"
    assert state.labels == {"frontEnd", "Saas"}
    # As recorded: a status named 已完成 ("done") that the site put in the "new" category.
    assert (state.status_name, state.status_category) == ("已完成", "new")
    assert state.updated_at is not None and state.updated_at.tzinfo is not None


def test_cloud_account_and_its_time_zone_as_recorded_by_devlake():
    user = devlake_rows("_raw_jira_api_users")[0]
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/myself", json=user)
        mock.post(f"{API}/search/jql", json={"issues": [], "isLast": True})
        adapter = JiraAdapter(fake_settings())
        assert adapter.whoami() == "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
        adapter.updated_since(["EE"], dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC))
        jql = json.loads(mock.calls[1].request.body)["jql"]
        check_cloud_calls(mock.calls)
    assert user["timeZone"] == "Asia/Shanghai"
    assert 'updated >= "2026/11/23 12:00"' in jql


def test_cloud_remote_link_with_a_global_id_as_recorded_by_devlake():
    link = next(row for row in devlake_rows("_raw_jira_api_remotelinks") if "globalId" in row)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{API}/issue/EE-69/remotelink", json=link)
        mock.post(f"{API}/issue/EE-69/remotelink", json={"id": link["id"], "self": link["self"]})
        adapter = JiraAdapter(fake_settings())
        adapter.set_link("EE-69", link["globalId"], link["object"]["url"], link["object"]["title"])
        assert [c.request.method for c in mock.calls] == ["GET"]
        # Reserved characters in the globalId travel escaped, as Jira asks.
        assert "globalId=appId%3D14a8b58c" in mock.calls[0].request.url
        assert parse_qs(urlsplit(mock.calls[0].request.url).query)["globalId"] == [link["globalId"]]
        adapter.set_link("EE-69", link["globalId"], link["object"]["url"], "Wiki Page (renamed)")
        assert [c.request.method for c in mock.calls] == ["GET", "GET", "POST"]
        check_cloud_calls(mock.calls)


# Issues inside real webhook deliveries (mattermost-plugin-jira captures, Cloud and Server) -----------


def webhook_issues() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(WEBHOOKS.glob("*.json")):
        issue = recorded(path).get("issue")
        if issue:
            found.append((path.name, issue))
    return found


@pytest.mark.parametrize(("name", "issue"), webhook_issues(), ids=[name for name, _ in webhook_issues()])
def test_issue_from_a_real_webhook_reads_back(name, issue):
    cloud = urlsplit(issue["self"]).netloc.endswith(".atlassian.net")
    adapter = JiraAdapter(fake_settings()) if cloud else dc_adapter()
    api = API if cloud else DC_API
    fields = issue["fields"]
    with responses.RequestsMock() as mock:
        mock.get(f"{api}/issue/{issue['key']}", json=issue)
        state = adapter.get_issue(issue["key"])
        if cloud:
            assert check_cloud_calls(mock.calls) == 1
    assert state.key == issue["key"] and state.raw_id == issue["id"]
    assert state.title == fields.get("summary", "")
    assert state.status_name == fields["status"]["name"]
    assert state.status_category == fields["status"]["statusCategory"]["key"]
    assert state.labels == set(fields.get("labels") or [])
    assert state.priority == (fields.get("priority") or {}).get("name")
    person = fields.get("assignee") or {}
    assert state.assignee == (person.get("accountId") if cloud else person.get("name"))
    if fields.get("updated"):
        assert state.updated_at.utcoffset() is not None


def test_a_cloud_webhook_issue_in_detail():
    issue = recorded(WEBHOOKS / "webhook-cloud-issue-created-many-fields.json")["issue"]
    with responses.RequestsMock() as mock:
        mock.get(f"{API}/issue/KT-22", json=issue)
        state = JiraAdapter(fake_settings()).get_issue("KT-22")
        check_cloud_calls(mock.calls)
    assert (state.status_name, state.status_category) == ("To Do", "new")
    assert state.labels == {"Label1", "Label2"}
    assert state.priority == "Medium"
    assert state.assignee == "5cedcb4355a88a0fc86388ba"
    assert state.updated_at == dt.datetime(2019, 8, 27, 19, 43, 24, 193000, tzinfo=dt.UTC)
