"""A co-creation project's risks, stated in words: a pure function of the project's figures and the date.

:func:`risk_flags` reads nothing and writes nothing: the caller gives the project, its needs, criteria and the
needs behind each, the date of its last meeting and today, and gets back :class:`RiskFlag` s (a kind a test or
template can key on, and a sentence in the reader's language, plural-aware). The thresholds are the constants
below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from plugin.need import N_

GO_LIVE_SOON_DAYS = 14
"""Within this many days of go-live, open critical or high needs and criteria not met yet are risks."""
MEETING_GRACE_DAYS = 3
"""A regular meeting is overdue this many days after the cadence says the next one was due."""
CADENCE_DAYS = {"weekly": 7, "fortnightly": 14, "monthly": 30}
"""The days between two regular meetings, per cadence."""
URGENT_LEVELS = 2
"""The most urgent configured urgencies (``urgencies[0]`` and ``[1]``: 紧急 and 高 by default) whose open needs
are a risk close to go-live."""


class Words(Protocol):
    """What the sentences are written with: ``plugin.catalogs.Catalog`` or Flask-Babel's functions."""

    def gettext(self, message: str, **values) -> str: ...

    def ngettext(self, singular: str, plural: str, num: int, **values) -> str: ...


@dataclass(frozen=True)
class RiskFlag:
    kind: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RiskInput:
    """The figures the flags are read from (the needs' urgency and whether each is closed, the criteria)."""

    status: str
    go_live: dt.date | None
    cadence: str | None
    last_meeting: dt.date | None
    started: dt.date
    open_urgent: int = 0
    """Open needs of the most urgent levels (see :data:`URGENT_LEVELS`)."""
    criteria_states: Sequence[str] = ()
    criteria_without_need: Sequence[str] = ()
    """The ``what`` of each criterion still to meet (open or not met) that no need is linked to."""
    sla_breaches: int = 0
    late_action_items: int = 0


def next_meeting_due(cadence: str | None, last_meeting: dt.date | None, started: dt.date) -> dt.date | None:
    """The day the next regular meeting was due: a cadence after the last meeting (or after the project started,
    before its first meeting); None without a cadence."""
    if cadence not in CADENCE_DAYS:
        return None
    return (last_meeting or started) + dt.timedelta(days=CADENCE_DAYS[cadence])


def meeting_overdue_since(cadence: str | None, last_meeting: dt.date | None, started: dt.date,
                          today: dt.date) -> dt.date | None:
    """The day the regular meeting became overdue (due date + grace), if it is overdue ``today``."""
    due = next_meeting_due(cadence, last_meeting, started)
    if due is None:
        return None
    overdue = due + dt.timedelta(days=MEETING_GRACE_DAYS)
    return overdue if today >= overdue else None


def risk_flags(facts: RiskInput, today: dt.date, words: Words) -> list[RiskFlag]:
    """The risks ``facts`` show on ``today``, most pressing first."""
    flags: list[RiskFlag] = []
    live = facts.status != "closed"
    unmet = sum(1 for state in facts.criteria_states if state in ("open", "not_met"))
    days = (facts.go_live - today).days if facts.go_live else None
    if live and days is not None and 0 <= days <= GO_LIVE_SOON_DAYS and facts.open_urgent:
        urgent = words.ngettext("%(num)d critical or high need", "%(num)d critical or high needs", facts.open_urgent)
        flags.append(RiskFlag("go_live_urgent_open", words.ngettext(
            "Go-live in %(num)d day with %(open)s open.", "Go-live in %(num)d days with %(open)s open.", days,
            open=urgent)))
    if live and days is not None and days <= GO_LIVE_SOON_DAYS and unmet:
        if days >= 0:
            text = words.ngettext("%(num)d day to go-live and %(open)d criteria are not met yet.",
                                  "%(num)d days to go-live and %(open)d criteria are not met yet.", days, open=unmet)
        else:
            text = words.ngettext("Go-live was %(num)d day ago and %(open)d criteria are not met.",
                                  "Go-live was %(num)d days ago and %(open)d criteria are not met.", -days,
                                  open=unmet)
        flags.append(RiskFlag("criteria_unmet", text))
    if live and days is not None and days < 0 and not unmet:  # else the criteria's flag says it already
        flags.append(RiskFlag("go_live_passed", words.ngettext(
            "Go-live was %(num)d day ago and the project is not closed.",
            "Go-live was %(num)d days ago and the project is not closed.", -days)))
    failed = sum(1 for state in facts.criteria_states if state == "not_met")
    if failed:
        flags.append(RiskFlag("criteria_failed", words.ngettext(
            "%(num)d criterion was found not met.", "%(num)d criteria were found not met.", failed)))
    overdue = meeting_overdue_since(facts.cadence, facts.last_meeting, facts.started, today) if live else None
    if overdue is not None:
        since = (today - (facts.last_meeting or facts.started)).days
        cadence = words.gettext(CADENCE_WORDS[facts.cadence])
        text = (words.ngettext("No meeting for %(num)d day although the cadence is %(cadence)s.",
                               "No meeting for %(num)d days although the cadence is %(cadence)s.", since,
                               cadence=cadence) if facts.last_meeting else
                words.ngettext("No meeting yet, %(num)d day after the start, although the cadence is %(cadence)s.",
                               "No meeting yet, %(num)d days after the start, although the cadence is "
                               "%(cadence)s.", since, cadence=cadence))
        flags.append(RiskFlag("meeting_overdue", text))
    for what in facts.criteria_without_need if live else ():
        flags.append(RiskFlag("criterion_without_need", words.gettext(
            "Criterion “%(what)s” has no need behind it.", what=what)))
    if facts.sla_breaches:
        flags.append(RiskFlag("sla_breaches", words.ngettext(
            "%(num)d need is past its SLA target.", "%(num)d needs are past their SLA target.", facts.sla_breaches)))
    if facts.late_action_items:
        flags.append(RiskFlag("action_items_late", words.ngettext(
            "%(num)d action item is past its due date.", "%(num)d action items are past their due date.",
            facts.late_action_items)))
    if live and facts.go_live is None:
        flags.append(RiskFlag("no_go_live", words.gettext("No go-live date is set.")))
    return flags


CADENCE_WORDS = {"weekly": N_("weekly"), "fortnightly": N_("fortnightly"), "monthly": N_("monthly")}
"""The cadence as the sentence says it (lower case, in the middle of a sentence)."""


def urgent_keys(urgency_keys: Sequence[str]) -> frozenset[str]:
    """The configured urgency keys whose open needs count as critical or high (:data:`URGENT_LEVELS`)."""
    return frozenset(urgency_keys[:URGENT_LEVELS])


def criteria_without_need(criteria: Sequence, linked: Mapping[int, Sequence]) -> list[str]:
    """The ``what`` of each criterion still to meet (open or not met) with no need linked to it."""
    return [c.what for c in criteria if c.state in ("open", "not_met") and not linked.get(c.id)]
