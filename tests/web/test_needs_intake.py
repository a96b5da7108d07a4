"""The intake form at /needs/new: CSRF, validation through validate_need, screenshots, and what gets stored."""

from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import select

from sync.ledger.customers import add_customer
from sync.ledger.store import Job, Need
from tests.factories import need_data
from tests.images import png_bytes
from tests.web.pages import (
    csrf_token_of,
    field_errors,
    log_in,
    need_count,
    stored_files,
)
from webhooks.app import create_app


def form_data(**overrides) -> dict:
    """What the browser sends for a valid need: the form's own time format, every field present."""
    data = need_data(**{"reported_at": "2026-11-20T09:30", "reporter_channel": "WeCom", "linked_to": "",
                        **overrides})
    return {key: "" if value is None else value for key, value in data.items()}


def with_files(data: dict, *files: tuple[bytes, str]) -> dict:
    return {**data, "screenshots": [(io.BytesIO(content), name) for content, name in files]}


def test_the_form_shows_every_field_of_the_seed_table(cs_client):
    html = cs_client.get("/needs/new").text

    for name in ("category", "title", "description", "urgency", "reporter_name", "reporter_email",
                 "reporter_channel", "reported_at", "owner", "stage", "customer", "remarks", "linked_to",
                 "screenshots"):
        assert f'name="{name}"' in html, name
    assert '<option value="billing">Billing</option>' in html
    assert '<option value="critical">Critical</option>' in html
    assert '<option value="pre_project">Pre-project</option>' in html
    assert 'type="datetime-local"' in html
    assert re.search(r'name="reported_at" type="datetime-local" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', html)
    assert 'type="file"' in html and 'accept="image/*"' in html and "multiple" in html
    assert '<datalist id="people">' in html and 'value="Wang Wei"' in html
    assert '<option value="ACME Corp">acme</option>' in html  # the customer list completes names
    assert 'enctype="multipart/form-data"' in html


def test_a_valid_need_with_a_screenshot_is_stored_and_shown(cs_client, runtime):
    image = png_bytes(8, 6)

    response = cs_client.post("/needs/new", data=with_files(form_data(), (image, "screen shot.png")))

    assert response.status_code == 302
    assert response.location == "/needs/N-0001"
    page = cs_client.get(response.location)
    assert "Need N-0001 filed" in page.text
    assert "Invoices should show the tax number" in page.text
    with runtime.Session() as session:
        need = session.scalars(select(Need)).one()
        attachments = list(need.attachments)
        history = list(need.history)
        jobs = session.scalars(select(Job).where(Job.ref == "N-0001")).all()
    assert need.created_by == "cs1"
    assert need.reported_at == dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    assert (need.reporter_channel, need.stage, need.customer, need.linked_to) == ("WeCom", "rollout", "acme", None)
    assert need.sync_state == "waiting_for_tracker"
    assert [(a.filename, a.content_type, a.size) for a in attachments] == [("screen shot.png", "image/png", len(image))]
    assert (runtime.uploads / attachments[0].stored_name).read_bytes() == image
    assert [(h.status, h.source, h.actor) for h in history] == [("new", "cs", "cs1")]
    assert jobs == []  # no tracker configured: the need waits for one, no job could do anything
    assert f'/needs/N-0001/attachments/{attachments[0].id}' in page.text


def test_the_time_reported_is_read_in_the_configured_time_zone(runtime, make_user):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai"},
                     runtime=runtime)
    make_user("cs1", "password1")
    client = app.test_client()
    log_in(client)

    client.post("/needs/new", data=form_data(reported_at="2026-11-20T09:30"))

    with runtime.Session() as session:
        need = session.scalars(select(Need)).one()
    assert need.reported_at == dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC)
    assert "2026-11-20 09:30" in client.get("/needs").text


def test_an_empty_time_reported_means_now(cs_client, runtime):
    before = dt.datetime.now(dt.UTC)

    cs_client.post("/needs/new", data=form_data(reported_at=""))

    with runtime.Session() as session:
        need = session.scalars(select(Need)).one()
    assert before - dt.timedelta(seconds=1) <= need.reported_at <= dt.datetime.now(dt.UTC)


