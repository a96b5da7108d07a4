"""Outbound sync against a fake Jira Cloud driven through the real ``jira`` client: create, no-op
re-sync, minimal edits, crash safety, concurrent workers, many customers on one issue, failures."""

import threading

import pytest
from sqlalchemy import select

from plugin.need import validate_need
from sync.intake import Upload, update_need
from sync.ledger.store import Job, Need
from sync.loop import issues, outbound
from tests.factories import NOW, file_need, need_data
from tests.images import png_bytes
from tests.sync.trackers import stored, tracker_runtime


def test_create_maps_fields_links_and_attaches(site, rt):
    fake, _mock = site
    need = file_need(rt, uploads=[Upload("screen.png", png_bytes())])
    synced = stored(rt, need.ref)
    assert synced.sync_state == "synced" and synced.issue_key == "CS-1"
    assert synced.issue_url == "https://cocreate-test.atlassian.net/browse/CS-1"
    fields = fake.issues["CS-1"]["fields"]
    assert fields["summary"] == "[ACME Corp] Invoices should show the tax number"
    assert {"cocreate", "cocreate-N-0001", "category-billing", "stage-rollout"} <= set(fields["labels"])
    assert fields["priority"]["name"] == "High"
    assert fields["assignee"]["accountId"] == "acc-wang"
    assert fields["description"]["type"] == "doc"
    link = fake.remote_links["CS-1"][0]
    assert link["globalId"] == "cocreate:https://cocreate.example:need:N-0001"
    assert link["object"]["url"] == "https://cocreate.example/needs/N-0001"
    assert [a["filename"] for a in fake.attachments["CS-1"]] == ["screen.png"]
    # create + remote link + attachment
    assert [method for method, _path in fake.write_log] == ["POST", "POST", "POST"]


def test_unchanged_resync_makes_no_write_and_edit_makes_exactly_one(site, rt):
    fake, _mock = site
    need = file_need(rt)
    writes = fake.writes
    rt.queue.enqueue("sync_need", need.ref)
    assert fake.writes == writes
    update_need(rt, need.ref, validate_need(need_data(title="Tax number and address on invoices"), rt.settings,
                                            now=NOW))
    assert fake.writes == writes + 1
    assert fake.write_log[-1] == ("PUT", "/rest/api/3/issue/CS-1")
    assert fake.issues["CS-1"]["fields"]["summary"] == "[ACME Corp] Tax number and address on invoices"
    rt.queue.enqueue("sync_need", need.ref)
    assert fake.writes == writes + 1


def test_rd_changes_are_not_overwritten_when_cs_did_not_change_that_field(site, rt):
    fake, _mock = site
    need = file_need(rt)
    fake.issues["CS-1"]["fields"]["summary"] = "Renamed by R&D"
    fake.issues["CS-1"]["fields"]["labels"].append("backend")
    update_need(rt, need.ref, validate_need(need_data(remarks="Customer called again"), rt.settings, now=NOW))
    fields = fake.issues["CS-1"]["fields"]
    assert fields["summary"] == "Renamed by R&D"
    assert "backend" in fields["labels"]


def test_crash_after_create_then_retry_leaves_one_issue(site, rt, monkeypatch):
    fake, _mock = site
    real_create = type(rt.adapter().wrapped).create_issue
    crashes = []

    def create_then_crash(adapter, spec):
        state = real_create(adapter, spec)
        if not crashes:
            crashes.append(state.key)
            raise SystemExit("worker killed after the create call")  # nothing after this line ran
        return state

    monkeypatch.setattr(type(rt.adapter().wrapped), "create_issue", create_then_crash)
    monkeypatch.setattr(issues, "SEARCH_LAG", __import__("datetime").timedelta(0))
    with pytest.raises(SystemExit):
        file_need(rt)
    need = stored(rt, "N-0001")
    assert need.issue_key is None and need.sync_intent_at is not None
    with rt.Session.begin() as session:  # the killed worker's lease runs out
        session.get(Need, need.id).sync_lease_until = None
    rt.queue.enqueue("sync_need", "N-0001")
    assert stored(rt, "N-0001").issue_key == "CS-1"
    assert list(fake.issues) == ["CS-1"]


def test_retry_soon_after_a_crash_waits_for_the_search_index(site, rt, monkeypatch):
    """A marker search right after a create may not see it yet: the retry waits instead of creating."""
    fake, _mock = site
    need = file_need(rt)
    with rt.Session.begin() as session:
        row = session.get(Need, need.id)
        row.issue_key, row.sync_intent_at = None, outbound.utcnow()
    fake.issues["CS-1"]["fields"]["labels"].remove("cocreate-N-0001")  # as if not indexed yet
    job_id = rt.queue.enqueue("sync_need", need.ref)
    with rt.Session() as session:
        assert "search" in session.get(Job, job_id).last_error
    assert list(fake.issues) == ["CS-1"]


