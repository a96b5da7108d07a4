"""The demand score of a tracker issue with needs: pure, from its customers, its needs' urgencies and how long the
oldest of them has waited. No I/O; ``sync.loop.demand`` gathers the inputs, the README states the formula.

    score = (sum over the customers of (tier weight + revenue_factor * annual revenue / revenue_unit))
            * urgency weight of the most urgent need
            + age_factor * whole days the oldest waiting need has waited

rounded to one decimal, the value written to the tracker and shown on /demand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plugin.demand_settings import DemandSettings

DECIMALS = 1
"""The score is rounded to this many decimals: what the tracker gets, and what tells whether it changed."""


@dataclass(frozen=True)
class DemandCustomer:
    """A customer asking for the issue, as the score reads it: its key, name, tier and annual revenue."""

    key: str
    name: str
    tier: str | None = None
    annual_revenue: int | None = None


@dataclass(frozen=True)
class Demand:
    """An issue's demand: the score and what it was computed from."""

    score: float
    customers: tuple[DemandCustomer, ...]
    revenue: int
    urgency: str | None
    oldest_waiting: dt.datetime | None
    waiting_days: int

    def customers_written(self) -> list[list]:
        """The customers as the tracker is told of them (key, tier, revenue): a change of any is a new write."""
        return [[customer.key, customer.tier, customer.annual_revenue] for customer in self.customers]


def _folded_tiers(settings: DemandSettings) -> dict[str, float]:
    return {name.casefold(): weight for name, weight in settings.tier_weights.items()}


def tier_weight(settings: DemandSettings, tier: str | None, tiers: dict[str, float] | None = None) -> float:
    """The weight of a customer of ``tier`` (compared without case); ``other_tier_weight`` for none or unlisted.
    ``tiers``: the configured weights by folded tier, when the caller weighs many customers."""
    tiers = _folded_tiers(settings) if tiers is None else tiers
    return tiers.get((tier or "").casefold(), settings.other_tier_weight)


def most_urgent(urgencies: Iterable[str], order: Sequence[str]) -> str | None:
    """The most urgent of ``urgencies`` by ``order`` (the config's urgencies, most urgent first); an urgency the
    config no longer has counts after every known one."""
    present = set(urgencies)
    known = [key for key in order if key in present]
    if known:
        return known[0]
    return min(present) if present else None


def waiting_days(oldest_waiting: dt.datetime | None, now: dt.datetime) -> int:
    """Whole days since ``oldest_waiting`` (0 when nothing waits or the time is in the future)."""
    if oldest_waiting is None:
        return 0
    if oldest_waiting.tzinfo is None:
        oldest_waiting = oldest_waiting.replace(tzinfo=dt.UTC)
    return max(0, (now - oldest_waiting) // dt.timedelta(days=1))


def demand_score(settings: DemandSettings, customers: Sequence[DemandCustomer], urgencies: Iterable[str],
                 order: Sequence[str], oldest_waiting: dt.datetime | None, now: dt.datetime) -> Demand:
    """The demand of an issue asked for by ``customers`` (each once) through needs of ``urgencies``, the oldest
    still waiting since ``oldest_waiting``, at ``now``; ``order`` is the config's urgency keys, most urgent
    first. The formula is this module's docstring."""
    top = most_urgent(urgencies, order)
    urgency_weight = settings.urgency_weights.get(top, settings.other_urgency_weight) if top else 0.0
    tiers = _folded_tiers(settings)
    weight = sum(tier_weight(settings, customer.tier, tiers)
                 + settings.revenue_factor * (customer.annual_revenue or 0) / settings.revenue_unit
                 for customer in customers)
    days = waiting_days(oldest_waiting, now)
    score = round(weight * urgency_weight + settings.age_factor * days, DECIMALS)
    return Demand(score=score, customers=tuple(customers),
                  revenue=sum(customer.annual_revenue or 0 for customer in customers), urgency=top,
                  oldest_waiting=oldest_waiting, waiting_days=days)


def format_score(score: float) -> str:
    """The score as written in an issue body and shown on /demand: one decimal."""
    return f"{score:.{DECIMALS}f}"
