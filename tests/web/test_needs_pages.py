"""The needs table (filters, sorting, pages), a need's page, its screenshots and the error pages."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import abort
from sqlalchemy import select, text

from sync.intake import Upload
from sync.ledger import store
from sync.ledger.store import Job, Need, StatusChange, ref_sort_key
from tests.images import png_bytes
from tests.web.pages import header_labels, log_in, table_refs
from webhooks.app import create_app


def update_need(runtime, ref: str, **values) -> None:
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        for key, value in values.items():
            setattr(need, key, value)


@pytest.fixture
def three_needs(make_need, runtime):
    """N-0001 high/billing/acme, N-0002 critical/reports/globex (done), N-0003 low/billing/acme."""
    make_need(reported_at="2026-11-20T09:00:00+00:00", urgency="high", title="Tax number on invoices",
              owner="Wang Wei", uploads=[Upload("one.png", png_bytes()), Upload("two.png", png_bytes(2, 2))])
    make_need(reported_at="2026-11-22T09:00:00+00:00", urgency="critical", category="reports",
              customer="globex", owner="Zhao Min", title="Monthly report as Excel", remarks="Promised for May")
    make_need(reported_at="2026-11-21T09:00:00+00:00", urgency="low", title="Dark mode", owner=None)
    update_need(runtime, "N-0002", status="done")


def test_the_table_has_the_seed_columns_and_localized_values(cs_client, three_needs):
    html = cs_client.get("/needs").text

    assert header_labels(html) == ["Ref", "Product category", "Description", "Screenshots", "Urgency", "Reporter",
                                   "Time reported", "Owner", "Status", "Remarks", "Customer", "Tracker issue"]
    assert table_refs(html) == ["N-0003", "N-0002", "N-0001"]
    assert "3 needs" in html
    assert ">Billing<" in html and ">Reports<" in html
    assert ">Critical</span>" in html and ">Done</span>" in html and ">Received</span>" in html
    assert "2026-11-22 09:00" in html
    assert ">ACME Corp<" in html and ">globex<" in html
    assert "Promised for May" in html
    assert 'src="/needs/N-0001/attachments/1"' in html and '<span class="count">2</span>' in html
    assert html.count(">waiting for tracker<") == 3


def test_the_tracker_column_shows_the_issue_or_why_there_is_none(cs_client, three_needs, runtime):
    update_need(runtime, "N-0001", issue_key="CS-12", issue_url="https://jira.example/browse/CS-12",
                sync_state="synced")
    update_need(runtime, "N-0002", sync_state="failed", sync_error="Jira said: Field 'priority' cannot be set.")
    update_need(runtime, "N-0003", sync_state="retrying", sync_error="Jira answered 503")

    html = cs_client.get("/needs").text

    assert '<a href="https://jira.example/browse/CS-12" rel="noopener noreferrer" target="_blank">CS-12</a>' in html
    assert "failed: Jira said: Field &#39;priority&#39; cannot be set." in html
    assert "retrying: Jira answered 503" in html
    assert "waiting for tracker" not in html and "in sync" not in html


def test_a_tracker_url_that_is_not_http_is_not_a_link(cs_client, three_needs, runtime):
    update_need(runtime, "N-0001", issue_key="CS-12", issue_url="javascript:alert(1)", sync_state="synced")

    html = cs_client.get("/needs").text

    assert "javascript:" not in html
    assert "CS-12" in html


@pytest.mark.parametrize(("query", "refs"), [
    ("status=done", ["N-0002"]),
    ("status=new", ["N-0003", "N-0001"]),
    ("urgency=low", ["N-0003"]),
    ("category=billing", ["N-0003", "N-0001"]),
    ("customer=globex", ["N-0002"]),
    ("owner=Wang+Wei", ["N-0001"]),
    ("category=billing&urgency=high", ["N-0001"]),
    ("status=", ["N-0003", "N-0002", "N-0001"]),
    ("urgency=someday", []),
])
def test_the_table_filters(cs_client, three_needs, query, refs):
    assert table_refs(cs_client.get(f"/needs?{query}").text) == refs


def test_filters_are_selects_that_keep_the_choice(cs_client, three_needs):
    html = cs_client.get("/needs?customer=globex&urgency=critical").text

    assert '<select name="customer">' in html
    assert '<option value="globex" selected>globex</option>' in html
    assert '<option value="acme">ACME Corp</option>' in html
    assert '<option value="critical" selected>Critical</option>' in html
    assert '<option value="Zhao Min">Zhao Min</option>' in html
    assert "Clear filters" in html
    assert "No need matches these filters." in cs_client.get("/needs?urgency=someday").text


@pytest.mark.parametrize(("query", "refs"), [
    ("sort=reported_at&dir=desc", ["N-0002", "N-0003", "N-0001"]),
    ("sort=reported_at&dir=asc", ["N-0001", "N-0003", "N-0002"]),
    ("sort=urgency&dir=asc", ["N-0002", "N-0001", "N-0003"]),
    ("sort=urgency&dir=desc", ["N-0003", "N-0001", "N-0002"]),
    ("sort=status&dir=asc", ["N-0001", "N-0003", "N-0002"]),
    ("sort=title&dir=asc", ["N-0003", "N-0002", "N-0001"]),
    ("sort=screenshots&dir=desc", ["N-0001", "N-0003", "N-0002"]),
    ("sort=ref&dir=asc", ["N-0001", "N-0002", "N-0003"]),
    ("sort=customer&dir=asc", ["N-0001", "N-0003", "N-0002"]),
    ("sort=nonsense", ["N-0003", "N-0002", "N-0001"]),
])
def test_the_table_sorts_by_any_column(cs_client, three_needs, query, refs):
    assert table_refs(cs_client.get(f"/needs?{query}").text) == refs


NATURAL_ORDER = ["1", "2", "4", "12", "CS-2024-003", "CS-2024-010", "N-0001"]
"""Refs as CS keeps them, in the order 序號▲ shows them: numbers by value, then letters, each number by value."""


@pytest.fixture
def refs_as_kept(make_need, runtime):
    """Needs filed in the order N-0001, 12, 4, CS-2024-010, 2, CS-2024-003, 1 (ids do not follow the refs)."""
    for ref in ("N-0001", "12", "4", "CS-2024-010", "2", "CS-2024-003", "1"):
        need = make_need()
        if ref != need.ref:
            with runtime.Session.begin() as session:
                session.get(Need, need.id).ref = ref


def test_refs_sort_naturally_not_in_filing_order(cs_client, refs_as_kept):
    assert table_refs(cs_client.get("/needs?sort=ref&dir=asc").text) == NATURAL_ORDER
    assert table_refs(cs_client.get("/needs?sort=ref&dir=desc").text) == NATURAL_ORDER[::-1]


@pytest.mark.parametrize(("first", "second"), [
    ("N-0002", "N-0012"), ("4", "12"), ("N-9", "N-0010"), ("CS-2024-003", "CS-2024-010"), ("cs-2", "CS-3"),
    ("12", "CS-1"), ("A-1", "A-1-1"), ("2023-99", "2024-1"),
])
def test_the_ref_sort_key_orders_numbers_by_value(first, second):
    assert ref_sort_key(first) < ref_sort_key(second)


def test_the_migration_gives_the_needs_already_stored_their_sort_key(settings, tmp_path, make_need):
    engine = store.make_engine(f"sqlite:///{tmp_path / 'old' / 'cocreate.db'}")
    store.migrate(engine, "0006")
    with engine.begin() as connection:
        for number, ref in enumerate(["N-0010", "N-0002", "7"], start=1):
            connection.execute(text(
                "INSERT INTO needs (id, ref, category, title, description, urgency, reporter_name, reported_at, "
                "status, remarks, customer, created_at, updated_at, status_changed_at, sync_state, synced_fields, "
                "version) VALUES (:id, :ref, 'billing', 'Old need', '', 'high', 'Li Na', '2026-01-01 00:00:00', "
                "'new', '', 'acme', '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                "'pending', '{}', 1)"), {"id": number, "ref": ref})
    store.migrate(engine)
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT ref, ref_sort FROM needs")).all())
        order = connection.execute(text("SELECT ref FROM needs INDEXED BY ix_needs_ref_sort_id "
                                        "ORDER BY ref_sort, id")).scalars().all()
    engine.dispose()
    assert keys == {ref: ref_sort_key(ref) for ref in ("N-0010", "N-0002", "7")}
    assert order == ["7", "N-0002", "N-0010"]


def test_sort_links_toggle_and_keep_the_filters(cs_client, three_needs):
    html = cs_client.get("/needs?category=billing&sort=urgency&dir=asc").text

    assert 'aria-sort="ascending"' in html
    assert 'href="/needs?category=billing&amp;sort=urgency&amp;dir=desc"' in html
    assert 'href="/needs?category=billing&amp;sort=reported_at&amp;dir=asc"' in html
    assert '<input type="hidden" name="sort" value="urgency">' in html


def test_the_table_shows_fifty_needs_a_page(cs_client, make_need):
    for day in range(51):
        make_need(reported_at=(dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day)).isoformat())

    first = cs_client.get("/needs").text
    second = cs_client.get("/needs?page=2").text

    assert len(table_refs(first)) == 50 and table_refs(first)[0] == "N-0051"
    assert table_refs(second) == ["N-0001"]
    assert "Page 1 of 2" in first and 'href="/needs?page=2"' in first
    assert "Page 2 of 2" in second and 'href="/needs?page=1"' in second
    assert table_refs(cs_client.get("/needs?page=99").text) == ["N-0001"]
    assert len(table_refs(cs_client.get("/needs?page=x").text)) == 50


def test_an_empty_table_invites_the_first_need(cs_client):
    html = cs_client.get("/needs").text

    assert "No needs yet." in html and 'href="/needs/new"' in html


def test_the_need_page_shows_every_field_history_and_sync(cs_client, make_need, runtime):
    make_need(uploads=[Upload("screen.png", png_bytes())], remarks="Call back on Friday", reporter_channel="WeCom",
              linked_to="CS-7", description="Line one\nLine two")
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need)).one()
        need.status = "in_progress"
        need.history.append(StatusChange(status="in_progress", previous="new", source="tracker", actor="dev1",
                                         note="Moved to In Progress in Jira",
                                         at=dt.datetime(2026, 11, 24, 8, 15, tzinfo=dt.UTC)))

    html = cs_client.get("/needs/N-0001").text

    for text in ("N-0001", "Invoices should show the tax number", "Line one\nLine two", "Call back on Friday",
                 "Billing", "High", "ACME Corp", "Rollout", "Li Na", "li.na@acme.example", "WeCom",
                 "2026-11-20 09:30", "Wang Wei", "CS-7", "screen.png", "waiting for tracker"):
        assert text in html, text
    assert 'src="/needs/N-0001/attachments/1"' in html
    history = html.split("Status history")[1]
    assert "2026-11-24 08:15" in history and "In progress" in history and "Received" in history
    assert "Tracker" in history and "dev1" in history and "Moved to In Progress in Jira" in history
    assert "Customer success" in history
    assert "The last job failed" not in html


def test_the_need_page_shows_the_tracker_link_and_the_last_failure(cs_client, make_need, runtime):
    make_need()
    update_need(runtime, "N-0001", issue_key="octo/app#12", issue_url="https://github.com/octo/app/issues/12",
                sync_state="failed", sync_error="GitHub answered 422")
    with runtime.Session.begin() as session:
        session.add(Job(id="j-failed", name="sync_need", args=["N-0001"], ref="N-0001", state="failed",
                        attempts=6, last_error="GitHub answered 422: label does not exist",
                        updated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))

    html = cs_client.get("/needs/N-0001").text

    assert 'href="https://github.com/octo/app/issues/12"' in html and ">octo/app#12</a>" in html
    assert "The last job failed after 6 attempts." in html
    assert "GitHub answered 422: label does not exist" in html
    assert "failed: GitHub answered 422" in html


def test_an_unknown_need_is_a_404_page(cs_client):
    response = cs_client.get("/needs/N-9999")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert 'href="/lang/zh_Hant?next=/needs/N-9999"' in response.text


def test_a_forbidden_page_explains_itself(runtime, make_user):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime)
    app.add_url_rule("/forbidden-for-test", "forbidden_for_test", lambda: abort(403))
    make_user("cs1", "password1")
    client = app.test_client()
    log_in(client)

    response = client.get("/forbidden-for-test")

    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text


def test_machine_endpoints_keep_their_plain_errors(cs_client):
    response = cs_client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert 'class="topbar"' not in response.text


def test_screenshots_are_served_to_logged_in_users_only(cs_client, web_app, make_need):
    image = png_bytes(5, 5)
    make_need(uploads=[Upload("screen.png", image)])
    make_need()

    response = cs_client.get("/needs/N-0001/attachments/1")

    assert response.status_code == 200
    assert response.data == image
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "inline" in response.headers["Content-Disposition"]
    assert cs_client.get("/needs/N-0002/attachments/1").status_code == 404
    assert cs_client.get("/needs/N-0001/attachments/2").status_code == 404
    stranger = web_app.test_client().get("/needs/N-0001/attachments/1")
    assert stranger.status_code == 302 and stranger.location.startswith("/login")


def test_a_screenshot_whose_file_is_gone_is_a_404(cs_client, make_need, runtime):
    make_need(uploads=[Upload("screen.png", png_bytes())])
    for path in runtime.uploads.iterdir():
        path.unlink()

    assert cs_client.get("/needs/N-0001/attachments/1").status_code == 404
