"""What the project pages, the acceptance report and the customer's status page show of a co-creation project:
the names of statuses, cadences, criterion states and contact sides in the reader's language, and the project's
progress at a glance (needs by status and urgency, criteria met, days to go-live, SLA breaches, open action items,
risk flags in words)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy.orm import Session

from sync.ledger.project_tables import Project, ProjectCriterion
from sync.ledger.projects import (
    ProjectCounts,
    criterion_needs,
    days_to_go_live,
    project_counts,
    project_minutes,
    project_needs,
)
from sync.ledger.store import ActionItem, Need, utcnow
from sync.projects.meetings import unfinished
from sync.projects.risk import RiskFlag, RiskInput, criteria_without_need, urgent_keys
from sync.projects.risk import risk_flags as compute_flags
from sync.sla import LiveState, closed_statuses, live_state

STATUS_NAMES = {
    "planning": lazy_gettext("Planning"),
    "building": lazy_gettext("Building"),
    "acceptance": lazy_gettext("Acceptance"),
    "rollout": lazy_gettext("Rollout"),
    "closed": lazy_gettext("Closed"),
}
CADENCE_NAMES = {
    "weekly": lazy_gettext("Weekly"),
    "fortnightly": lazy_gettext("Fortnightly"),
    "monthly": lazy_gettext("Monthly"),
}
STATE_NAMES = {
    "open": lazy_gettext("Open"),
    "met": lazy_gettext("Met"),
    "not_met": lazy_gettext("Not met"),
    "waived": lazy_gettext("Waived"),
}
SIDE_NAMES = {"ours": lazy_gettext("Ours"), "theirs": lazy_gettext("Theirs")}
CHANNEL_NAMES = {
    "email": lazy_gettext("E-mail"),
    "wecom": lazy_gettext("WeCom"),
    "dingtalk": lazy_gettext("DingTalk"),
    "feishu": lazy_gettext("Feishu"),
    "slack": lazy_gettext("Slack"),
    "webhook": lazy_gettext("Webhook"),
}

@dataclass
class Breach:
    need: Need
    state: LiveState


@dataclass
class ProjectSummary:
    """The project page's figures; ``risk_flags`` and ``open_action_items`` are the lists its two sections show."""

    counts: ProjectCounts
    days_to_go_live: int | None
    needs: list[Need]
    breaches: list[Breach]
    criterion_needs: dict[int, list[Need]]
    open_action_items: list[ActionItem] = field(default_factory=list)
    risk_flags: list[RiskFlag] = field(default_factory=list)


def summarise(settings, session: Session, project: Project, now: dt.datetime | None = None) -> ProjectSummary:
    """The project's progress at a glance, ``now`` deciding SLA breaches and days to go-live."""
    now = now or utcnow()
    needs = project_needs(session, project.id)
    breaches = [Breach(need, state) for need in needs if (state := live_state(settings, need, now)).overdue]
    summary = ProjectSummary(
        counts=project_counts(session, project.id), days_to_go_live=days_to_go_live(project, now.date()),
        needs=needs, breaches=breaches, criterion_needs=criterion_needs(session, [c.id for c in project.criteria]),
        open_action_items=unfinished(session, project.id))
    summary.risk_flags = risk_flags(settings, session, project, summary, now.date())
    return summary


class _Words:
    """Flask-Babel's functions as the ``Words`` the risk flags are written with (the request's language)."""

    gettext = staticmethod(gettext)
    ngettext = staticmethod(ngettext)


def risk_flags(settings, session: Session, project: Project, summary: ProjectSummary,
               today: dt.date) -> list[RiskFlag]:
    """The risks the figures show, each stated in words in the reader's language (``sync.projects.risk``)."""
    closed, urgent = closed_statuses(settings), urgent_keys([u.key for u in settings.urgencies])
    minutes = project_minutes(session, project.id)
    facts = RiskInput(
        status=project.status, go_live=project.go_live, cadence=project.cadence,
        last_meeting=minutes[0].meeting_date if minutes else None, started=project.created_at.date(),
        open_urgent=sum(1 for need in summary.needs if need.urgency in urgent and need.status not in closed),
        criteria_states=[c.state for c in project.criteria],
        criteria_without_need=criteria_without_need(project.criteria, summary.criterion_needs),
        sla_breaches=len(summary.breaches),
        late_action_items=sum(1 for item in summary.open_action_items
                              if item.due_date is not None and item.due_date < today))
    return compute_flags(facts, today, _Words())


def criterion_state_name(criterion: ProjectCriterion) -> str:
    return str(STATE_NAMES.get(criterion.state, criterion.state))
