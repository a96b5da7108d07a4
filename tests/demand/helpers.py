"""Customers of four tiers and a runtime on the fake Jira or GitHub whose config has them, for the demand tests."""

from __future__ import annotations

from tests.factories import file_need
from tests.sync.trackers import tracker_runtime

CUSTOMERS = """  - {key: globex, name: Globex, locale: zh-Hant, tier: enterprise, annual_revenue: 500000}
  - {key: initech, name: Initech}
  - {key: umbrella, name: Umbrella, tier: enterprise, annual_revenue: 1000000}
"""
"""ACME (strategic, 2,000,000 a year), Globex (enterprise, 500,000), Initech (no tier in the file: managed in the
store) and Umbrella (enterprise, 1,000,000)."""

NO_AGE = "demand: {age_factor: 0}\n"
"""The tracker tests leave the waiting time out: the fakes' clock is the real one."""


def demand_runtime(kind: str, home, *, tracker: bool = True, extra_yaml: str = NO_AGE):
    """A runtime on ``home`` with the four customers; on Jira with the demand field ``customfield_10050``."""
    replace = {
        "    channels: [{kind: email, to: [lin@acme.example]}]\n  - {key: globex, name: Globex, locale: zh-Hant}\n":
            "    channels: [{kind: email, to: [lin@acme.example]}]\n    tier: strategic\n"
            "    annual_revenue: 2000000\n" + CUSTOMERS,
    }
    if kind == "jira" and tracker:
        replace["account_id: 5b10ac8d82e05b22cc7d4ef5}"] = ("account_id: 5b10ac8d82e05b22cc7d4ef5,\n"
                                                             "         demand_field: customfield_10050}")
    return tracker_runtime(kind, home, tracker=tracker, replace=replace, extra_yaml=extra_yaml)


def three_customers_before_the_tracker(kind: str, home, extra_yaml: str = NO_AGE) -> list[str]:
    """Three needs of one issue filed while no tracker is configured: ACME's (high), then Globex's (critical) and
    Initech's (medium) linked to it. Returns their refs."""
    before = demand_runtime(kind, home, tracker=False, extra_yaml=extra_yaml)
    refs = [file_need(before).ref,
            file_need(before, customer="globex", urgency="critical", linked_to="N-0001").ref,
            file_need(before, customer="initech", urgency="medium", linked_to="n-0001 ").ref]
    before.engine.dispose()
    return refs
