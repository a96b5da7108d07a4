"""Editing a need at /needs/<ref>/edit: every field, the shared checks, screenshots, conflicts and the field history."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sync.ledger.customers import add_customer
from sync.ledger.store import Attachment, Job, Need, NeedEdit
from tests.images import png_bytes
from tests.web.pages import field_errors, log_in, stored_files
from tests.web.test_needs_intake import form_data

EDITED = {
    "category": "reports", "title": "Monthly report should list refunds", "description": "Refunds are missing.",
    "urgency": "critical", "reporter_name": "Zhang San", "reporter_email": "zhang.san@acme.example",
    "reporter_channel": "phone", "reported_at": "2026-11-21T10:15", "owner": "Li Si", "remarks": "Call back Monday.",
    "stage": "acceptance", "customer": "globex", "linked_to": "N-0007",
}
"""A value different from ``form_data()`` for every field of the form."""


def edit_form(client, ref: str = "N-0001") -> dict:
    """The edit form's fields as the page fills them (inputs, selects and text areas), version included."""
    return form_fields(client.get(f"/needs/{ref}/edit").text)


def form_fields(html: str) -> dict:
    """The fields of the edit form in ``html`` as a browser would submit them (screenshots left out)."""
    values = {name: unescape(value) for name, value in re.findall(r'<input [^>]*?name="(\w+)"[^>]*?value="([^"]*)"',
                                                                  html)}
    values.update({name: unescape(text) for name, text in
                   re.findall(r'<textarea [^>]*?name="(\w+)"[^>]*>\r?\n?(.*?)</textarea>', html, re.S)})
    for name, options in re.findall(r'<select [^>]*?name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    values.pop("csrf_token", None)
    values.pop("remove", None)
    return values


def stored(runtime, ref: str = "N-0001") -> Need:
    with runtime.Session() as session:
        return session.scalars(select(Need).where(Need.ref == ref).options(selectinload(Need.attachments))).one()


def history(runtime, ref: str = "N-0001") -> list[tuple]:
    with runtime.Session() as session:
        return [(edit.field, edit.old, edit.new, edit.source, edit.actor) for edit in session.scalars(
            select(NeedEdit).join(Need).where(Need.ref == ref).order_by(NeedEdit.id))]


def test_the_edit_form_starts_from_the_stored_need(cs_client, make_need):
    make_need(reporter_channel="WeCom")

    assert edit_form(cs_client) == {**form_data(), "version": "1", "project": ""}


def test_every_field_is_saved_and_each_change_kept_in_the_field_history(cs_client, make_need, runtime):
    make_need(reporter_channel="WeCom")
    add_customer(runtime, {"key": "globex", "name": "Globex"})

    response = cs_client.post("/needs/N-0001/edit", data={**form_data(), **EDITED, "version": "1"})

    assert response.status_code == 302 and response.location.endswith("/needs/N-0001")
    need = stored(runtime)
    for name, value in EDITED.items():
        expected = dt.datetime(2026, 11, 21, 10, 15, tzinfo=dt.UTC) if name == "reported_at" else value
        assert getattr(need, name) == expected, name
    assert need.version == 2
    changes = history(runtime)
    assert {field for field, *_rest in changes} == set(EDITED)
    assert ("title", "Invoices should show the tax number", "Monthly report should list refunds", "cs",
            "cs1") in changes
    assert ("reported_at", "2026-11-20T09:30:00+00:00", "2026-11-21T10:15:00+00:00", "cs", "cs1") in changes
    assert ("linked_to", None, "N-0007", "cs", "cs1") in changes


def test_the_need_page_links_to_the_form_and_shows_the_field_history(cs_client, make_need):
    make_need(reporter_channel="WeCom")
    assert "No field has been changed since the need was filed." in cs_client.get("/needs/N-0001").text
    cs_client.post("/needs/N-0001/edit", data={**form_data(), "urgency": "critical", "title": "Tax number, please",
                                               "version": "1"})

    html = cs_client.get("/needs/N-0001").text

    assert 'href="/needs/N-0001/edit"' in html
    section = html[html.index('id="field-history"'):]
    rows = [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", section.split("</table>")[0], re.S)]
    assert [row[1:] for row in rows if row] == [  # newest first; one save's fields in reverse form order
        ["Urgency", "High", "Critical", "Customer success", "cs1"],
        ["Title", "Invoices should show the tax number", "Tax number, please", "Customer success", "cs1"],
    ]


def test_a_save_that_changes_nothing_writes_nothing(cs_client, make_need, runtime):
    make_need(reporter_channel="WeCom")

    response = cs_client.post("/needs/N-0001/edit", data={**edit_form(cs_client)}, follow_redirects=True)

    assert "Nothing was changed." in response.text
    assert stored(runtime).version == 1 and history(runtime) == []


def test_an_untouched_time_keeps_its_seconds(cs_client, make_need, runtime):
    make_need(reported_at="2026-11-20T09:30:17+00:00")

    cs_client.post("/needs/N-0001/edit", data={**edit_form(cs_client), "remarks": "Asked again"})

    assert stored(runtime).reported_at == dt.datetime(2026, 11, 20, 9, 30, 17, tzinfo=dt.UTC)
    assert [field for field, *_rest in history(runtime)] == ["remarks"]


def test_validation_errors_are_shown_per_field_and_nothing_is_saved(cs_client, make_need, runtime):
    make_need()
    data = {**edit_form(cs_client), "title": "", "urgency": "someday", "reporter_email": "not-an-address",
            "reported_at": "2099-01-01T00:00", "remarks": "Kept while I fix the rest"}

    response = cs_client.post("/needs/N-0001/edit", data=data)

    assert response.status_code == 400
    html = response.text
    assert field_errors(html, "title") == ["This field is required."]
    assert field_errors(html, "urgency") == ["Unknown urgency someday."]
    assert field_errors(html, "reporter_email") == ["Not a valid e-mail address."]
    assert field_errors(html, "reported_at") == ["The time reported cannot be in the future."]
    assert "Kept while I fix the rest</textarea>" in html
    assert stored(runtime).title == "Invoices should show the tax number" and history(runtime) == []


def test_screenshots_are_added_and_removed(cs_client, make_need, runtime):
    from sync.intake import Upload

    make_need(uploads=[Upload("old.png", png_bytes(5, 5))])
    old = stored(runtime).attachments[0]
    data = {**edit_form(cs_client), "remove": str(old.id),
            "screenshots": [(io.BytesIO(png_bytes(8, 6)), "new.png")]}

    response = cs_client.post("/needs/N-0001/edit", data=data, content_type="multipart/form-data")

    assert response.status_code == 302
    need = stored(runtime)
    assert [attachment.filename for attachment in need.attachments] == ["new.png"]
    assert [path.name for path in stored_files(runtime)] == [need.attachments[0].stored_name]
    assert history(runtime) == [("screenshots", None, "new.png", "cs", "cs1"),
                                ("screenshots", "old.png", None, "cs", "cs1")]
    page = cs_client.get("/needs/N-0001").text
    assert "added new.png" in page and "removed old.png" in page


def test_a_bad_upload_is_refused_and_nothing_is_lost(cs_client, make_need, runtime):
    from sync.intake import Upload

    make_need(uploads=[Upload("old.png", png_bytes())])
    old = stored(runtime).attachments[0]
    data = {**edit_form(cs_client), "title": "New title, typed with care", "remove": str(old.id),
            "screenshots": [(io.BytesIO(b"MZ\x90\x00 not an image"), "virus.exe")]}

    response = cs_client.post("/needs/N-0001/edit", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert field_errors(response.text, "screenshots") == ["virus.exe is not a PNG, JPEG, GIF or WebP image."]
    assert 'value="New title, typed with care"' in response.text
    assert f'name="remove" value="{old.id}" checked' in response.text  # the removal is still ticked
    need = stored(runtime)
    assert need.title == "Invoices should show the tax number" and [a.filename for a in need.attachments] == ["old.png"]
    assert [path.name for path in stored_files(runtime)] == [old.stored_name]
    assert history(runtime) == []


@pytest.fixture
def two_editors(web_app, make_user, make_need):
    """cs1 and cs2, each logged in with the edit form of the same need open: (first, second, their forms)."""
    make_user("cs1", "password1", "cs")
    make_user("cs2", "password2", "cs")
    make_need(reporter_channel="WeCom")
    first, second = web_app.test_client(), web_app.test_client()
    log_in(first)
    log_in(second, "cs2", "password2")
    return first, second, edit_form(first), edit_form(second)


def test_the_second_of_two_editors_gets_a_conflict_with_both_values_and_keeps_what_they_typed(two_editors, runtime):
    first, second, first_copy, second_copy = two_editors

    assert first.post("/needs/N-0001/edit", data={**first_copy, "title": "First editor's title"}).status_code == 302
    response = second.post("/needs/N-0001/edit", data={**second_copy, "title": "Second editor's title",
                                                        "remarks": "Only I wrote this"})

    assert response.status_code == 409
    html = unescape(response.text)
    assert "Nothing was saved: someone else saved this need after you opened it." in html
    clash = re.search(r'<table class="history clashes">.*?</table>', html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", clash, re.S)]
    assert cells[4:] == ["Title", cells[5], "First editor's title", "Second editor's title"]
    assert cells[5].startswith("cs1 · ")
    assert field_errors(response.text, "title") == ["cs1 changed this after you opened the form."]
    assert 'value="Second editor\'s title"' in html and "Only I wrote this</textarea>" in html
    assert 'name="version" type="hidden" value="2"' in html
    assert stored(runtime).title == "First editor's title"

    # Saving the form as the conflict page shows it applies the second editor's values, knowingly.
    assert second.post("/needs/N-0001/edit", data={**edit_form_from(html), "title": "Second editor's title",
                                                    "remarks": "Only I wrote this"}).status_code == 302
    assert (stored(runtime).title, stored(runtime).remarks) == ("Second editor's title", "Only I wrote this")
    assert [(field, actor) for field, _old, _new, _source, actor in history(runtime)] == [
        ("title", "cs1"), ("title", "cs2"), ("remarks", "cs2")]


def test_a_field_only_the_other_editor_changed_shows_their_value_so_saving_again_undoes_nothing(
        two_editors, runtime):
    first, second, first_copy, second_copy = two_editors

    first.post("/needs/N-0001/edit", data={**first_copy, "title": "First editor's title"})
    response = second.post("/needs/N-0001/edit", data={**second_copy, "remarks": "Only I wrote this"})

    assert response.status_code == 409
    html = unescape(response.text)
    clash = re.search(r'<table class="history clashes">.*?</table>', html, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", clash, re.S)]
    assert cells[4:] == ["Title", cells[5], "First editor's title", "not changed by you: the form now shows theirs"]
    assert field_errors(response.text, "title") == [
        "cs1 changed this after you opened the form; you had not, so it now shows their value."]
    assert 'value="First editor\'s title"' in html and "Only I wrote this</textarea>" in html

    # Saving the form as the conflict page shows it keeps both changes.
    assert second.post("/needs/N-0001/edit", data=form_fields(response.text)).status_code == 302
    assert (stored(runtime).title, stored(runtime).remarks) == ("First editor's title", "Only I wrote this")
    assert [(field, actor) for field, _old, _new, _source, actor in history(runtime)] == [
        ("title", "cs1"), ("remarks", "cs2")]


def edit_form_from(html: str) -> dict:
    """The version the conflict page carries, with the rest of a valid form."""
    return {**form_data(), "version": re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)}


def test_an_edit_of_a_field_the_tracker_does_not_show_queues_no_sync(cs_client, make_need, runtime):
    make_need()

    cs_client.post("/needs/N-0001/edit", data={**edit_form(cs_client), "reporter_email": "li@acme.example"})

    assert stored(runtime).reporter_email == "li@acme.example"
    with runtime.Session() as session:
        assert session.scalars(select(Job)).all() == []  # no tracker configured: nothing is ever queued


def test_admins_edit_too_and_an_unknown_need_is_404(web_app, make_user, make_need, runtime):
    make_user("boss", "password1", "admin")
    make_need()
    client = web_app.test_client()
    log_in(client, "boss")

    assert client.post("/needs/N-0001/edit", data={**edit_form(client), "owner": "Li Si"}).status_code == 302
    assert history(runtime)[-1][4] == "boss"
    assert client.get("/needs/N-0404/edit").status_code == 404


def test_the_edit_form_needs_a_login_and_a_csrf_token(app, make_user, make_need, runtime):
    make_user("cs1", "password1", "cs")
    make_need()
    client = app.test_client()
    assert client.get("/needs/N-0001/edit").status_code == 302  # to the login page
    log_in(client, csrf_token=_login_token(client))

    response = client.post("/needs/N-0001/edit", data={**form_data(), "title": "No token", "version": "1"})

    assert response.status_code == 400
    assert stored(runtime).title == "Invoices should show the tax number"


def _login_token(client) -> str:
    from tests.web.pages import csrf_token_of

    return csrf_token_of(client.get("/login").text)


def test_a_stored_attachment_belongs_to_its_need(cs_client, make_need, runtime):
    """A ``remove`` naming another need's screenshot removes nothing of either."""
    from sync.intake import Upload

    make_need()
    make_need(uploads=[Upload("other.png", png_bytes())])
    with runtime.Session() as session:
        other = session.scalars(select(Attachment)).one()

    cs_client.post("/needs/N-0001/edit", data={**edit_form(cs_client), "remove": str(other.id)})

    assert [a.filename for a in stored(runtime, "N-0002").attachments] == ["other.png"]
    assert history(runtime) == []


def test_a_need_keeps_at_most_the_configured_screenshots(cs_client, make_need, runtime):
    from sync.intake import Upload

    most = runtime.settings.screenshots_max
    make_need(uploads=[Upload(f"{n}.png", png_bytes()) for n in range(most)])
    data = {**edit_form(cs_client), "title": "Kept while the extra screenshot is refused",
            "screenshots": [(io.BytesIO(png_bytes(8, 6)), "one-too-many.png")]}

    response = cs_client.post("/needs/N-0001/edit", data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert field_errors(response.text, "screenshots") == [
        f"A need keeps at most {most} screenshots: remove some first."]
    assert "Kept while the extra screenshot is refused" in response.text
    assert len(stored(runtime).attachments) == most and len(stored_files(runtime)) == most


def test_a_new_need_with_too_many_screenshots_is_refused_and_nothing_is_stored(cs_client, runtime):
    from tests.web.test_needs_intake import with_files

    most = runtime.settings.screenshots_max
    files = [(png_bytes(), f"{n}.png") for n in range(most + 1)]

    response = cs_client.post("/needs/new", data=with_files(form_data(), *files))

    assert response.status_code == 400
    assert field_errors(response.text, "screenshots") == [
        f"A need keeps at most {most} screenshots: remove some first."]
    with runtime.Session() as session:
        assert session.scalars(select(Need)).all() == []
    assert stored_files(runtime) == []
