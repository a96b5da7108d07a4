"""POST /api/v1/needs/bulk: the bulk action of /needs through the API, chosen by refs or by the filters and search
of GET /api/v1/needs, counted by a dry run, applied with one history entry per need and its sync left to jobs."""

from __future__ import annotations

import pytest
import responses
from sqlalchemy import func, select, update

from plugin.loading import parse_settings
from sync.ledger.store import Need, NeedEdit, StatusChange
from tests.table.helpers import TABLE_YAML, RecordingQueue


@pytest.fixture
def settings():
    """A tracker configured, so that changed needs are queued for sync."""
    return parse_settings(TABLE_YAML, "table.yaml")


@pytest.fixture
def runtime(runtime):
    """The shared runtime whose queue records the jobs asked for and runs none."""
    runtime.queue = RecordingQueue()
    return runtime


@pytest.fixture
def five_needs(make_need, runtime):
    """N-0001..N-0005 of ACME, owner Wang Wei; N-0004 and N-0005 in category reports, N-0005 of Globex; N-0002 has
    a tracker issue. The jobs their filing queued are forgotten."""
    for number in range(5):
        make_need(category="reports" if number >= 3 else "billing", title=f"Invoice need {number + 1}",
                  customer="globex" if number == 4 else "acme")
    with runtime.Session.begin() as session:
        session.execute(update(Need).where(Need.ref == "N-0002").values(issue_key="CS-7"))
    runtime.queue.jobs.clear()


def owners(runtime) -> dict[str, str | None]:
    with runtime.Session() as session:
        return dict(session.execute(select(Need.ref, Need.owner).order_by(Need.id)).all())


def written(runtime) -> tuple:
    """Everything a bulk action writes: fields and versions, field and status history, jobs."""
    with runtime.Session() as session:
        needs = session.execute(select(Need.ref, Need.owner, Need.status, Need.category, Need.linked_to,
                                       Need.version).order_by(Need.id)).all()
        edits = session.scalar(select(func.count()).select_from(NeedEdit))
        statuses = session.scalar(select(func.count()).select_from(StatusChange))
    return needs, edits, statuses, list(runtime.queue.jobs)


def bulk(api, **body):
    return api.post("/api/v1/needs/bulk", body)


def test_a_dry_run_counts_and_writes_nothing(api, runtime, five_needs):
    before = written(runtime)

    response = bulk(api, action="owner", value="Chen Jie", refs=["N-0001", "N-0003"], dry_run=True)

    assert response.status_code == 200
    assert response.get_json() == {
        "dry_run": True, "action": "owner", "value": "Chen Jie", "selected": 2, "changed": 2, "unchanged": 0,
        "skipped": {}, "changed_refs": ["N-0001", "N-0003"], "skipped_refs": {}, "sync_jobs": 0}
    assert written(runtime) == before


def test_applying_keeps_one_history_entry_per_need_and_queues_each_changed_need_once(api, runtime, five_needs):
    with responses.RequestsMock() as tracker:  # any call to the tracker in the request would fail here
        response = bulk(api, action="owner", value="Chen Jie", refs=["N-0001", "N-0003", "N-0004"])
        assert not tracker.calls

    assert response.status_code == 200
    report = response.get_json()
    assert (report["dry_run"], report["changed"], report["unchanged"], report["sync_jobs"]) == (False, 3, 0, 1)
    assert owners(runtime) == {"N-0001": "Chen Jie", "N-0002": "Wang Wei", "N-0003": "Chen Jie",
                               "N-0004": "Chen Jie", "N-0005": "Wang Wei"}
    with runtime.Session() as session:
        edits = session.execute(select(Need.ref, NeedEdit.field, NeedEdit.old, NeedEdit.new, NeedEdit.source,
                                       NeedEdit.actor).join(Need).order_by(Need.id)).all()
    assert edits == [(ref, "owner", "Wang Wei", "Chen Jie", "api", "api-user") for ref in ("N-0001", "N-0003", "N-0004")]
    assert runtime.queue.named("sync_needs") == [(["N-0001", "N-0003", "N-0004"],)]

    again = bulk(api, action="owner", value="Chen Jie", refs=["N-0001", "N-0003", "N-0004"]).get_json()
    assert (again["changed"], again["unchanged"], again["sync_jobs"]) == (0, 3, 0)
    assert len(runtime.queue.named("sync_needs")) == 1


def test_needs_are_chosen_by_the_filters_and_search_of_the_needs_list(api, runtime, five_needs):
    # As GET /api/v1/needs?customer=acme&category=billing&category=reports&q=invoice would list them.
    listed = api.get("/api/v1/needs?customer=acme&category=billing&category=reports&q=invoice").get_json()
    chosen = {"customer": "acme", "category": ["billing", "reports"], "q": "invoice"}

    review = bulk(api, action="urgency", value="critical", filter=chosen, dry_run=True).get_json()
    applied = bulk(api, action="urgency", value="critical", filter=chosen).get_json()

    assert review["selected"] == applied["changed"] == len(listed["items"]) == 4
    assert sorted(applied["changed_refs"]) == sorted(item["ref"] for item in listed["items"])
    with runtime.Session() as session:
        assert session.scalar(select(Need.urgency).where(Need.ref == "N-0005")) != "critical"


