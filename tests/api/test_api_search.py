"""GET /api/v1/needs?q=: the /needs search through the API, with the filters and the cursor."""

from __future__ import annotations

from sync.ledger.search import QUERY_MAX
from tests.search_cases import NEEDS


def _refs(response) -> list[str]:
    return [need["ref"] for need in response.get_json()["items"]]


def test_q_finds_chinese_and_english_words(api, make_need):
    for overrides in NEEDS:
        make_need(**overrides)

    assert _refs(api.get("/api/v1/needs", query_string={"q": "報表"})) == ["N-0001"]
    assert _refs(api.get("/api/v1/needs", query_string={"q": "表匯出"})) == ["N-0001"]
    assert _refs(api.get("/api/v1/needs", query_string={"q": "TAX invoices"})) == ["N-0002"]
    assert _refs(api.get("/api/v1/needs", query_string={"q": "initech"})) == ["N-0004", "N-0003"]
    assert api.get("/api/v1/needs", query_string={"q": "麒麟"}).get_json() == {"items": [], "next_cursor": None}


def test_q_combines_with_filters_and_pages_by_cursor(api, make_need):
    for number in range(5):
        make_need(title=f"報表 {number}", category="reports" if number % 2 else "billing")
    make_need(title="發票", category="reports")

    assert _refs(api.get("/api/v1/needs", query_string={"q": "報表", "category": "reports"})) == ["N-0004", "N-0002"]
    first = api.get("/api/v1/needs", query_string={"q": "報表", "limit": 3}).get_json()
    second = api.get("/api/v1/needs", query_string={"q": "報表", "limit": 3, "cursor": first["next_cursor"]})
    assert [need["ref"] for need in first["items"]] == ["N-0005", "N-0004", "N-0003"]
    assert _refs(second) == ["N-0002", "N-0001"] and second.get_json()["next_cursor"] is None


def test_a_q_too_long_is_400(api):
    response = api.get("/api/v1/needs", query_string={"q": "報" * (QUERY_MAX + 1)})

    assert response.status_code == 400
    assert response.get_json()["message"] == f"q is longer than {QUERY_MAX} characters"
    assert api.get("/api/v1/needs", query_string={"q": "報" * QUERY_MAX}).status_code == 200
