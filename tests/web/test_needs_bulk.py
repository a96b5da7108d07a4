"""Bulk actions on /needs: rows ticked or every need the filters find, counted on a review page, applied on
confirmation with one history entry per need; refusals say how many needs were left alone and why."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select, update

from sync.ledger.store import Job, Need, NeedEdit, OutboxMessage, StatusChange
from tests.web.pages import csrf_token_of, log_in, table_refs


def owners(runtime) -> dict[str, str | None]:
    with runtime.Session() as session:
        return dict(session.execute(select(Need.ref, Need.owner).order_by(Need.id)).all())


def edits(runtime, field: str) -> list[tuple]:
    with runtime.Session() as session:
        return session.execute(select(Need.ref, NeedEdit.old, NeedEdit.new, NeedEdit.actor, Need.version)
                               .join(Need).where(NeedEdit.field == field).order_by(Need.id)).all()


def flashes(html: str) -> list[str]:
    return [unescape(text) for text in re.findall(r'<p class="flash [^"]+"[^>]*>(.*?)</p>', html, re.S)]


def review(client, **form):
    """Post the table's bulk form (``ref`` a list, ``view`` the table's query) and return the review page."""
    return client.post("/needs/bulk", data={"scope": "selected", **form})


def confirm(client, **form):
    return client.post("/needs/bulk/apply", data={"scope": "selected", **form}, follow_redirects=True)


@pytest.fixture
def five_needs(make_need):
    """N-0001..N-0005 of ACME, owner Wang Wei; N-0004 and N-0005 are in category reports."""
    for number in range(5):
        make_need(category="reports" if number >= 3 else "billing", title=f"Need {number + 1}")


def test_the_table_has_a_checkbox_per_row_and_the_bulk_form(cs_client, five_needs):
    html = cs_client.get("/needs").text

    assert html.count('type="checkbox" name="ref"') == 5
    assert '<input type="checkbox" name="ref" value="N-0003" form="bulk"' in html
    assert 'action="/needs/bulk"' in html and 'name="view"' in html
    assert "all 5 needs" in html
    assert '<script src="/static/bulk.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: a Content-Security-Policy may forbid them


def test_the_review_counts_and_nothing_changes_before_the_confirmation(cs_client, five_needs, runtime, make_need):
    make_need(owner="Zhao Min")

    html = review(cs_client, action="owner", owner="Zhao Min", ref=["N-0001", "N-0002", "N-0006"]).text

    assert "Set the owner to Zhao Min" in html
    assert re.search(r'class="count-changed">2<', html) and re.search(r'class="count-unchanged">1<', html)
    assert "Change 2 needs" in html
    assert owners(runtime)["N-0001"] == "Wang Wei"
    assert edits(runtime, "owner") == []


def test_setting_the_owner_of_three_rows_keeps_one_history_entry_each(cs_client, five_needs, runtime):
    page = confirm(cs_client, action="owner", owner="Zhao Min", ref=["N-0001", "N-0003", "N-0004"],
                   view="category=billing")

    assert owners(runtime) == {"N-0001": "Zhao Min", "N-0002": "Wang Wei", "N-0003": "Zhao Min",
                               "N-0004": "Zhao Min", "N-0005": "Wang Wei"}
    assert edits(runtime, "owner") == [(ref, "Wang Wei", "Zhao Min", "cs1", 2) for ref in ("N-0001", "N-0003",
                                                                                           "N-0004")]
    assert flashes(page.text) == ["Set the owner to Zhao Min: 3 changed, 0 already so, 0 skipped."]
    assert page.request.path == "/needs" and page.request.args["category"] == "billing"  # back to the same view


def test_confirming_twice_changes_nothing_more(cs_client, five_needs, runtime):
    confirm(cs_client, action="urgency", urgency="critical", ref=["N-0001", "N-0002"])
    again = confirm(cs_client, action="urgency", urgency="critical", ref=["N-0001", "N-0002"])

    assert flashes(again.text) == ["Set the urgency to Critical: 0 changed, 2 already so, 0 skipped."]
    assert len(edits(runtime, "urgency")) == 2


def test_all_needs_the_filters_and_search_find_are_chosen_on_the_server(cs_client, five_needs, runtime):
    html = review(cs_client, scope="matching", action="category", category="billing", view="category=reports").text

    assert "All 2 needs the filters and search find now." in html
    assert 'name="ref"' not in html  # the review carries the filters, not a list of refs
    confirm(cs_client, scope="matching", action="category", category="billing", view="category=reports&q=Need")

    with runtime.Session() as session:
        assert session.scalar(select(func.count()).select_from(Need).where(Need.category == "reports")) == 0
    assert [row[0] for row in edits(runtime, "category")] == ["N-0004", "N-0005"]


def test_a_status_by_hand_skips_needs_with_an_issue_and_says_how_many(cs_client, five_needs, runtime):
    with runtime.Session.begin() as session:
        session.execute(update(Need).where(Need.ref.in_(["N-0002", "N-0003"])).values(issue_key="CS-7"))

    html = review(cs_client, action="status", status="accepted", note="Agreed on the call",
                  ref=["N-0001", "N-0002", "N-0003"]).text
    assert re.search(r'class="count-changed">1<', html) and re.search(r'class="count-skipped">2<', html)
    assert "2 needs will be skipped: they have a tracker issue, which sets their status: change it there." in html

    page = confirm(cs_client, action="status", status="accepted", note="Agreed on the call",
                   ref=["N-0001", "N-0002", "N-0003"])

    assert flashes(page.text) == [
        "Set the status to Accepted: 1 changed, 0 already so, 2 skipped. 2 skipped: they have a tracker issue, "
        "which sets their status: change it there (N-0002, N-0003)."]
    with runtime.Session() as session:
        changes = session.execute(select(Need.ref, StatusChange.previous, StatusChange.status, StatusChange.note)
                                  .join(Need).where(StatusChange.source == "cs", StatusChange.previous.is_not(None))
                                  ).all()
        statuses = dict(session.execute(select(Need.ref, Need.status)).all())
    assert changes == [("N-0001", "new", "accepted", "Agreed on the call")]
    assert statuses["N-0002"] == statuses["N-0003"] == "new"


def test_a_status_set_for_many_needs_tells_each_owner_once(cs_client, five_needs, runtime):
    confirm(cs_client, action="status", status="declined", ref=["N-0001", "N-0002", "N-0003"])

    with runtime.Session() as session:
        notices = session.execute(select(OutboxMessage.kind, OutboxMessage.target, OutboxMessage.payload)).all()
    assert [(kind, target, payload["refs"]) for kind, target, payload in notices] == [
        ("owner", "wang.wei@example.com", ["N-0001", "N-0002", "N-0003"])]


def test_linking_to_a_need_leaves_that_need_alone(cs_client, five_needs, runtime):
    page = confirm(cs_client, action="linked_to", linked_to="n-0001", ref=["N-0001", "N-0002", "N-0003"])

    assert flashes(page.text) == ["Link to N-0001: 2 changed, 0 already so, 1 skipped. 1 skipped: the need the "
                                  "others are linked to (N-0001)."]
    assert [row[:3] for row in edits(runtime, "linked_to")] == [("N-0002", None, "N-0001"), ("N-0003", None, "N-0001")]


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "owner", "owner": "x" * 201, "ref": ["N-0001"]}, "Owner: At most 200 characters."),
    ({"action": "category", "category": "legacy", "ref": ["N-0001"]}, "Product category: Unknown category legacy."),
    ({"action": "urgency", "urgency": "", "ref": ["N-0001"]}, "Urgency: This field is required."),
    ({"action": "status", "status": "lost", "ref": ["N-0001"]}, "Unknown status lost."),
    ({"action": "linked_to", "linked_to": "", "ref": ["N-0001"]}, "Linked to: This field is required."),
    ({"action": "owner", "owner": "Zhao Min"}, "Select at least one need."),
    ({"action": "delete", "ref": ["N-0001"]}, "Choose what to change: owner, status, category, urgency or link."),
])
def test_a_bulk_action_that_cannot_apply_changes_nothing_and_says_why(cs_client, five_needs, runtime, form,
                                                                      message):
    for post in (review, confirm):
        page = post(cs_client, **form)
        if page.status_code == 302:
            page = cs_client.get(page.headers["Location"])
        assert message in flashes(page.text)
    with runtime.Session() as session:
        assert session.scalar(select(func.count()).select_from(NeedEdit)) == 0


def test_a_ref_no_need_has_is_counted_as_skipped(cs_client, five_needs):
    page = confirm(cs_client, action="owner", owner="Zhao Min", ref=["N-0001", "N-0099"])

    assert flashes(page.text) == ["Set the owner to Zhao Min: 1 changed, 0 already so, 1 skipped. 1 skipped: no "
                                  "need has this ref (N-0099)."]


def test_the_selection_downloads_as_the_table_file(cs_client, five_needs):
    response = review(cs_client, action="export", ref=["N-0002", "N-0004"])
    assert response.status_code == 302
    download = cs_client.get(response.headers["Location"].replace("format=xlsx", "") + "&format=csv")

    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["N-0002", "N-0004"]


def test_all_needs_matching_download_with_the_filters(cs_client, five_needs):
    response = review(cs_client, scope="matching", action="export", view="category=reports&sort=title&dir=asc")

    assert response.headers["Location"] == "/needs/export?category=reports"


def test_the_bulk_form_needs_its_csrf_token(app, runtime, make_user, five_needs):
    make_user("cs1", "password1", "cs")
    client = app.test_client()
    log_in(client, csrf_token=csrf_token_of(client.get("/login").text))

    refused = client.post("/needs/bulk/apply", data={"action": "owner", "owner": "Zhao Min", "ref": ["N-0001"]})
    assert refused.status_code == 400
    assert owners(runtime)["N-0001"] == "Wang Wei"

    token = csrf_token_of(client.get("/needs").text)
    client.post("/needs/bulk/apply", data={"action": "owner", "owner": "Zhao Min", "ref": ["N-0001"],
                                           "csrf_token": token})
    assert owners(runtime)["N-0001"] == "Zhao Min"


def test_without_a_tracker_a_bulk_change_queues_no_job(cs_client, five_needs, runtime):
    confirm(cs_client, action="owner", owner="Zhao Min", ref=["N-0001", "N-0002"])

    with runtime.Session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert set(session.scalars(select(Need.sync_state))) == {"waiting_for_tracker"}
    assert table_refs(cs_client.get("/needs?owner=Zhao+Min").text) == ["N-0002", "N-0001"]
