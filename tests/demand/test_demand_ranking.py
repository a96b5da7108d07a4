"""The demand ranking: a seeded set of issues ranked as the formula says (table-driven), on /demand and in its CSV
download, with the filters by category and customer (``tests/api/test_api_demand.py``: the JSON API)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import update

from plugin.loading import parse_settings
from sync.ledger.store import Need
from sync.report.demand import ranked_issues
from tests.demand.ranking_data import EXPECTED, NOW, YAML, seed

@pytest.fixture
def settings():
    return parse_settings(YAML, "test.yaml")


@pytest.fixture
def seeded(runtime, make_need):
    seed(runtime, make_need)
    return runtime


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, EXPECTED),
    ({"category": "reports"}, [("CS-4", 5.6)]),
    ({"customer": "acme"}, [("CS-1", 32.6), ("CS-3", 4.6)]),
    ({"customer": "Globex Inc"}, [("CS-1", 32.6), ("CS-4", 5.6)]),       # by alias
    ({"customer": "initech", "category": "billing"}, [("CS-2", 4.1), ("CS-5", 2.0)]),
    ({"customer": "nobody"}, []),
])
def test_ranking_follows_the_formula(seeded, filters, expected):
    ranked = ranked_issues(seeded, now=NOW, **filters)
    assert [(item.key, item.demand.score) for item in ranked] == expected


def test_ranked_issue_says_what_it_counts(seeded):
    first, *_rest, last = ranked_issues(seeded, now=NOW)
    assert [customer.key for customer in first.demand.customers] == ["acme", "globex"]
    assert (first.demand.revenue, first.demand.urgency, first.demand.waiting_days) == (2_500_000, "critical", 11)
    assert (first.refs, first.status, first.url) == (("N-0001", "N-0002"), "new",
                                                    "https://jira.example/browse/CS-1")
    assert (last.key, last.demand.oldest_waiting, last.demand.waiting_days) == ("CS-5", None, 0)


def test_equal_scores_rank_by_revenue_then_key(runtime, make_need):
    for key, customer in (("CS-9", "hooli"), ("CS-7", "initech"), ("CS-8", "initech")):
        need = make_need(customer=customer, urgency="medium")
        with runtime.Session.begin() as session:
            session.execute(update(Need).where(Need.ref == need.ref).values(issue_key=key))
    assert [item.key for item in ranked_issues(runtime, now=NOW)] == ["CS-7", "CS-8", "CS-9"]
    runtime.engine.dispose()


def test_page_ranks_the_issues_and_links_them(seeded, cs_client):
    html = cs_client.get("/demand").get_data(as_text=True)
    rows = re.findall(r'<tr data-issue="([^"]+)">', html)
    assert rows[0] == "CS-1" and sorted(rows) == ["CS-1", "CS-2", "CS-3", "CS-4", "CS-5"]
    assert '<a href="https://jira.example/browse/CS-1" rel="noopener noreferrer" target="_blank">CS-1</a>' in html
    assert "ACME Corp <span class=\"muted\">(strategic)</span>, Globex" in html
    assert "2,500,000" in html
    assert 'href="/demand"' in html and "aria-current=\"page\">Demand</a>" in html  # in the nav, as this page


def test_page_filters_and_says_when_nothing_matches(seeded, cs_client):
    html = cs_client.get("/demand?category=reports").get_data(as_text=True)
    assert re.findall(r'<tr data-issue="([^"]+)">', html) == ["CS-4"]
    assert 'href="/demand/export.csv?category=reports"' in html
    html = cs_client.get("/demand?category=nope").get_data(as_text=True)
    assert "No issue matches these filters." in html


def test_page_needs_a_login(seeded, client):
    assert client.get("/demand").status_code == 302
    assert client.get("/demand/export.csv").status_code == 302


def test_csv_download_lists_the_ranking_with_text_made_safe(seeded, cs_client):
    response = cs_client.get("/demand/export.csv?customer=initech")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Rank", "Issue", "Link", "Title", "Demand score"]
    assert [row[1] for row in rows[1:]] == ["CS-2", "CS-5"]
    assert rows[1][5] == "'=Initech"  # a customer name that would be a spreadsheet formula
    assert rows[2][10] == "Done" and rows[2][8] == ""
