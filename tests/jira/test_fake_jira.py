"""FakeJira itself: its JQL, injected failures, counters and helpers; every answer checked against the description."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
import responses

from plugin.base import IssueSpec
from plugin.errors import TrackerAuthError, TrackerInvalidField, TrackerUnavailable
from plugin.jira import JiraAdapter
from plugin.jira.adapter import adf_document
from plugin.jira.client import build_client, call, jira_errors
from tests.jira.fake_jira import API, BASE_URL, FakeJira, check_cloud_calls, fake_settings


@pytest.fixture
def site():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS", "OPS"))
        yield JiraAdapter(fake_settings()), fake, mock
        check_cloud_calls(mock.calls)


def test_an_unchanged_resync_makes_no_write(site):
    adapter, fake, mock = site
    need = IssueSpec(project="CS", title="Export to Excel", body=adf_document("Please"), marker="cocreate-N-0007")
    for _ in range(3):  # what a level-triggered sync does on every run
        state = adapter.find_by_marker("CS", need.marker) or adapter.create_issue(need)
        adapter.set_link(state.key, "cocreate:need:N-0007", "https://cocreate.example/needs/N-0007", "N-0007")
    assert fake.writes == 2
    assert fake.write_log == [("POST", f"{API}/issue"), ("POST", f"{API}/issue/CS-1/remotelink")]
    assert len(fake.issues) == 1


def test_set_status_is_what_the_adapter_reads_next(site):
    adapter, fake, mock = site
    key = fake.add_issue(summary="Seeded")
    before = adapter.get_issue(key).updated_at
    fake.set_status(key, "Won't Do", "done")
    state = adapter.get_issue(key)
    assert (state.status_name, state.status_category) == ("Won't Do", "done")
    assert state.updated_at > before
    assert fake.writes == 0


def test_issue_json_is_a_copy_with_every_field(site):
    adapter, fake, mock = site
    key = fake.add_issue(labels=["cocreate-N-0001"], customfield_10050="ACME")
    issue = fake.issue_json(key)
    assert issue["key"] == key and issue["fields"]["customfield_10050"] == "ACME"
    assert issue["fields"]["status"]["statusCategory"]["key"] == "new"
    issue["fields"]["labels"].append("changed")
    assert fake.issues[key]["fields"]["labels"] == ["cocreate-N-0001"]


def test_failures_are_injected_for_the_given_number_of_calls_and_counted(site):
    adapter, fake, mock = site
    key = fake.add_issue()
    fake.fail("PUT", r"/issue/.*", 503, times=2)
    for _ in range(2):
        with pytest.raises(TrackerUnavailable, match="Fake failure 503"):
            adapter.update_issue(key, {"title": "Retried"})
    adapter.update_issue(key, {"title": "Retried"})
    assert adapter.get_issue(key).title == "Retried"
    assert fake.writes == 3


def test_jql_by_key_and_project_with_order_and_pages(site):
    adapter, fake, mock = site
    keys = [fake.add_issue(project="OPS" if n % 3 == 0 else "CS", summary=f"n{n}") for n in range(7)]
    client = build_client(fake_settings())
    answer = call(client, "POST", "search/jql", body={
        "jql": 'project = OPS ORDER BY created DESC', "fields": ["summary"], "maxResults": 2}).json()
    assert [issue["key"] for issue in answer["issues"]] == ["OPS-3", "OPS-2"]
    assert answer["isLast"] is False
    rest = call(client, "POST", "search/jql", body={
        "jql": 'project = OPS ORDER BY created DESC', "fields": ["summary"], "maxResults": 2,
        "nextPageToken": answer["nextPageToken"]}).json()
    assert [issue["key"] for issue in rest["issues"]] == ["OPS-1"] and rest["isLast"] is True
    picked = call(client, "POST", "search/jql", body={"jql": f"key in ({keys[1]}, {keys[2]})"}).json()
    assert [issue["key"] for issue in picked["issues"]] == [keys[1], keys[2]]
    assert picked["issues"][0]["fields"] == {}  # like Jira: no fields asked, ids only


def test_jql_the_fake_does_not_know_fails_loudly(site):
    adapter, fake, mock = site
    client = build_client(fake_settings())
    with pytest.raises(NotImplementedError, match="statusCategory = Done"):
        call(client, "POST", "search/jql", body={"jql": "project = CS AND statusCategory = Done"})
    mock.calls.reset()


def test_endpoints_the_fake_does_not_emulate_fail_loudly(site):
    adapter, fake, mock = site
    with pytest.raises(NotImplementedError, match="transitions"):
        requests.get(f"{BASE_URL}{API}/issue/CS-1/transitions", timeout=5)
    mock.calls.reset()


def test_refusals_look_like_jiras(site):
    adapter, fake, mock = site
    key = fake.add_issue()
    client = build_client(fake_settings())
    with pytest.raises(TrackerInvalidField, match="comment: Operation value must be an Atlassian Document"):
        with jira_errors("fake call"):
            client.add_comment(key, "plain text is refused on REST v3")
    with pytest.raises(TrackerInvalidField, match="description: Operation value must be an Atlassian Document"):
        adapter.update_issue(key, {"body": "plain text"})
    with pytest.raises(TrackerAuthError, match="XSRF check failed"):
        with jira_errors("fake call"):
            call(client, "POST", f"issue/{key}/attachments", data=b"--x--",
                 headers={"Content-Type": "multipart/form-data; boundary=x", "X-Atlassian-Token": ""})


def test_known_users_only_when_given():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, users={"712020:known": "Li Na"})
        adapter = JiraAdapter(fake_settings())
        key = fake.add_issue()
        adapter.update_issue(key, {"assignee": "712020:known"})
        with pytest.raises(TrackerInvalidField, match="assignee: Specify a valid value for assignee"):
            adapter.update_issue(key, {"assignee": "712020:stranger"})
        check_cloud_calls(mock.calls)


def test_timestamps_are_written_in_the_accounts_zone_like_jira():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, time_zone="Asia/Shanghai", now=dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC))
        key = fake.add_issue()
        assert fake.issues[key]["fields"]["created"] == "2026-11-23T12:00:00.000+0800"
        assert BASE_URL in fake.issues[key]["self"]
