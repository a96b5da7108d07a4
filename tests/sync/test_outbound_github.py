"""Outbound sync against a fake GitHub driven through the real PyGithub client: body section kept in
place, labels for urgency, signed screenshot links, no-op re-sync, crash safety."""

import pytest
import requests
from sqlalchemy import select

from plugin.need import validate_need
from sync.intake import Upload, update_need
from sync.ledger.store import Need
from sync.loop import issues, mapping
from tests.factories import NOW, file_need, need_data
from tests.github.fake_github import checked_site
from tests.images import png_bytes
from tests.sync.trackers import stored, tracker_runtime
from webhooks.app import create_app


@pytest.fixture
def site():
    with checked_site() as fake:
        yield fake


@pytest.fixture
def rt(tmp_path):
    runtime = tracker_runtime("github", tmp_path)
    yield runtime
    runtime.engine.dispose()


def test_create_with_labels_assignee_and_section(site, rt):
    need = file_need(rt)
    synced = stored(rt, need.ref)
    assert synced.issue_key == "acme/billing#1" and synced.sync_state == "synced"
    issue = site.issue("acme/billing#1")
    assert {label["name"] for label in issue["labels"]} >= {"cocreate-N-0001", "urgency: high", "cocreate"}
    assert [user["login"] for user in issue["assignees"]] == ["wangwei"]
    assert issue["body"].startswith(mapping.GITHUB_SECTION_START)
    assert site.writes == 1


def test_resync_is_free_and_an_edit_keeps_rd_text(site, rt):
    need = file_need(rt)
    rt.queue.enqueue("sync_need", need.ref)
    assert site.writes == 1
    site.edit("acme/billing#1", body="R&D analysis: needs a schema change.\n\n" + site.issue("acme/billing#1")["body"])
    writes = site.writes
    update_need(rt, need.ref, validate_need(need_data(urgency="critical", remarks="Blocking their audit"),
                                            rt.settings, now=NOW))
    assert site.writes == writes + 1  # one PATCH with body and labels together
    issue = site.issue("acme/billing#1")
    assert issue["body"].startswith("R&D analysis: needs a schema change.")
    assert "Blocking their audit" in issue["body"]
    labels = {label["name"] for label in issue["labels"]}
    assert "urgency: critical" in labels and "urgency: high" not in labels


def test_screenshots_are_signed_links_served_without_login(site, rt):
    need = file_need(rt, uploads=[Upload("screen.png", png_bytes())])
    body = site.issue("acme/billing#1")["body"]
    url = body.split("(<https://cocreate.example/files/")[1].split(">)")[0]
    client = create_app({"TESTING": True}, runtime=rt).test_client()
    answer = client.get(f"/files/{url}")
    assert answer.status_code == 200 and answer.data == png_bytes()
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/files/{url[:-2]}xx").status_code == 404
    with rt.Session() as session:  # GitHub has no attachment API: nothing was uploaded to it
        assert session.scalars(select(Need).where(Need.ref == need.ref)).one().attachments[0].tracker_id is None


def test_crash_after_create_finds_the_issue_by_marker(site, rt, monkeypatch):
    import datetime as dt

    real_create = type(rt.adapter().wrapped).create_issue
    crashed = []

    def create_then_crash(adapter, spec):
        state = real_create(adapter, spec)
        if not crashed:
            crashed.append(state.key)
            raise requests.ConnectionError("connection reset after the issue was created")
        return state

    monkeypatch.setattr(type(rt.adapter().wrapped), "create_issue", create_then_crash)
    monkeypatch.setattr(issues, "SEARCH_LAG", dt.timedelta(0))
    need = file_need(rt)
    assert stored(rt, need.ref).issue_key is None
    rt.queue.enqueue("sync_need", need.ref)
    assert stored(rt, need.ref).issue_key == "acme/billing#1"
    everything = rt.adapter().updated_since(["acme/billing"], dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert [state.key for state in everything] == ["acme/billing#1"]


def test_a_link_typed_in_another_case_joins_the_issue_under_its_own_name(site, rt):
    # GitHub answers "ACME/Billing#1" with the issue of acme/billing: the second need joins the first need's
    # issue, stored under GitHub's own spelling, and the issue lists both customers.
    first = file_need(rt)
    second = file_need(rt, customer="globex", urgency="critical", linked_to="ACME/Billing#1")
    assert stored(rt, second.ref).issue_key == "acme/billing#1" == stored(rt, first.ref).issue_key
    body = site.issue("acme/billing#1")["body"]
    assert "Customers asking \\(2\\)" in body  # Markdown-escaped
    assert "ACME Corp · High · N\\-0001" in body and "Globex · Critical · N\\-0002" in body
