"""``GET /api/v1/demand``: the ranking as JSON, every answer checked against the OpenAPI document."""

from __future__ import annotations

import pytest

from plugin.loading import parse_settings
from tests.demand.ranking_data import YAML, seed


@pytest.fixture
def settings():
    return parse_settings(YAML, "test.yaml")


@pytest.fixture
def seeded(runtime, make_need):
    seed(runtime, make_need)
    return runtime


def test_api_ranks_with_the_same_filters(seeded, api):
    response = api.get("/api/v1/demand?customer=acme")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(item["rank"], item["issue"]) for item in items] == [(1, "CS-1"), (2, "CS-3")]
    assert items[0]["customers"][0] == {"key": "acme", "name": "ACME Corp", "tier": "strategic",
                                        "annual_revenue": 2000000}
    assert items[0]["needs"] == ["N-0001", "N-0002"] and items[0]["categories"] == ["billing"]


def test_api_refuses_an_unknown_category_and_a_missing_token(seeded, api):
    response = api.get("/api/v1/demand?category=nope")
    assert response.status_code == 400 and "nope" in response.get_json()["message"]
    assert api.get("/api/v1/demand", token=None).status_code == 401


def test_a_filter_no_record_can_hold_is_refused_by_the_api_and_matches_nothing_on_the_page(seeded, api, cs_client):
    response = api.get("/api/v1/demand?customer=%00")
    assert response.status_code == 400 and "customer" in response.get_json()["message"]
    page = cs_client.get("/demand?customer=%00")
    assert page.status_code == 200 and "CS-1" not in page.text


def test_api_with_no_issue_answers_an_empty_ranking(api):
    response = api.get("/api/v1/demand")
    assert (response.status_code, response.get_json()) == (200, {"items": []})