def test_a_status_by_hand_skips_needs_with_an_issue_and_keeps_one_status_entry_each(api, runtime, five_needs):
    response = bulk(api, action="status", value="accepted", note="Confirmed by phone",
                    refs=["N-0001", "N-0002", "N-0003"])

    report = response.get_json()
    assert (report["changed"], report["skipped"], report["skipped_refs"]) == (
        2, {"has_issue": 1}, {"has_issue": ["N-0002"]})
    with runtime.Session() as session:
        changes = session.execute(select(Need.ref, StatusChange.status, StatusChange.note, StatusChange.actor)
                                  .join(Need).where(StatusChange.status == "accepted").order_by(Need.id)).all()
    assert changes == [("N-0001", "accepted", "Confirmed by phone", "api-user"),
                       ("N-0003", "accepted", "Confirmed by phone", "api-user")]


def test_linking_to_a_need_leaves_that_need_alone(api, runtime, five_needs):
    report = bulk(api, action="linked_to", value="n-0001", filter={"customer": "acme"}).get_json()

    assert (report["value"], report["changed"], report["skipped"]) == ("N-0001", 3, {"is_target": 1})


@pytest.mark.parametrize(("body", "message"), [
    ({"action": "title", "value": "x", "refs": ["N-0001"]},
     'action must be one of owner, status, category, urgency, linked_to, not "title"'),
    ({"value": "x", "refs": ["N-0001"]}, "action must be one of owner, status, category, urgency, linked_to, not null"),
    ({"action": "owner", "value": "x"}, "choose the needs by refs (a list of refs) or by filter (an object), not both "
                                        "nor neither; filter {} chooses every need"),
    ({"action": "owner", "value": "x", "refs": ["N-0001"], "filter": {}}, "choose the needs by refs"),
    ({"action": "owner", "value": "x", "refs": "N-0001"}, "refs must be a list of refs"),
    ({"action": "owner", "value": "x", "refs": []}, "refs: Select at least one need."),
    ({"action": "owner", "value": "x", "filter": {"title": "x"}}, "unknown filter title"),
    ({"action": "owner", "value": "x", "filter": {"status": 3}}, "filter status must be a value or a non-empty list"),
    ({"action": "owner", "value": "x", "filter": {"q": "x" * 201}}, "q must be text of at most 200 characters"),
    ({"action": "owner", "value": "x", "refs": ["N-0001"], "dry_run": "yes"}, "dry_run must be true or false"),
    ({"action": "owner", "value": "x", "refs": ["N-0001"], "note": "why"}, "note must be a string, and goes only "
                                                                         "with the action status"),
    ({"action": "owner", "value": "x", "refs": ["N-0001"], "confirm": True}, "unknown field confirm"),
])
def test_a_request_of_the_wrong_shape_is_a_400_and_writes_nothing(api, runtime, five_needs, body, message):
    before = written(runtime)

    response = api.post("/api/v1/needs/bulk", body)

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request" and response.get_json()["message"].startswith(message)
    assert written(runtime) == before


def test_a_ref_no_need_has_is_a_404_and_nothing_is_changed(api, runtime, five_needs):
    before = written(runtime)

    response = bulk(api, action="owner", value="Chen Jie", refs=["N-0001", "N-9999", "17"])

    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "unknown_refs": ["N-9999", "17"],
                                   "message": "no need has the ref N-9999, 17; nothing was changed"}
    assert written(runtime) == before


@pytest.mark.parametrize(("body", "fields"), [
    ({"action": "status", "value": "shipped"}, {"value": ["Unknown status shipped."]}),
    ({"action": "category", "value": "mobile"}, {"value": ["Unknown category mobile."]}),
    ({"action": "urgency", "value": ""}, {"value": ["This field is required."]}),
    ({"action": "urgency", "value": None}, {"value": ["must be a string"]}),
    ({"action": "owner", "value": 7}, {"value": ["must be a string (or null, for the owner: clears it)"]}),
    ({"action": "status", "value": "accepted", "note": "x" * 2001}, {"note": ["At most 2000 characters."]}),
])
def test_a_value_the_field_does_not_take_is_a_422_and_writes_nothing(api, runtime, five_needs, body, fields):
    before = written(runtime)

    response = api.post("/api/v1/needs/bulk", {**body, "refs": ["N-0001"]})

    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid", "message": "the change was not applied to any need",
                                   "fields": fields}
    assert written(runtime) == before


def test_an_owner_of_null_clears_it(api, runtime, five_needs):
    report = bulk(api, action="owner", value=None, refs=["N-0001"]).get_json()

    assert (report["value"], report["changed"]) == (None, 1) and owners(runtime)["N-0001"] is None


def test_bulk_needs_a_token(api, runtime, five_needs):
    before = written(runtime)

    response = api.post("/api/v1/needs/bulk", {"action": "owner", "value": "x", "refs": ["N-0001"]}, token="nope")

    assert response.status_code == 401 and written(runtime) == before
