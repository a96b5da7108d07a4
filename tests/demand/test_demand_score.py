"""The demand formula, table by table: tiers, revenue, the most urgent need, the oldest waiting one, rounding; and
the ``demand:`` config's defaults and errors."""

import datetime as dt

import pytest

from plugin.demand_settings import DemandSettings
from plugin.errors import ConfigError
from plugin.loading import parse_settings
from plugin.demand import DemandCustomer, demand_score, format_score, most_urgent, tier_weight, waiting_days

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
ORDER = ["critical", "high", "medium", "low"]
DEFAULTS = DemandSettings()


def customer(key, tier=None, revenue=None):
    return DemandCustomer(key, key.title(), tier, revenue)


@pytest.mark.parametrize(("customers", "urgencies", "oldest", "score"), [
    # one standard customer, medium, nothing waiting: 1 * 1
    ([customer("a", "standard")], ["medium"], None, 1.0),
    # the tier decides: strategic 5, enterprise 3, an unlisted tier or none 1
    ([customer("a", "strategic")], ["medium"], None, 5.0),
    ([customer("a", "Enterprise")], ["medium"], None, 3.0),
    ([customer("a", "gold")], ["medium"], None, 1.0),
    ([customer("a")], ["medium"], None, 1.0),
    # revenue: 1 point per 1,000,000 a year
    ([customer("a", "standard", 2_500_000)], ["medium"], None, 3.5),
    # customers add up, then the most urgent need multiplies: (5 + 2) + (3 + 0.5) + 1 = 11.5, critical 3
    ([customer("a", "strategic", 2_000_000), customer("b", "enterprise", 500_000), customer("c")],
     ["high", "critical", "medium"], None, 34.5),
    # low weighs 0.5
    ([customer("a", "enterprise")], ["low", "low"], None, 1.5),
    # the oldest waiting need adds 0.1 a whole day: 10 days and 23 hours count 10
    ([customer("a", "standard")], ["medium"], NOW - dt.timedelta(days=10, hours=23), 2.0),
    # an urgency the config no longer has weighs 1
    ([customer("a", "standard")], ["retired"], None, 1.0),
    # rounded to one decimal: 1/3 million -> 1.333... -> 1.3
    ([customer("a", "standard", 333_333)], ["medium"], None, 1.3),
    # no customer, no urgency: nothing
    ([], [], None, 0.0),
])
def test_default_formula(customers, urgencies, oldest, score):
    assert demand_score(DEFAULTS, customers, urgencies, ORDER, oldest, NOW).score == score


# A "gold" customer with 500,000 a year, a high need, waiting 3 days and an hour.
@pytest.mark.parametrize(("settings", "score"), [
    (DemandSettings(tier_weights={"gold": 10}), 21.3),                         # (10 + 0.5) * 2 + 0.3
    (DemandSettings(tier_weights={"gold": 10}, revenue_factor=0), 20.3),       # 10 * 2 + 0.3
    (DemandSettings(tier_weights={"gold": 10}, revenue_factor=2, revenue_unit=100_000), 40.3),  # (10 + 10) * 2
    (DemandSettings(tier_weights={"gold": 10}, urgency_weights={"high": 4}), 42.3),  # 10.5 * 4 + 0.3
    (DemandSettings(other_tier_weight=0), 1.3),                                # "gold" unlisted: (0 + 0.5) * 2
    (DemandSettings(tier_weights={"gold": 1}, age_factor=1), 6.0),             # (1 + 0.5) * 2 + 3
])
def test_configured_weights(settings, score):
    gold = [customer("a", "gold", 500_000)]
    assert demand_score(settings, gold, ["high"], ORDER, NOW - dt.timedelta(days=3, hours=1), NOW).score == score


def test_demand_says_what_it_counted():
    result = demand_score(DEFAULTS, [customer("a", "strategic", 1_000_000), customer("b", None, 250_000)],
                          ["medium", "high"], ORDER, NOW - dt.timedelta(days=2), NOW)
    assert (result.revenue, result.urgency, result.waiting_days) == (1_250_000, "high", 2)
    assert result.customers_written() == [["a", "strategic", 1_000_000], ["b", None, 250_000]]
    assert format_score(result.score) == "14.7"  # (6 + 1.25) * 2 + 0.2


@pytest.mark.parametrize(("urgencies", "top"), [
    (["low", "high", "medium"], "high"), (["retired", "low"], "low"), (["retired"], "retired"), ([], None)])
def test_most_urgent(urgencies, top):
    assert most_urgent(urgencies, ORDER) == top


def test_waiting_days_counts_whole_days_and_never_less_than_none():
    assert waiting_days(None, NOW) == 0
    assert waiting_days(NOW + dt.timedelta(days=1), NOW) == 0
    assert waiting_days((NOW - dt.timedelta(days=4)).replace(tzinfo=None), NOW) == 4
    assert tier_weight(DEFAULTS, "STRATEGIC") == 5.0


@pytest.mark.parametrize(("score", "label"), [(0, "demand: low"), (7.9, "demand: low"), (8, "demand: medium"),
                                              (19.9, "demand: medium"), (20, "demand: high"), (500, "demand: high")])
def test_default_bands(score, label):
    assert DEFAULTS.band(score) == label


def test_bands_are_read_in_any_order_and_may_leave_low_scores_unlabelled():
    settings = parse_settings("demand:\n  bands:\n    - {label: hot, min: 5}\n    - {label: on fire, min: 50}\n")
    assert [settings.demand.band(score) for score in (1, 5, 60)] == [None, "hot", "on fire"]
    assert settings.demand.band_labels == {"hot", "on fire"}


@pytest.mark.parametrize(("yaml", "key", "message"), [
    ("demand: {revenue_factor: -1}", "demand.revenue_factor", "greater than or equal to 0"),
    ("demand: {revenue_unit: 0}", "demand.revenue_unit", "greater than 0"),
    ("demand: {tier_weights: {gold: -2}}", "demand", "tier_weights.gold: a weight cannot be negative"),
    ("demand: {urgency_weights: {high: -1}}", "demand", "urgency_weights.high: a weight cannot be negative"),
    ("demand: {bands: [{label: hot, min: 1}, {label: HOT, min: 2}]}", "demand", "label 'HOT' is given twice"),
    ("demand: {bands: [{label: hot, min: -1}]}", "demand.bands.0.min", "greater than or equal to 0"),
    ("demand: {weights: {}}", "demand.weights", "unknown key"),
    ("demand: {urgency_weights: {urgent: 4}}", "demand.urgency_weights.urgent", "there is no urgency urgent"),
    ("demand: {settled_statuses: [closed]}", "demand.settled_statuses", "there is no status closed"),
])
def test_config_errors_name_the_key(yaml, key, message):
    with pytest.raises(ConfigError) as caught:
        parse_settings(yaml, "cocreate.yaml")
    problems = {(problem.key, problem.message) for problem in caught.value.problems}
    assert any(found_key == key and message in found for found_key, found in problems), problems


def test_the_defaults_need_not_name_the_configured_urgencies():
    settings = parse_settings("urgencies:\n  - {key: p1, name: P1}\n  - {key: p2, name: P2}\n")
    assert settings.demand.urgency_weights == {"critical": 3.0, "high": 2.0, "medium": 1.0, "low": 0.5}
    # p1 and p2 are not listed: each weighs other_urgency_weight, 1
    assert demand_score(settings.demand, [customer("a", "standard")], ["p2", "p1"], ["p1", "p2"], None,
                        NOW).score == 1.0
