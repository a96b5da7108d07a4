"""A bulk action on 500 needs that have Jira issues: the request writes the needs and queues their syncs, at most
one job per need, and calls the tracker not once (the jobs do, in the background)."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from sqlalchemy import func, insert, select

from sync.ledger import accounts
from sync.ledger.store import Job, Need, NeedEdit
from tests.jira.fake_jira import FakeJira
from tests.sync.trackers import tracker_runtime
from tests.web.pages import log_in
from webhooks.app import create_app

NEEDS = 500


def linked_needs(count: int) -> list[dict]:
    """``count`` needs as store rows, each synced to its own issue CS-1..CS-<count>."""
    moment = dt.datetime(2026, 11, 20, 9, 30)
    return [{"ref": f"N-{number:04d}", "category": "billing", "title": f"Need {number}", "description": "",
             "urgency": "high", "reporter_name": "Li Na", "reported_at": moment, "owner": "Wang Wei",
             "status": "new", "remarks": "", "customer": "acme", "created_at": moment, "updated_at": moment,
             "status_changed_at": moment, "issue_key": f"CS-{number}",
             "issue_url": f"https://cocreate-test.atlassian.net/browse/CS-{number}", "sync_state": "synced",
             "synced_fields": {}} for number in range(1, count + 1)]


@pytest.fixture
def jira_table(tmp_path):
    """A runtime on the fake Jira whose jobs are queued, not run; 500 linked needs; a logged-in CS client."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeJira(mock, projects=("CS",))
        runtime = tracker_runtime("jira", tmp_path, immediate=False)
        with runtime.Session.begin() as session:
            session.execute(insert(Need), linked_needs(NEEDS))
            accounts.add_user(session, "cs1", "password1", "cs")
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
        log_in(client)
        yield mock, runtime, client
        runtime.close()


def sync_jobs(runtime) -> list[tuple[str, list]]:
    with runtime.Session() as session:
        return session.execute(select(Job.name, Job.args).where(Job.name.in_(["sync_need", "sync_needs"]))).all()


def test_a_bulk_owner_change_of_500_linked_needs_queues_one_sync_per_need_and_calls_no_tracker(jira_table):
    mock, runtime, client = jira_table
    calls = len(mock.calls)

    review = client.post("/needs/bulk", data={"scope": "matching", "action": "owner", "owner": "Zhao Min"})
    assert review.status_code == 200 and "Change 500 needs" in review.text
    applied = client.post("/needs/bulk/apply", data={"scope": "matching", "action": "owner", "owner": "Zhao Min"})

    assert applied.status_code == 302
    assert [call.request.url for call in mock.calls[calls:]] == []  # no tracker call while the page waited
    with runtime.Session() as session:
        assert session.scalar(select(func.count()).select_from(Need).where(Need.owner == "Zhao Min")) == NEEDS
        assert session.scalar(select(func.count()).select_from(NeedEdit).where(NeedEdit.field == "owner")) == NEEDS
    jobs = sync_jobs(runtime)
    synced = [ref for name, args in jobs for ref in (args[0] if name == "sync_needs" else [args[0]])]
    assert sorted(synced) == [f"N-{number:04d}" for number in range(1, NEEDS + 1)]  # each need once
    assert len(jobs) <= NEEDS
    assert [len(args[0]) for _name, args in jobs] == [200, 200, 100]  # one job per chunk of 200
