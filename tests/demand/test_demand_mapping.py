"""The demand in the pure mapping: the score row of the body, the band label on GitHub (every band managed, so the
old one goes), the number field on Jira only when one is configured; none of it without a demand."""

from __future__ import annotations

import datetime as dt

import pytest

from plugin.demand import Demand, DemandCustomer
from plugin.loading import parse_settings
from sync.loop import mapping
from sync.loop.mapping import NeedView

BASE = "locale: en\ncategories:\n  - {key: billing, name: Billing, jira_project: BILL, github_repo: acme/billing}\n"
TRACKERS = {
    "jira": "tracker: {kind: jira, jira: {url: 'https://x.atlassian.net', email: a@b.c, api_token: t}}\n",
    "jira-field": "tracker: {kind: jira, jira: {url: 'https://x.atlassian.net', email: a@b.c, api_token: t, "
                  "demand_field: customfield_10050}}\n",
    "github": "tracker: {kind: github, github: {token: t}}\n",
}
NEED = NeedView(ref="N-0001", category="billing", title="Tax number", description="", urgency="high",
                reporter_name="Li Na", reported_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC), customer="acme")


def demand(score: float) -> Demand:
    return Demand(score=score, customers=(DemandCustomer("acme", "ACME Corp", "strategic", 2_000_000),),
                  revenue=2_000_000, urgency="high", oldest_waiting=None, waiting_days=0)


@pytest.mark.parametrize(("tracker", "score", "label", "fields"), [
    ("github", 25.0, "demand: high", {}),
    ("github", 8.0, "demand: medium", {}),
    ("github", 0.5, "demand: low", {}),
    ("jira", 25.0, None, {}),
    ("jira-field", 25.0, None, {"customfield_10050": 25.0}),
])
def test_where_the_score_goes(tracker, score, label, fields):
    settings = parse_settings(BASE + TRACKERS[tracker], "t.yaml")
    mapped = mapping.map_need(settings, NEED, demand=demand(score))
    bands = {"demand: high", "demand: medium", "demand: low"}
    assert mapped.demand_label == label
    assert mapped.spec.labels & bands == ({label} if label else set())
    assert (mapped.managed_labels & bands) == (bands if tracker == "github" else set())
    assert mapped.spec.custom_fields == fields
    shown = str(mapped.spec.body).replace("\\.", ".")  # Markdown escapes the dot
    row = f"Customer demand** | {score:.1f} |" if tracker == "github" else f"'text': '{score:.1f}'"
    assert row in shown


@pytest.mark.parametrize("tracker", ["github", "jira-field"])
def test_no_demand_no_score(tracker):
    mapped = mapping.map_need(parse_settings(BASE + TRACKERS[tracker], "t.yaml"), NEED)
    assert mapped.demand is None and mapped.demand_label is None and mapped.spec.custom_fields == {}
    assert "Customer demand" not in str(mapped.spec.body)
