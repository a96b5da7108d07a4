"""The demand score against a fake Jira Cloud driven through the real ``jira`` client: written with the issue's
other fields, in the configured Number field, once per change and never when nothing changed."""

import datetime as dt
import json

import pytest
import responses

from plugin.errors import ConfigError
from plugin.loading import parse_settings
from sync.ledger.customers import edit_customer
from sync.ledger.store import IssueDemand
from sync.loop import outbound
from sync.loop.status import apply_issue_state
from tests.demand.helpers import demand_runtime, three_customers_before_the_tracker
from tests.factories import file_need
from tests.jira.fake_jira import FakeJira, check_cloud_calls
from tests.sync.trackers import JIRA_YAML, stored, tracker_runtime

FIELD = "customfield_10050"


@pytest.fixture
def site():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        yield fake, mock
        check_cloud_calls(mock.calls)


def demand_writes(mock) -> list[float]:
    """The demand values sent to Jira, one per call that carried the field (creates and edits alike)."""
    values = []
    for call in mock.calls:
        if call.request.method not in ("POST", "PUT") or not call.request.body:
            continue
        body = json.loads(call.request.body)
        for fields in [item["fields"] for item in body.get("issueUpdates", ())] + [body.get("fields") or {}]:
            if FIELD in fields:
                values.append(fields[FIELD])
    return values


@pytest.fixture
def three(site, tmp_path):
    """The three customers' needs, then Jira configured: the first creates the issue, the others join it."""
    fake, mock = site
    refs = three_customers_before_the_tracker("jira", tmp_path)
    runtime = demand_runtime("jira", tmp_path)
    assert outbound.queue_resume(runtime) is True
    yield runtime, refs
    runtime.engine.dispose()


def test_three_customers_of_three_tiers_give_one_score_written_once(site, three):
    fake, mock = site
    runtime, refs = three
    assert {stored(runtime, ref).issue_key for ref in refs} == {"CS-1"}
    assert len(fake.issues) == 1
    # (strategic 5 + 2.0M revenue 2) + (enterprise 3 + 0.5) + (no tier 1) = 11.5, times critical's 3
    assert fake.issues["CS-1"]["fields"][FIELD] == 34.5
    assert demand_writes(mock) == [34.5]  # in the create itself: no edit of its own
    assert [path for method, path in fake.write_log if method == "PUT"] == []
    text = str(fake.issues["CS-1"]["fields"]["description"])
    assert "Customers asking (3)" in text and "Customer demand" in text and "34.5" in text
    assert "Globex · Critical · N-0002 · enterprise" in text
    with runtime.Session() as session:
        row = session.get(IssueDemand, "CS-1")
    assert row.score == 34.5
    assert row.customers == [["acme", "strategic", 2000000], ["globex", "enterprise", 500000],
                             ["initech", None, None]]


def test_a_fourth_customer_is_one_more_write_and_a_resync_none(site, three):
    fake, mock = site
    runtime, refs = three
    writes = fake.writes
    fourth = file_need(runtime, customer="umbrella", urgency="low", linked_to="N-0001")
    assert stored(runtime, fourth.ref).issue_key == "CS-1"
    assert fake.writes == writes + 1
    assert fake.write_log[-1] == ("PUT", "/rest/api/3/issue/CS-1")  # body and field in one edit
    assert fake.issues["CS-1"]["fields"][FIELD] == 46.5  # + enterprise 3 + 1.0M revenue 1, times 3
    assert demand_writes(mock) == [34.5, 46.5]
    assert "Customers asking (4)" in str(fake.issues["CS-1"]["fields"]["description"])

    writes = fake.writes
    for ref in [*refs, fourth.ref]:
        runtime.queue.enqueue("sync_need", ref, ref=ref)
    assert fake.writes == writes
    assert demand_writes(mock) == [34.5, 46.5]


def test_a_customers_new_tier_rewrites_the_score_once(site, three):
    fake, mock = site
    runtime, _refs = three
    writes = fake.writes
    edit_customer(runtime, "initech", {"tier": "strategic"})
    assert fake.writes == writes + 1
    assert fake.issues["CS-1"]["fields"][FIELD] == 46.5  # Initech now weighs 5 instead of 1
    assert "Initech · Medium · N-0003 · strategic" in str(fake.issues["CS-1"]["fields"]["description"])
    edit_customer(runtime, "initech", {"tier": "strategic", "aliases": ["Initech Ltd"]})  # same tier: nothing
    assert fake.writes == writes + 1


