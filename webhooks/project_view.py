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
    open_action_items,
    project_counts,
    project_needs,
)
from sync.ledger.store import ActionItem, Need, utcnow
from sync.sla import LiveState, live_state

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

GO_LIVE_SOON_DAYS = 14
"""Within this many days of go-live, criteria still open are a risk the page states."""


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
    risk_flags: list[str] = field(default_factory=list)


def summarise(settings, session: Session, project: Project, now: dt.datetime | None = None) -> ProjectSummary:
    """The project's progress at a glance, ``now`` deciding SLA breaches and days to go-live."""
    now = now or utcnow()
    needs = project_needs(session, project.id)
    breaches = [Breach(need, state) for need in needs if (state := live_state(settings, need, now)).overdue]
    summary = ProjectSummary(
        counts=project_counts(session, project.id), days_to_go_live=days_to_go_live(project, now.date()),
        needs=needs, breaches=breaches, criterion_needs=criterion_needs(session, [c.id for c in project.criteria]),
        open_action_items=open_action_items(session, project.id))
    summary.risk_flags = risk_flags(project, summary, now.date())
    return summary


def risk_flags(project: Project, summary: ProjectSummary, today: dt.date) -> list[str]:
    """The risks the figures show, each stated in words in the reader's language."""
    flags = []
    unmet = [c for c in project.criteria if c.state in ("open", "not_met")]
    days = summary.days_to_go_live
    if project.status != "closed" and days is not None and days < 0 and unmet:
        flags.append(ngettext("Go-live was %(num)d day ago and %(open)d criteria are not met.",
                              "Go-live was %(num)d days ago and %(open)d criteria are not met.", -days,
                              open=len(unmet)))
    elif project.status != "closed" and days is not None and days <= GO_LIVE_SOON_DAYS and unmet:
        flags.append(ngettext("%(num)d day to go-live and %(open)d criteria are not met yet.",
                              "%(num)d days to go-live and %(open)d criteria are not met yet.", days,
                              open=len(unmet)))
    failed = [c for c in project.criteria if c.state == "not_met"]
    if failed:
        flags.append(ngettext("%(num)d criterion was found not met.", "%(num)d criteria were found not met.",
                              len(failed)))
    if summary.breaches:
        flags.append(ngettext("%(num)d need is past its SLA target.", "%(num)d needs are past their SLA target.",
                              len(summary.breaches)))
    late = [item for item in summary.open_action_items if item.due_date is not None and item.due_date < today]
    if late:
        flags.append(ngettext("%(num)d action item is past its due date.",
                              "%(num)d action items are past their due date.", len(late)))
    if project.go_live is None and project.status != "closed":
        flags.append(gettext("No go-live date is set."))
    return flags


def criterion_state_name(criterion: ProjectCriterion) -> str:
    return str(STATE_NAMES.get(criterion.state, criterion.state))
