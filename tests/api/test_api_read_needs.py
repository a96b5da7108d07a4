"""GET /api/v1/needs/<ref> and GET /api/v1/needs: one need in full, and pages of them."""

from __future__ import annotations

import base64
from dataclasses import asdict

import pytest
from sqlalchemy import select

from plugin.loading import parse_settings
from plugin.need import validate_need
from sync.intake import Upload
from sync.ledger.store import Need, StatusChange
from tests.factories import DEFAULT_YAML, need_data

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 120


def _set_status(runtime, ref: str, status: str) -> None:
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        need.history.append(StatusChange(status=status, previous=need.status, source="tracker", actor="Wang Wei"))
        need.status = status


# One need ------------------------------------------------------------------------------------------


def test_a_need_reads_back_with_labels_history_and_attachments(api, make_need, runtime):
    ref = make_need(uploads=[Upload("invoice.png", PNG)]).ref
    _set_status(runtime, ref, "accepted")

    response = api.get(f"/api/v1/needs/{ref}")

    assert response.status_code == 200
    need = response.get_json()
    assert (need["ref"], need["url"]) == (ref, f"http://localhost:8080/needs/{ref}")
    assert (need["status"], need["status_label"]) == ("accepted", "Accepted")
    assert (need["urgency"], need["urgency_label"]) == ("high", "High")
    assert [(change["status"], change["status_label"], change["previous"], change["source"])
            for change in need["history"]] == [("new", "Received", None, "cs"),
                                               ("accepted", "Accepted", "new", "tracker")]
    assert need["attachments"] == [
        {"id": need["attachments"][0]["id"], "filename": "invoice.png", "content_type": "image/png", "size": len(PNG)}
    ]
    assert (need["issue_key"], need["issue_url"], need["sync_state"]) == (None, None, "waiting_for_tracker")


def test_a_status_no_longer_configured_is_labelled_with_its_key(api, make_need, runtime):
    ref = make_need().ref
    _set_status(runtime, ref, "parked")

    need = api.get(f"/api/v1/needs/{ref}").get_json()

    assert (need["status"], need["status_label"]) == ("parked", "parked")


class TestLabelsInTheConfiguredLanguage:
    @pytest.fixture
    def settings(self):
        return parse_settings(DEFAULT_YAML.replace("locale: en\n", "locale: zh-Hant\n", 1), "test.yaml")

    def test_labels_follow_the_config_locale_not_the_request(self, api, make_need):
        ref = make_need().ref

        need = api.get(f"/api/v1/needs/{ref}", headers={"Accept-Language": "en"}).get_json()

        assert (need["status_label"], need["urgency_label"]) == ("已登記", "高")


def test_an_unknown_ref_is_404_json(api):
    response = api.get("/api/v1/needs/N-9999")

    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": "no need N-9999"}


def test_reading_a_need_needs_a_token(api, make_need):
    ref = make_need().ref

    assert api.get(f"/api/v1/needs/{ref}", token=None).status_code == 401
    assert api.get(f"/api/v1/needs/{ref}", token="cct_wrong").status_code == 401


# Lists ---------------------------------------------------------------------------------------------


def _refs(response) -> list[str]:
    return [need["ref"] for need in response.get_json()["items"]]


def test_needs_are_listed_newest_first_on_one_page(api, make_need):
    refs = [make_need().ref for _ in range(3)]

    response = api.get("/api/v1/needs")

    assert response.status_code == 200
    assert _refs(response) == refs[::-1]
    assert response.get_json()["next_cursor"] is None


def test_an_empty_store_lists_nothing(api):
    assert api.get("/api/v1/needs").get_json() == {"items": [], "next_cursor": None}


def test_filters_match_exact_values_any_of_a_repeated_one_and_all_of_several(api, make_need, runtime):
    billing_high = make_need(category="billing", urgency="high", customer="acme").ref
    reports_low = make_need(category="reports", urgency="low", customer="acme").ref
    billing_low = make_need(category="billing", urgency="low", customer="globex").ref
    _set_status(runtime, reports_low, "accepted")

    def listed(query):
        return _refs(api.get("/api/v1/needs", query_string=query))

    assert listed({"category": "billing"}) == [billing_low, billing_high]
    assert listed({"customer": "globex"}) == [billing_low]
    assert listed({"customer": "acm"}) == []
    assert listed({"status": "accepted"}) == [reports_low]
    assert listed([("urgency", "high"), ("urgency", "low")]) == [billing_low, reports_low, billing_high]
    assert listed({"category": "billing", "urgency": "low"}) == [billing_low]


def test_pages_follow_next_cursor_to_the_end_without_gaps_or_repeats(api, make_need):
    refs = [make_need().ref for _ in range(5)][::-1]

    pages, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = api.get("/api/v1/needs", query_string=query).get_json()
        pages.append([need["ref"] for need in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert pages == [refs[0:2], refs[2:4], refs[4:5]]


def test_a_page_exactly_filled_has_no_next_cursor(api, make_need):
    for _ in range(2):
        make_need()

    assert api.get("/api/v1/needs", query_string={"limit": 2}).get_json()["next_cursor"] is None


def test_a_cursor_stays_valid_while_needs_are_added(api, make_need):
    first, second, third = (make_need().ref for _ in range(3))
    cursor = api.get("/api/v1/needs", query_string={"limit": 1}).get_json()["next_cursor"]
    make_need()

    response = api.get("/api/v1/needs", query_string={"limit": 5, "cursor": cursor})

    assert _refs(response) == [second, first]


def test_limit_defaults_to_50_and_may_be_200(api, runtime):
    need_input = validate_need(need_data(), runtime.settings)
    with runtime.Session.begin() as session:  # 51 rows at once: intake's job per need adds nothing here
        session.add_all(Need(ref=f"N-{number:04d}", status="new", **asdict(need_input)) for number in range(1, 52))

    default = api.get("/api/v1/needs").get_json()
    assert len(default["items"]) == 50 and default["next_cursor"] is not None
    assert len(api.get("/api/v1/needs", query_string={"limit": 200}).get_json()["items"]) == 51


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1e2", "", "5" * 5000, "٣"])
def test_a_limit_out_of_range_is_400(api, limit):
    response = api.get("/api/v1/needs", query_string={"limit": limit})

    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": "limit must be a whole number from 1 to 200"}


@pytest.mark.parametrize("cursor", [
    "", "not-base64!", "aWQ6", base64.urlsafe_b64encode(b"id:abc").decode(), base64.urlsafe_b64encode(b"id:0").decode(),
    base64.urlsafe_b64encode(b"id:99999999999999999999").decode(), base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_a_cursor_this_api_did_not_give_out_is_400(api, cursor):
    response = api.get("/api/v1/needs", query_string={"cursor": cursor})

    assert response.status_code == 400
    assert "cursor" in response.get_json()["message"]


def test_an_unknown_query_parameter_is_400_naming_it(api):
    response = api.get("/api/v1/needs", query_string={"statu": "new"})

    assert response.status_code == 400
    assert response.get_json()["message"].startswith("unknown query parameter statu;")


def test_listing_needs_needs_a_token(api):
    assert api.get("/api/v1/needs", token=None).status_code == 401
