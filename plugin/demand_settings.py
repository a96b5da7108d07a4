"""The ``demand:`` part of the configuration: the weights of the demand score an issue with needs carries.

The formula itself is ``plugin.demand.demand_score`` (and the README, "Customer demand"); these are its numbers,
each with a documented default, so that a config without a ``demand:`` section still ranks issues sensibly.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_TIER_WEIGHTS = {"strategic": 5.0, "enterprise": 3.0, "standard": 1.0}
"""The weight of a customer of each tier when the config names none."""
DEFAULT_URGENCY_WEIGHTS = {"critical": 3.0, "high": 2.0, "medium": 1.0, "low": 0.5}
"""The weight of each of the default urgencies, by key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemandBand(_Model):
    """A band of scores on GitHub: an issue whose score is at least ``min`` (and below the next band up) carries
    ``label``."""

    label: str = Field(min_length=1, max_length=50)
    min: float = Field(ge=0)


DEFAULT_BANDS = (
    DemandBand(label="demand: high", min=20),
    DemandBand(label="demand: medium", min=8),
    DemandBand(label="demand: low", min=0),
)


class DemandSettings(_Model):
    """How the demand score is computed and where it goes.

    ``tier_weights``: customer tier -> weight (a customer with no tier, or a tier not listed, weighs
    ``other_tier_weight``). ``revenue_factor``: points per ``revenue_unit`` of a customer's annual revenue.
    ``urgency_weights``: urgency key -> the factor the most urgent need applies (an urgency not listed:
    ``other_urgency_weight``). ``age_factor``: points per whole day the oldest waiting need has waited.
    ``settled_statuses``: needs in these statuses no longer wait. ``bands``: GitHub labels by score.
    """

    tier_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TIER_WEIGHTS))
    other_tier_weight: float = Field(default=1.0, ge=0)
    revenue_factor: float = Field(default=1.0, ge=0)
    revenue_unit: int = Field(default=1_000_000, gt=0)
    urgency_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_URGENCY_WEIGHTS))
    other_urgency_weight: float = Field(default=1.0, ge=0)
    age_factor: float = Field(default=0.1, ge=0)
    settled_statuses: list[str] = Field(default_factory=lambda: ["done", "declined"])
    bands: list[DemandBand] = Field(default_factory=lambda: list(DEFAULT_BANDS))

    @model_validator(mode="after")
    def _checked(self) -> DemandSettings:
        problems = [f"tier_weights.{tier}: a weight cannot be negative"
                    for tier, weight in self.tier_weights.items() if weight < 0]
        problems += [f"urgency_weights.{key}: a weight cannot be negative"
                     for key, weight in self.urgency_weights.items() if weight < 0]
        labels = [band.label.casefold() for band in self.bands]
        problems += [f"bands: label {band.label!r} is given twice" for index, band in enumerate(self.bands)
                     if band.label.casefold() in labels[:index]]
        if problems:
            raise ValueError("\n".join(problems))
        object.__setattr__(self, "bands", sorted(self.bands, key=lambda band: -band.min))
        return self

    def unknown_keys(self, urgencies: list[str], statuses: list[str]) -> list[str]:
        """Problems (``dotted.key: message``) with the urgencies and statuses this section names that the config
        does not have; only where the file sets them (the defaults name the default urgencies and statuses)."""
        problems = []
        if "urgency_weights" in self.model_fields_set:
            problems += [f"demand.urgency_weights.{key}: there is no urgency {key} (urgencies: {', '.join(urgencies)})"
                         for key in self.urgency_weights if key not in urgencies]
        if "settled_statuses" in self.model_fields_set:
            problems += [f"demand.settled_statuses: there is no status {key} (statuses: {', '.join(statuses)})"
                         for key in self.settled_statuses if key not in statuses]
        return problems

    def band(self, score: float) -> str | None:
        """The label of the highest band ``score`` reaches; None when it reaches none."""
        return next((band.label for band in self.bands if score >= band.min), None)

    @property
    def band_labels(self) -> frozenset[str]:
        """Every band's label: the labels the sync manages (an old band's label is removed)."""
        return frozenset(band.label for band in self.bands)
