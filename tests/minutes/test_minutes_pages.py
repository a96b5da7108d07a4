"""The minutes list and page, the need's page section, and what the customer is shown (shared only)."""

from __future__ import annotations

import dataclasses

from flask import render_template_string
from sqlalchemy import select

from sync.ledger.store import Need
from sync.minutes.records import SharedMinutes, shared_minutes_for_customer
from tests.factories import file_need
from tests.minutes.helpers import file_minutes


def test_only_shared_minutes_reach_the_customer(runtime):
    file_need(runtime)
    file_need(runtime, customer="globex")
    file_minutes(runtime, topic="Shared review", visibility="shared", needs="N-0001", action_items=[
        {"text": "Send a sample", "owner": "Wang Wei", "due_date": "2026-12-01"}])
    file_minutes(runtime, topic="Internal pricing talk", visibility="internal", needs="N-0001")
    file_minutes(runtime, customer="globex", topic="Globex review", visibility="shared", needs="N-0002")
    with runtime.Session.begin() as session:
        session.scalars(select(Need).where(Need.ref == "N-0001")).one().status = "scheduled"

    with runtime.Session() as session:
        shared = shared_minutes_for_customer(session, "acme")
    assert [item.topic for item in shared] == ["Shared review"]
    assert [(need.ref, need.status) for need in shared[0].needs] == [("N-0001", "scheduled")]  # live status
    assert [(a.text, a.owner, a.due_date.isoformat()) for a in shared[0].action_items] == [
        ("Send a sample", "Wang Wei", "2026-12-01")]
    # What is internal is not even in the record handed to the status page.
    fields = {field.name for field in dataclasses.fields(SharedMinutes)}
    assert not fields & {"issue_key", "issue_url", "created_by", "updated_by", "versions", "visibility"}
    with runtime.Session() as session:
        assert [item.topic for item in shared_minutes_for_customer(session, "globex")] == ["Globex review"]
        assert shared_minutes_for_customer(session, "nobody") == []


def test_the_customer_view_shows_shared_minutes_read_only(runtime, cs_client):
    file_need(runtime)
    file_minutes(runtime, topic="Shared review", visibility="shared", needs="N-0001")
    file_minutes(runtime, topic="Internal pricing talk", visibility="internal")
    html = cs_client.get("/minutes/customer/acme").text
    assert "Minutes as ACME Corp sees them" in html
    assert "Shared review" in html and "Internal pricing talk" not in html
    assert "/minutes/1/edit" not in html and "<form" not in html.split('class="customer-view"')[1]
    assert ">Received</span>" in html


def test_the_page_lists_needs_with_live_status_and_items(runtime, cs_client):
    file_need(runtime)
    minutes = file_minutes(runtime, needs="N-0001", visibility="shared", action_items=[
        {"text": "Send a sample", "owner": "Wang Wei", "due_date": "2026-12-01"}])
    with runtime.Session.begin() as session:
        session.scalars(select(Need)).one().status = "in_progress"
    html = cs_client.get(f"/minutes/{minutes.id}").text
    assert '<a href="/needs/N-0001">N-0001</a>' in html and ">In progress</span>" in html
    assert "Send a sample" in html and "2026-12-01" in html and "Shared with the customer" in html
    assert 'href="/minutes/customer/acme#minutes-1"' in html
    assert cs_client.get("/minutes/99").status_code == 404


def test_the_list_filters_by_customer_and_date(runtime, cs_client):
    file_minutes(runtime, topic="Acme November", date="2026-11-20")
    file_minutes(runtime, topic="Acme October", date="2026-10-02")
    file_minutes(runtime, topic="Globex November", customer="globex", date="2026-11-21")
    html = cs_client.get("/minutes").text
    assert html.index("Globex November") < html.index("Acme November") < html.index("Acme October")
    assert "3 meetings" in html
    html = cs_client.get("/minutes?customer=acme&from=2026-11-01").text
    assert "Acme November" in html and "Acme October" not in html and "Globex November" not in html
    html = cs_client.get("/minutes?to=2026-10-31").text
    assert "Acme October" in html and "Acme November" not in html


def test_the_need_page_section_lists_the_minutes(runtime, app):
    need = file_need(runtime)
    file_minutes(runtime, topic="Invoice workshop", needs=need.ref)
    with app.test_request_context("/needs/N-0001"):
        html = render_template_string('{% include "minutes/_need_minutes.html" %}', need=need)
    assert '<a href="/minutes/1">2026-11-20 · Invoice workshop</a>' in html
    assert 'href="/minutes/new?need=N-0001"' in html


def test_new_minutes_from_a_need_start_with_its_customer_and_ref(runtime, cs_client):
    file_need(runtime, customer="globex")
    html = cs_client.get("/minutes/new?need=N-0001").text
    assert 'id="needs" name="needs" value="N-0001"' in html and 'id="customer" name="customer" value="globex"' in html


def test_the_pages_need_a_login(client):
    for path in ("/minutes", "/minutes/new", "/minutes/1", "/minutes/1/print", "/minutes/1/export.md",
                 "/minutes/customer/acme", "/minutes/import"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_a_long_list_pages_with_the_filters_kept(runtime, cs_client, monkeypatch):
    import webhooks.minutes

    monkeypatch.setattr(webhooks.minutes, "PAGE_SIZE", 2)
    for number in range(5):
        file_minutes(runtime, topic=f"Review {number}")
    first = cs_client.get("/minutes?customer=acme").get_data(as_text=True)
    assert "Page 1 of 3" in first and 'rel="prev"' not in first
    assert '<a class="button" href="/minutes?page=2&amp;customer=acme" rel="next">Next</a>' in first
    last = cs_client.get("/minutes?customer=acme&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in last and 'rel="next"' not in last
    assert '<a class="button" href="/minutes?page=2&amp;customer=acme" rel="prev">Previous</a>' in last
    monkeypatch.setattr(webhooks.minutes, "PAGE_SIZE", 50)
    assert 'class="pager"' not in cs_client.get("/minutes").get_data(as_text=True)  # one page: no pager
