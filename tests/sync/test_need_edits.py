"""An edit of a need reaches the tracker only when it changes what the issue shows, and writes only that; two
saves from one version never both win. Against the fake Jira Cloud through the real ``jira`` client."""

from __future__ import annotations

import io
import json
import threading

import pytest
from sqlalchemy import func, select

from plugin.need import validate_need
from sync.intake import NeedConflict, NeedUpdate, update_need
from sync.ledger import accounts
from sync.ledger.store import Job, NeedEdit
from tests.factories import NOW, file_need, need_data
from tests.images import png_bytes
from tests.sync.trackers import stored
from tests.web.pages import log_in
from webhooks.app import create_app


@pytest.fixture
def browser(rt):
    """A CS user's test client on the Jira runtime (CSRF off), logged in."""
    with rt.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=rt).test_client()
    log_in(client)
    return client


def page_form(**overrides) -> dict:
    """The edit form as the browser sends it for the factory's need at version 1."""
    data = need_data(**{"reported_at": "2026-11-20T09:30", "linked_to": "", "reporter_channel": "",
                        "version": "1", **overrides})
    return {key: "" if value is None else value for key, value in data.items()}


def sync_jobs(rt) -> int:
    with rt.Session() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.name == "sync_need"))


def issue_puts(mock) -> list[dict]:
    return [json.loads(call.request.body) for call in mock.calls
            if call.request.method == "PUT" and call.request.url.endswith("/rest/api/3/issue/CS-1")]


def test_an_urgency_edit_on_the_page_writes_the_priority_and_the_body_that_shows_it(site, rt, browser):
    fake, mock = site
    file_need(rt)
    writes, jobs = fake.writes, sync_jobs(rt)

    response = browser.post("/needs/N-0001/edit", data=page_form(urgency="critical"))

    assert response.status_code == 302
    assert sync_jobs(rt) == jobs + 1
    assert fake.writes == writes + 1
    assert [set(body["fields"]) for body in issue_puts(mock)] == [{"priority", "description"}]  # in one PUT
    assert fake.issues["CS-1"]["fields"]["priority"]["name"] == "Highest"
    assert stored(rt, "N-0001").sync_state == "synced"


def test_an_edit_of_what_the_issue_does_not_show_queues_no_sync(site, rt, browser):
    fake, _mock = site
    file_need(rt)
    writes, jobs = fake.writes, sync_jobs(rt)

    browser.post("/needs/N-0001/edit", data=page_form(reporter_email="li@acme.example", reporter_channel="WeCom"))

    need = stored(rt, "N-0001")
    assert (need.reporter_email, need.reporter_channel, need.version) == ("li@acme.example", "WeCom", 2)
    assert (sync_jobs(rt), fake.writes, need.sync_state) == (jobs, writes, "synced")


def test_a_screenshot_added_on_the_page_is_attached_to_the_issue_alone(site, rt, browser):
    fake, _mock = site
    file_need(rt)
    writes = fake.writes

    browser.post("/needs/N-0001/edit", content_type="multipart/form-data",
                 data={**page_form(), "screenshots": [(io.BytesIO(png_bytes(6, 4)), "later.png")]})

    assert [attachment["filename"] for attachment in fake.attachments["CS-1"]] == ["later.png"]
    assert fake.write_log[writes:] == [("POST", "/rest/api/3/issue/CS-1/attachments")]


def test_a_title_edit_writes_the_summary_only(site, rt):
    fake, mock = site
    file_need(rt)

    update_need(rt, "N-0001", validate_need(need_data(title="Tax number and address"), rt.settings, now=NOW),
                "cs1", version=1)

    assert [set(body["fields"]) for body in issue_puts(mock)] == [{"summary"}]
    assert fake.issues["CS-1"]["fields"]["summary"] == "[ACME Corp] Tax number and address"


def test_of_two_saves_from_one_version_at_once_exactly_one_wins(runtime):
    file_need(runtime)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(title: str) -> None:
        need_input = validate_need(need_data(title=title), runtime.settings, now=NOW)
        barrier.wait()
        try:
            outcomes[title] = update_need(runtime, "N-0001", need_input, title, version=1)
        except NeedConflict as conflict:
            outcomes[title] = conflict

    threads = [threading.Thread(target=save, args=(title,)) for title in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    kinds = sorted(type(outcome).__name__ for outcome in outcomes.values())
    assert kinds == [NeedConflict.__name__, NeedUpdate.__name__]
    winner = next(title for title, outcome in outcomes.items() if isinstance(outcome, NeedUpdate))
    loser = outcomes[({"first", "second"} - {winner}).pop()]
    assert [(change.field, change.new, change.actor) for change in loser.edits] == [("title", winner, winner)]
    with runtime.Session() as session:
        assert session.scalars(select(NeedEdit.new)).all() == [winner]
    assert stored(runtime, "N-0001").title == winner
