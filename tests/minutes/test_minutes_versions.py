"""Every save of minutes is a version; an edit keeps the earlier text readable in the history."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from sync.ledger.store import MinutesVersion
from sync.minutes.records import MinutesConflict, as_input, history, load_minutes, update_minutes
from tests.minutes.helpers import file_minutes, row_counts


def edit(runtime, minutes_id: int, version: int, **changes):
    with runtime.Session() as session:
        data = as_input(load_minutes(session, minutes_id))
    return update_minutes(runtime, minutes_id, dataclasses.replace(data, **changes), "cs2", version)


def test_an_edit_makes_a_version_and_keeps_the_earlier_text(runtime):
    minutes = file_minutes(runtime, action_items=[{"text": "Send a sample", "owner": "Wang Wei"}])
    assert minutes.version == 1
    edit(runtime, minutes.id, 1, decisions="Show the tax number and the address.")

    with runtime.Session() as session:
        stored = load_minutes(session, minutes.id)
        versions = session.scalars(select(MinutesVersion).order_by(MinutesVersion.version)).all()
    assert stored.version == 2 and stored.updated_by == "cs2"
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].content["decisions"] == "Show the tax number on every PDF invoice."
    assert versions[0].content["action_items"] == [{"text": "Send a sample", "owner": "Wang Wei", "due_date": None}]
    latest, first = history(stored)
    assert (latest.version, latest.edited_by, first.version, first.changes) == (2, "cs2", 1, ())
    assert [(c.field, c.before, c.after) for c in latest.changes] == [
        ("decisions", "Show the tax number on every PDF invoice.", "Show the tax number and the address.")]


def test_saving_without_changes_makes_no_version(runtime):
    minutes = file_minutes(runtime)
    before = row_counts(runtime)
    edit(runtime, minutes.id, 1)
    assert row_counts(runtime) == before


def test_a_stale_edit_is_refused_and_writes_nothing(runtime):
    minutes = file_minutes(runtime)
    edit(runtime, minutes.id, 1, topic="Second topic")
    before = row_counts(runtime)
    with pytest.raises(MinutesConflict, match="version 2, not 1"):
        edit(runtime, minutes.id, 1, topic="Lost update")
    assert row_counts(runtime) == before
    with runtime.Session() as session:
        assert load_minutes(session, minutes.id).topic == "Second topic"


def test_the_page_shows_the_history_and_the_edit_form_saves_a_version(runtime, cs_client):
    minutes = file_minutes(runtime, action_items=[{"text": "Send a sample", "owner": "Wang Wei"}])
    form = cs_client.get(f"/minutes/{minutes.id}/edit").text
    assert 'name="version" value="1"' in form and 'name="action_items.1.id" value="1"' in form
    response = cs_client.post(f"/minutes/{minutes.id}/edit", data={
        "version": "1", "customer": "acme", "topic": "Invoice workshop", "date": "2026-11-20", "time": "14:00",
        "place": "ACME HQ, room 3", "attendees": "Li Na\nWang Wei", "visibility": "internal",
        "key_points": "Finance files every invoice by tax number.", "decisions": "Tax number and address.",
        "open_questions": "Which tax number format for branches?",
        "action_items.1.id": "1", "action_items.1.text": "Send a sample invoice", "action_items.1.owner": "Wang Wei",
    })
    assert response.status_code == 302
    html = cs_client.get(f"/minutes/{minutes.id}").text
    assert "Version 2" in html and "Version 1" in html
    assert '<div class="text before" aria-label="Before">Show the tax number on every PDF invoice.</div>' in html
    assert '<div class="text after" aria-label="After">Tax number and address.</div>' in html
    assert "Send a sample · Wang Wei" in html and "Send a sample invoice · Wang Wei" in html

    stale = cs_client.post(f"/minutes/{minutes.id}/edit", data={
        "version": "1", "customer": "acme", "topic": "Overwritten?", "date": "2026-11-20"})
    assert stale.status_code == 409
    assert "Someone else saved these minutes (version 2)" in stale.text
