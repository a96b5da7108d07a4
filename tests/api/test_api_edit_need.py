"""PATCH /api/v1/needs/<ref>: the fields sent change, checked like intake, from the version named by If-Match."""

from __future__ import annotations

from sqlalchemy import select

from sync.ledger.store import Job, Need, NeedEdit


def etag_of(api, ref: str = "N-0001") -> str:
    response = api.get(f"/api/v1/needs/{ref}")
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    return response.headers["ETag"]


def stored(runtime, ref: str = "N-0001") -> Need:
    with runtime.Session() as session:
        return session.scalars(select(Need).where(Need.ref == ref)).one()


def field_history(runtime) -> list[tuple]:
    with runtime.Session() as session:
        return [(edit.field, edit.old, edit.new, edit.source, edit.actor)
                for edit in session.scalars(select(NeedEdit).order_by(NeedEdit.id))]


def test_the_fields_sent_change_and_the_others_keep_their_values(api, make_need, runtime):
    make_need()
    etag = etag_of(api)
    assert etag == '"1"'

    response = api.patch("/api/v1/needs/N-0001", {"title": "Tax number and address", "owner": None,
                                                  "reported_at": "2026-11-21T08:00:00+08:00"}, etag=etag)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["owner"], body["version"]) == ("Tax number and address", None, 2)
    assert body["reported_at"] == "2026-11-21T00:00:00+00:00"
    assert response.headers["ETag"] == '"2"'
    need = stored(runtime)
    assert (need.urgency, need.customer, need.reporter_email) == ("high", "acme", "li.na@acme.example")
    assert field_history(runtime) == [
        ("title", "Invoices should show the tax number", "Tax number and address", "api", "api-user"),
        ("reported_at", "2026-11-20T09:30:00+00:00", "2026-11-21T00:00:00+00:00", "api", "api-user"),
        ("owner", "Wang Wei", None, "api", "api-user"),
    ]


def test_an_edit_without_if_match_is_refused(api, make_need, runtime):
    make_need()

    for headers in ({}, {"If-Match": "*"}, {"If-Match": '"v1"'}, {"If-Match": '""'}, {"If-Match": '"1", "2"'},
                    {"If-Match": '"99999999999999999999"'}):
        response = api.call("PATCH", "/api/v1/needs/N-0001", data='{"title": "x"}', headers=headers,
                            content_type="application/json")
        assert response.status_code == 428
        assert response.get_json()["error"] == "precondition_required"
    assert stored(runtime).title == "Invoices should show the tax number"


def test_a_stale_version_is_a_conflict_naming_what_changed_and_nothing_is_written(api, make_need, runtime):
    make_need()
    etag = etag_of(api)
    assert api.patch("/api/v1/needs/N-0001", {"title": "First client's title"}, etag=etag).status_code == 200

    response = api.patch("/api/v1/needs/N-0001", {"title": "Second client's title", "remarks": "mine"}, etag=etag)

    assert response.status_code == 409
    body = response.get_json()
    assert (body["error"], body["version"]) == ("conflict", 2)
    assert [(change["field"], change["old"], change["new"], change["actor"]) for change in body["changes"]] == [
        ("title", "Invoices should show the tax number", "First client's title", "api-user")]
    need = stored(runtime)
    assert (need.title, need.remarks, need.version) == ("First client's title", "", 2)


def test_the_edited_need_is_checked_like_a_new_one(api, make_need, runtime):
    make_need()

    response = api.patch("/api/v1/needs/N-0001", {"title": "", "urgency": "someday", "colour": "red",
                                                  "remarks": 7}, etag='"1"')

    assert response.status_code == 422
    assert response.get_json()["fields"] == {
        "title": ["This field is required."], "urgency": ["Unknown urgency someday."],
        "colour": ["Unknown field."], "remarks": ["Must be a string, not a number."]}
    assert stored(runtime).version == 1 and field_history(runtime) == []


def test_an_unknown_need_is_404_and_a_body_that_is_not_an_object_400(api, make_need):
    make_need()

    assert api.patch("/api/v1/needs/N-0404", {"title": "x"}, etag='"1"').status_code == 404
    assert api.patch("/api/v1/needs/N-0001", ["title"], etag='"1"').status_code == 400


def test_an_edit_that_changes_nothing_keeps_the_version_and_queues_nothing(api, make_need, runtime):
    make_need()

    response = api.patch("/api/v1/needs/N-0001", {"title": "Invoices should show the tax number"}, etag='"1"')

    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    with runtime.Session() as session:
        assert session.scalars(select(Job)).all() == []