def test_a_refused_field_write_is_recorded_and_written_at_the_next_sync(site, three):
    fake, mock = site
    runtime, refs = three
    fake.fail("PUT", "/issue/CS-1", 400, {"errorMessages": [], "errors": {FIELD: "Field cannot be set."}})
    file_need(runtime, customer="umbrella", urgency="low", linked_to="N-0001")  # its issue's edit is refused
    with runtime.Session() as session:
        assert session.get(IssueDemand, "CS-1").score == 34.5  # what Jira really holds
    assert stored(runtime, refs[0]).sync_state == "failed"
    assert "customfield_10050: Field cannot be set." in stored(runtime, refs[0]).sync_error
    runtime.queue.enqueue("sync_need", refs[0], ref=refs[0])
    assert fake.issues["CS-1"]["fields"][FIELD] == 46.5


def test_no_demand_field_configured_writes_none(site, tmp_path):
    fake, mock = site
    plain = tracker_runtime("jira", tmp_path)  # the sync tests' config: no demand_field
    file_need(plain)
    file_need(plain, customer="globex", urgency="critical", linked_to="N-0001")
    assert not [name for name in fake.issues["CS-1"]["fields"] if name.startswith("customfield_")]
    assert demand_writes(mock) == []
    assert "Customer demand" in str(fake.issues["CS-1"]["fields"]["description"])  # the body still shows it
    plain.engine.dispose()


def test_a_demand_field_that_is_not_a_custom_field_id_is_refused_by_name():
    text = JIRA_YAML.replace("account_id: 5b10ac8d82e05b22cc7d4ef5}",
                             "account_id: 5b10ac8d82e05b22cc7d4ef5, demand_field: Customer demand}")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "jira.yaml")
    assert "tracker.jira.demand_field" in str(caught.value)


def test_an_issue_whose_needs_are_done_loses_its_waiting_time_in_one_edit(site, tmp_path):
    fake, mock = site
    three_customers_before_the_tracker("jira", tmp_path, extra_yaml="")  # the default age factor, 0.1 a day
    runtime = demand_runtime("jira", tmp_path, extra_yaml="")
    outbound.queue_resume(runtime)
    waited = (dt.datetime.now(dt.UTC) - dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)).days
    assert fake.issues["CS-1"]["fields"][FIELD] == round(34.5 + 0.1 * waited, 1)
    edits = len(demand_writes(mock))
    fake.set_status("CS-1", "Done", "done")
    assert apply_issue_state(runtime, runtime.adapter().get_issue("CS-1")) is True
    assert {stored(runtime, ref).status for ref in ("N-0001", "N-0002", "N-0003")} == {"done"}
    assert demand_writes(mock)[edits:] == [34.5]  # nothing waits any more: one edit, with the body
    writes = fake.writes
    assert apply_issue_state(runtime, runtime.adapter().get_issue("CS-1")) is False  # the same state again
    assert fake.writes == writes
    runtime.engine.dispose()


def test_needs_linked_to_an_issue_rd_made_write_the_field_only_when_it_moves(site, tmp_path):
    fake, mock = site
    runtime = demand_runtime("jira", tmp_path)
    key = fake.add_issue("CS", "Existing R&D issue")
    file_need(runtime, linked_to=f"https://cocreate-test.atlassian.net/browse/{key}")
    assert fake.issues[key]["fields"][FIELD] == 14.0  # ACME alone: (5 + 2) * high's 2
    assert fake.issues[key]["fields"]["summary"] == "Existing R&D issue"  # R&D's issue: only the field changes
    file_need(runtime, customer="initech", urgency="medium", linked_to=key)
    assert fake.issues[key]["fields"][FIELD] == 16.0  # (7 + 1) * 2
    assert demand_writes(mock) == [14.0, 16.0]
    runtime.queue.enqueue("sync_need", "N-0002", ref="N-0002")
    assert demand_writes(mock) == [14.0, 16.0]
    runtime.engine.dispose()