def test_two_workers_at_once_make_one_issue(site, rt, monkeypatch):
    """The first worker is held inside the create call until the second has tried: the second must wait."""
    fake, _mock = site
    need = file_need(rt)
    with rt.Session.begin() as session:  # back to "never synced"
        row = session.get(Need, need.id)
        row.issue_key = row.sync_intent_at = None
    fake.issues.clear()
    inside_create, second_tried = threading.Event(), threading.Event()
    real_create = type(rt.adapter().wrapped).create_issue
    outcomes = []

    def slow_create(adapter, spec):
        inside_create.set()
        assert second_tried.wait(10), "the second worker never tried"
        return real_create(adapter, spec)

    def run(first: bool):
        if not first:
            assert inside_create.wait(10)
        try:
            outbound.sync_need_to_tracker(rt, need.ref)
            outcomes.append("synced")
        except issues.RetryLater as exc:
            outcomes.append(str(exc))
        finally:
            if not first:
                second_tried.set()

    monkeypatch.setattr(type(rt.adapter().wrapped), "create_issue", slow_create)
    threads = [threading.Thread(target=run, args=(first,)) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == ["N-0001 is being synced by another worker", "synced"]
    assert len(fake.issues) == 1
    outbound.sync_need_to_tracker(rt, need.ref)  # the second worker's retry: nothing more is created
    assert len(fake.issues) == 1


def test_needs_linked_to_one_issue_list_every_customer(site, rt):
    fake, _mock = site
    first = file_need(rt)
    second = file_need(rt, customer="globex", urgency="critical", linked_to=first.ref)
    assert stored(rt, second.ref).issue_key == "CS-1"
    assert len(fake.issues) == 1
    fields = fake.issues["CS-1"]["fields"]
    assert fields["priority"]["name"] == "Highest"  # the most urgent customer decides
    text = str(fields["description"])
    assert "Customers asking (2)" in text and "Globex · Critical · N-0002" in text


def test_link_to_an_existing_issue_by_url(site, rt):
    fake, _mock = site
    key = fake.add_issue("CS", "Existing R&D issue")
    need = file_need(rt, linked_to=f"https://cocreate-test.atlassian.net/browse/{key}")
    assert stored(rt, need.ref).issue_key == key
    assert fake.issues[key]["fields"]["summary"] == "Existing R&D issue"
    assert fake.remote_links[key][0]["object"]["url"] == "https://cocreate.example/needs/N-0001"


def test_invalid_field_fails_with_trackers_message_and_is_retryable(site, rt):
    fake, _mock = site
    fake.fail("POST", r"^/issue$", 400, {"errorMessages": [], "errors": {"priority": "Priority name 'High' is not valid"}})
    need = file_need(rt)
    failed = stored(rt, need.ref)
    assert failed.sync_state == "failed" and "Priority name 'High' is not valid" in failed.sync_error
    with rt.Session() as session:
        job = session.scalars(select(Job)).one()
        assert job.state == "failed" and "priority" in job.last_error
    assert rt.queue.retry(job.id)
    assert stored(rt, need.ref).issue_key == "CS-1"


def test_linked_reference_that_is_not_an_issue_is_refused(site, rt):
    need = file_need(rt, linked_to="not an issue")
    failed = stored(rt, need.ref)
    assert failed.sync_state == "failed" and "is not an issue key or URL" in failed.sync_error


def test_bulk_sync_creates_fifty_per_call_and_records_every_issue(site, tmp_path):
    fake, _mock = site
    runtime = tracker_runtime("jira", tmp_path / "bulk", immediate=False)  # jobs wait in the queue file
    refs = [file_need(runtime, title=f"Need {n}").ref for n in range(60)]
    outcomes = outbound.sync_needs_bulk(runtime, refs)
    assert set(outcomes.values()) == {"synced"}
    bulk_calls = [path for method, path in fake.write_log if path.endswith("/issue/bulk")]
    assert len(bulk_calls) == 2  # 50 + 10
    assert len(fake.issues) == 60
    with runtime.Session() as session:
        keys = session.scalars(select(Need.issue_key).order_by(Need.id)).all()
    assert keys == [f"CS-{n}" for n in range(1, 61)]
    writes = fake.writes
    assert set(outbound.sync_needs_bulk(runtime, refs).values()) == {"synced"}
    assert fake.writes == writes  # nothing changed: nothing written
    runtime.engine.dispose()


def test_link_to_an_existing_issue_typed_in_lower_case(site, rt):
    fake, _mock = site
    key = fake.add_issue("CS", "Existing R&D issue")
    need = file_need(rt, linked_to=f" {key.lower()} ")
    assert stored(rt, need.ref).issue_key == key and stored(rt, need.ref).sync_state == "synced"


def test_needs_filed_before_a_tracker_is_configured_are_synced_in_chunks_once_it_is(site, tmp_path, monkeypatch):
    fake, _mock = site
    home = tmp_path / "later"
    before = tracker_runtime("jira", home, tracker=False)
    refs = [file_need(before, title=f"Need {n}").ref for n in range(5)]
    with before.Session() as session:
        assert set(session.scalars(select(Need.sync_state))) == {"waiting_for_tracker"}
        assert session.scalars(select(Job)).all() == []  # nothing queued that could only record "waiting"
    assert outbound.queue_resume(before) is False
    before.engine.dispose()

    monkeypatch.setattr(outbound, "RESUME_CHUNK", 2)
    runtime = tracker_runtime("jira", home)  # the same data, now with Jira configured
    with runtime.Session.begin() as session:  # and one need whose job was lost with the process
        session.scalars(select(Need).where(Need.ref == refs[0])).one().sync_state = "pending"
    assert outbound.queue_resume(runtime) is True
    assert [stored(runtime, ref).issue_key for ref in refs] == [f"CS-{n}" for n in range(1, 6)]
    bulk_calls = [path for method, path in fake.write_log if path.endswith("/issue/bulk")]
    assert len(bulk_calls) == 3  # one bulk create per chunk: 2 + 2 + 1
    with runtime.Session() as session:
        resumed = session.scalars(select(Job).where(Job.name == "resume_syncs").order_by(Job.created_at)).all()
    assert [(job.args, job.state) for job in resumed] == [([0], "done"), ([2], "done"), ([4], "done")]
    assert outbound.queue_resume(runtime) is False  # nothing waits any more: no job
    runtime.engine.dispose()
