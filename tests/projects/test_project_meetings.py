"""The regular meeting: "new minutes" for a project starts from the last meeting (its attendees, its open
questions) and the project's unfinished action items, carried on: linked to the originals, keeping their issue,
never a second issue; checks of carried rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from sync.ledger.projects import add_project
from sync.ledger.store import ActionItem, MeetingMinutes
from sync.projects.meetings import seed, unfinished
from tests.table.helpers import TABLE_YAML


@pytest.fixture
def settings():
    """A Jira tracker configured (issues can be asked for); no test here reaches it."""
    from plugin.loading import parse_settings

    return parse_settings(TABLE_YAML, "table.yaml")

FIRST = {"topic": "Weekly 1", "customer": "acme", "date": "2026-11-20", "project": "erp",
         "attendees": "Wang Wei\nLi Na", "open_questions": "Which branches go first?",
         "action_items.1.text": "Send the branch list", "action_items.1.owner": "Wang Wei",
         "action_items.1.due_date": "2027-01-10",
         "action_items.2.text": "Book the training room", "action_items.2.owner": "Wang Wei"}


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    return match.group(1).strip() if match else ""


def items(runtime):
    with runtime.Session() as session:
        return session.scalars(select(ActionItem).order_by(ActionItem.id)).all()


def setup_first_meeting(cs_client, runtime, done_second=True):
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout", "cadence": "weekly"})
    assert cs_client.post("/minutes/new", data=FIRST).status_code == 302
    first, second = items(runtime)
    with runtime.Session.begin() as session:  # the first item got an issue; the second was done
        item = session.get(ActionItem, first.id)
        item.issue_key, item.issue_url, item.sync_state = "CS-7", "https://jira.example/browse/CS-7", "synced"
        if done_second:
            from sync.ledger.store import utcnow

            session.get(ActionItem, second.id).done_at = utcnow()
    return first, second


def test_new_minutes_start_from_the_last_meeting(cs_client, runtime):
    first, _second = setup_first_meeting(cs_client, runtime)
    page = cs_client.get("/minutes/new?project=erp&customer=acme").get_data(as_text=True)
    assert textarea(page, "open_questions") == "Which branches go first?"
    assert "Wang Wei" in textarea(page, "attendees") and "Li Na" in textarea(page, "attendees")
    assert field(page, "action_items.1.text") == "Send the branch list"
    assert field(page, "action_items.1.owner") == "Wang Wei"
    assert field(page, "action_items.1.carried") == str(first.id)
    assert f"carried on from A-{first.id}" in page and "CS-7" in page
    assert field(page, "action_items.2.text") == ""  # the done item is not carried
    assert 'value="erp" selected' in page


def test_a_carried_item_keeps_its_issue_and_is_not_carried_twice(cs_client, runtime):
    first, _second = setup_first_meeting(cs_client, runtime)
    saved = cs_client.post("/minutes/new", data={
        "topic": "Weekly 2", "customer": "acme", "date": "2026-11-27", "project": "erp",
        "open_questions": "Which branches go first?", "action_items.1.text": "Send the branch list",
        "action_items.1.owner": "Wang Wei", "action_items.1.due_date": "2027-01-10",
        "action_items.1.carried": str(first.id)})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    carried = items(runtime)[-1]
    assert carried.carried_from_id == first.id and carried.issue_key == "CS-7" and carried.sync_state == "synced"
    with runtime.Session() as session:
        open_now = unfinished(session, session.scalars(select(MeetingMinutes.project_id)).first())
    assert [item.id for item in open_now] == [carried.id]  # the original is carried on, not open twice
    page = cs_client.get("/projects/erp").get_data(as_text=True)
    section = re.search(r'id="open-action-items">(.*?)</section>', page, re.DOTALL).group(1)
    assert section.count("Send the branch list") == 1
    # The next meeting carries the newer row only.
    again = cs_client.get("/minutes/new?project=erp&customer=acme").get_data(as_text=True)
    assert field(again, "action_items.1.carried") == str(carried.id) and field(again, "action_items.2.text") == ""


def test_asking_for_issues_creates_none_for_a_carried_item(cs_client, runtime):
    from sync.minutes import action_items

    first, _second = setup_first_meeting(cs_client, runtime)
    cs_client.post("/minutes/new", data={"topic": "Weekly 2", "customer": "acme", "date": "2026-11-27",
                                         "project": "erp", "action_items.1.text": "Send the branch list",
                                         "action_items.1.owner": "Wang Wei", "action_items.1.carried": str(first.id)})
    carried = items(runtime)[-1]
    assert runtime.settings.tracker is not None
    assert action_items.request_issues(runtime, carried.minutes_id) == []  # no job: the tracker is not called
    with runtime.Session() as session:
        assert session.get(ActionItem, carried.id).issue_key == "CS-7"


def test_carried_rows_are_checked(cs_client, runtime):
    first, second = setup_first_meeting(cs_client, runtime)
    base = {"topic": "Weekly 2", "customer": "acme", "date": "2026-11-27", "project": "erp",
            "action_items.1.text": "x", "action_items.1.owner": "Wang Wei"}
    done = cs_client.post("/minutes/new", data=base | {"action_items.1.carried": str(second.id)})
    assert done.status_code == 400 and f"A-{second.id} is done already" in done.get_data(as_text=True)
    unknown = cs_client.post("/minutes/new", data=base | {"action_items.1.carried": "9999"})
    assert unknown.status_code == 400 and "is not one of this customer" in unknown.get_data(as_text=True)
    twice = cs_client.post("/minutes/new", data=base | {
        "action_items.1.carried": str(first.id), "action_items.2.text": "y", "action_items.2.owner": "Wang Wei",
        "action_items.2.carried": str(first.id)})
    assert twice.status_code == 400 and "carried on twice" in twice.get_data(as_text=True)
    past = cs_client.post("/minutes/new", data=base | {"action_items.1.carried": str(first.id),
                                                       "action_items.1.due_date": "2020-01-01"})
    assert past.status_code == 400 and "2020-01-01 is in the past." in past.get_data(as_text=True)
    assert len(items(runtime)) == 2  # nothing was saved


def test_a_project_with_no_meeting_yet_starts_empty(runtime):
    project = add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout"})
    with runtime.Session() as session:
        found = seed(session, project.id)
    assert found.last is None and found.values == {} and found.rows == []


def test_the_migration_keeps_every_action_item_carried_from_nothing(tmp_path):
    import datetime as dt

    import sqlalchemy as sa
    from alembic import command

    from sync.ledger.store import make_engine
    from tests.projects.test_project_store import _alembic

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    now = dt.datetime(2026, 1, 1)
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0020_projects")
        connection.execute(sa.text(
            "INSERT INTO minutes (id, customer, topic, meeting_date, place, attendees, key_points, decisions, "
            "open_questions, visibility, version, created_at, updated_at) VALUES (1, 'acme', 'Old', '2026-01-01', "
            "'', '[]', '', '', '', 'internal', 1, :now, :now)"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO action_items (minutes_id, position, text, owner, issue_key, sync_state, done_by_tracker, "
            "created_at) "
            "VALUES (1, 0, 'Send the list', 'Wang Wei', 'CS-7', 'synced', 0, :now)"), {"now": now})
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0022_project_meetings")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT text, issue_key, carried_from_id FROM action_items")).all() == [
            ("Send the list", "CS-7", None)]
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), "0020_projects")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT text, issue_key FROM action_items")).all() == [
            ("Send the list", "CS-7")]
        assert "carried_from_id" not in {c["name"] for c in sa.inspect(connection).get_columns("action_items")}
    engine.dispose()


def test_the_project_page_says_when_the_next_meeting_is_due(cs_client, runtime):
    setup_first_meeting(cs_client, runtime)  # weekly; the last meeting on 2026-11-20, long ago
    page = cs_client.get("/projects/erp").get_data(as_text=True)
    assert re.search(r'id="last-meeting"><a href="/minutes/\d+">2026-11-20 Weekly 1</a>', page)
    assert 'id="next-meeting" class="overdue">2026-11-27 (overdue)' in page
    assert 'data-kind="meeting_overdue"' in page and "although the cadence is weekly." in page
    listing = cs_client.get("/projects").get_data(as_text=True)
    assert re.search(r'class="risk-count">[1-9]', listing)