def test_each_problem_is_shown_next_to_its_field_and_nothing_is_stored(cs_client, runtime):
    data = form_data(title="", category="nope", urgency="", reporter_name="", customer="",
                     reporter_email="not-an-address", reported_at="2099-01-01T00:00", stage="someday",
                     description="Keep me")

    response = cs_client.post("/needs/new", data=data)

    assert response.status_code == 400
    html = response.text
    assert field_errors(html, "title") == ["This field is required."]
    assert field_errors(html, "category") == ["Unknown category nope."]
    assert field_errors(html, "urgency") == ["This field is required."]
    assert field_errors(html, "reporter_name") == ["This field is required."]
    assert field_errors(html, "customer") == ["This field is required."]
    assert field_errors(html, "reporter_email") == ["Not a valid e-mail address."]
    assert field_errors(html, "reported_at") == ["The time reported cannot be in the future."]
    assert field_errors(html, "stage") == ["Unknown stage someday."]
    assert field_errors(html, "description") == [] and field_errors(html, "owner") == []
    assert 'aria-describedby="title-hint title-error" aria-invalid="true"' in html
    assert "Nothing was saved." in html
    # What the user typed is kept.
    assert "Keep me</textarea>" in html
    assert 'value="not-an-address"' in html and 'value="2099-01-01T00:00"' in html
    assert need_count(runtime) == 0


def test_limits_come_from_validate_need(cs_client, runtime):
    response = cs_client.post("/needs/new", data=form_data(title="x" * 201, reported_at="yesterday"))

    assert response.status_code == 400
    assert field_errors(response.text, "title") == ["At most 200 characters."]
    assert field_errors(response.text, "reported_at") == ["Not a valid date and time, e.g. 2026-11-23 14:30."]
    assert need_count(runtime) == 0


def test_a_file_that_is_not_an_image_is_refused(cs_client, runtime):
    data = with_files(form_data(), (png_bytes(), "good.png"), (b"<html><script>alert(1)</script>", "evil.png"))

    response = cs_client.post("/needs/new", data=data)

    assert response.status_code == 400
    assert field_errors(response.text, "screenshots") == ["evil.png is not a PNG, JPEG, GIF or WebP image."]
    assert need_count(runtime) == 0
    assert stored_files(runtime) == []


def test_a_screenshot_over_the_limit_is_refused(cs_client, runtime):
    limit = runtime.settings.upload_max_bytes
    too_big = png_bytes() + b"\0" * limit

    response = cs_client.post("/needs/new", data=with_files(form_data(), (too_big, "huge.png")))

    assert response.status_code == 400
    assert field_errors(response.text, "screenshots") == ["huge.png is larger than 5 MB."]
    assert need_count(runtime) == 0
    assert stored_files(runtime) == []


def test_a_field_problem_and_a_good_screenshot_ask_to_attach_it_again(cs_client, runtime):
    response = cs_client.post("/needs/new", data=with_files(form_data(title=""), (png_bytes(), "good.png")))

    assert response.status_code == 400
    assert "please choose the screenshots again" in response.text
    assert stored_files(runtime) == []


def test_a_request_over_the_size_limit_gets_a_friendly_page(cs_client, web_app, runtime):
    web_app.config["MAX_CONTENT_LENGTH"] = 10_000

    response = cs_client.post("/needs/new", data=with_files(form_data(), (png_bytes() + b"\0" * 20_000, "a.png")))

    assert response.status_code == 413
    assert "<h1>Too large</h1>" in response.text
    assert "Each screenshot may be at most 5 MB" in response.text
    assert need_count(runtime) == 0


def test_a_post_without_csrf_token_is_refused_and_stores_nothing(app, runtime, make_user):
    """The ``app`` fixture keeps Flask-WTF's CSRF checks on, as in production."""
    make_user("cs1", "password1")
    client = app.test_client()
    log_in(client, csrf_token=csrf_token_of(client.get("/login").text))
    form_page = client.get("/needs/new")

    refused = client.post("/needs/new", data=with_files(form_data(), (png_bytes(), "a.png")))

    assert refused.status_code == 400
    assert "The form has expired" in refused.text
    assert need_count(runtime) == 0
    assert stored_files(runtime) == []

    accepted = client.post("/needs/new", data={**form_data(), "csrf_token": csrf_token_of(form_page.text)})
    assert accepted.status_code == 302
    assert need_count(runtime) == 1


def test_user_text_is_escaped_on_every_page(cs_client, runtime):
    script = "<script>alert('x')</script>"
    add_customer(runtime, {"key": "script", "name": script})
    cs_client.post("/needs/new", data=form_data(title=script, description=script, remarks=script,
                                                 reporter_name=script, customer=script, owner=script))

    for path in ("/needs", "/needs/N-0001"):
        html = cs_client.get(path).text
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    errors = cs_client.post("/needs/new", data=form_data(title=script, category=script)).text
    assert "<script>" not in errors
