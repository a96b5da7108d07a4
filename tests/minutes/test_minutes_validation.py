"""Bad minutes are refused with a message naming the field, and nothing at all is written."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.minutes.records import InvalidMinutes, validate_minutes
from tests.factories import file_need
from tests.minutes.helpers import (
    TODAY,
    file_minutes,
    minutes_data,
    row_counts,
)
from tests.web.pages import field_errors


def errors_of(runtime, existing=None, **overrides) -> dict[str, list[str]]:
    with runtime.Session() as session, pytest.raises(InvalidMinutes) as caught:
        validate_minutes(minutes_data(**overrides), runtime.settings, session, today=TODAY, existing=existing)
    return caught.value.by_field()


def test_bad_action_items_name_the_row_and_field(runtime):
    errors = errors_of(runtime, action_items=[
        {"text": "Send a sample", "owner": "Wang Wei", "due_date": "2026-11-01"},
        {"text": "Call back", "owner": "Nobody Known", "due_date": "31/12/2026"},
        {"text": "", "owner": "Wang Wei", "due_date": ""},
        {"text": "Check", "owner": "", "due_date": "2026-13-01", "priority": "high"},
    ])
    assert errors == {
        "action_items.1.due_date": ["2026-11-01 is in the past."],
        "action_items.2.due_date": ["31/12/2026 is not a date; write it as YYYY-MM-DD."],
        "action_items.3.text": ["This field is required."],
        "action_items.4.priority": ["Unknown field."],
        "action_items.4.owner": ["This field is required."],
        "action_items.4.due_date": ["2026-13-01 is not a date; write it as YYYY-MM-DD."],
    }


def test_bad_meeting_fields_and_needs_are_named(runtime):
    file_need(runtime)
    file_need(runtime, customer="globex")
    errors = errors_of(runtime, topic="", date="20.11.2026", time="2pm", visibility="public",
                       external_url="confluence/page", needs="N-0001, N-0002, N-0099, X-1, " + "R" * 33,
                       room="3")
    assert errors == {
        "room": ["Unknown field."],
        "topic": ["This field is required."],
        "date": ["20.11.2026 is not a date; write it as YYYY-MM-DD."],
        "time": ["2pm is not a time; write it as HH:MM."],
        "visibility": ["public is not a visibility; use internal or shared."],
        "external_url": ["Give an address starting with http:// or https://."],
        "needs": [f"{'R' * 33} is not a need ref such as N-0042.", "N-0002 is a need of globex, not of acme.",
                  "There is no need N-0099.", "There is no need X-1."],
    }


def test_nothing_is_half_written(runtime):
    file_need(runtime)
    before = row_counts(runtime)
    with pytest.raises(InvalidMinutes):
        file_minutes(runtime, needs="N-0001", action_items=[
            {"text": "Fine", "owner": "Wang Wei", "due_date": "2026-12-01"},
            {"text": "Late", "owner": "Wang Wei", "due_date": "2020-01-01"},
        ])
    assert row_counts(runtime) == before


def test_the_form_shows_each_message_by_its_field_and_keeps_the_input(runtime, cs_client):
    file_need(runtime)
    before = row_counts(runtime)
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    response = cs_client.post("/minutes/new", data={
        "customer": "acme", "topic": "Kick-off", "date": "2026-11-20", "needs": "N-0001",
        "action_items.1.text": "Send a sample", "action_items.1.owner": "Wang Wei", "action_items.1.due_date": past,
        "action_items.2.text": "Call back", "action_items.2.owner": "Ghost", "action_items.2.due_date": "soon",
    })
    assert response.status_code == 400
    html = response.text
    assert "Nothing was saved." in html
    assert field_errors(html, "action_items-1-due_date") == [f"{past} is in the past."]
    assert field_errors(html, "action_items-2-owner") == []
    assert field_errors(html, "action_items-2-due_date") == ["soon is not a date; write it as YYYY-MM-DD."]
    assert 'value="Kick-off"' in html and 'value="Call back"' in html
    assert row_counts(runtime) == before


def test_the_form_translates_the_messages(runtime, cs_client):
    response = cs_client.post("/minutes/new?lang=zh_Hant", data={
        "customer": "acme", "topic": "", "date": "2026-11-20",
        "action_items.1.text": "寄樣本", "action_items.1.owner": "無名氏", "action_items.1.due_date": ""})
    assert field_errors(response.text, "topic") == ["此欄位為必填。"]


def test_an_existing_item_keeps_its_past_due_date_but_cannot_get_a_new_one(runtime):
    minutes = file_minutes(runtime, action_items=[{"text": "Send", "owner": "Wang Wei", "due_date": "2026-11-25"}])
    later = TODAY + dt.timedelta(days=10)  # the due date has passed since
    item_id = minutes.action_items[0].id
    with runtime.Session() as session:
        from sync.minutes.records import load_minutes

        existing = load_minutes(session, minutes.id)
        validate_minutes(minutes_data(action_items=[{"id": item_id, "text": "Send it", "owner": "Wang Wei",
                                                     "due_date": "2026-11-25"}]),
                         runtime.settings, session, today=later, existing=existing)
        with pytest.raises(InvalidMinutes) as caught:
            validate_minutes(minutes_data(action_items=[{"id": item_id, "text": "Send", "owner": "Wang Wei",
                                                         "due_date": "2026-11-26"}]),
                             runtime.settings, session, today=later, existing=existing)
    assert caught.value.by_field() == {"action_items.1.due_date": ["2026-11-26 is in the past."]}


def test_an_action_item_with_an_issue_cannot_be_dropped(runtime):
    from sync.ledger.store import ActionItem
    from sync.minutes.records import load_minutes

    minutes = file_minutes(runtime, action_items=[{"text": "Send", "owner": "Wang Wei", "due_date": ""}])
    with runtime.Session.begin() as session:
        session.get(ActionItem, minutes.action_items[0].id).issue_key = "CS-7"
    with runtime.Session() as session:
        existing = load_minutes(session, minutes.id)
    assert errors_of(runtime, existing=existing, action_items=[]) == {
        "action_items": ["Action item A-1 already has issue CS-7 and cannot be removed."]}
    assert errors_of(runtime, existing=existing, action_items=[{"id": "999", "text": "x", "owner": "Wang Wei"}]) == {
        "action_items.1.id": ["This action item is not on these minutes."],
        "action_items": ["Action item A-1 already has issue CS-7 and cannot be removed."]}
