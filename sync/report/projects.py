"""The VOC report's section on co-creation projects: per project, its needs per stage, its criteria met and the
days to go-live (or since), counted in SQL.

Needs are those of the project raised up to the report's cut-off; the days are counted from the cut-off's date.
Criteria have no history, so "criteria met" is as the project stands now. Closed projects are left out unless
they went live within the report's month. The section is computed for every report (a closed month's kept
figures do not hold it): it reads one row per project and stage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from plugin.catalogs import Catalog
from plugin.need import STAGES, stage_name
from sync.ledger.project_tables import Project, ProjectCriterion
from sync.ledger.store import Need


@dataclass(frozen=True)
class ProjectFigures:
    key: str
    name: str
    customer: str
    status: str
    go_live: dt.date | None
    days_to_go_live: int | None
    """From the cut-off's date; negative once go-live has passed."""
    needs: int
    by_stage: tuple[tuple[str, int], ...]
    """``(stage, count)`` in the order of ``plugin.need.STAGES``, then needs of no stage (key ``""``)."""
    criteria_met: int
    criteria: int


def project_figures(runtime, start: dt.datetime, cutoff: dt.datetime) -> tuple[ProjectFigures, ...]:
    """The projects open at the report's cut-off (and those closed that went live within the month)."""
    first_day, last_day = start.date(), cutoff.date()
    with runtime.Session() as session:
        projects = session.scalars(
            select(Project).where(or_(Project.status != "closed",
                                      Project.go_live.between(first_day, last_day)))
            .order_by(Project.go_live.is_(None), Project.go_live, Project.key)).all()
        ids = [project.id for project in projects]
        stages: dict[int, dict[str, int]] = {}
        for project_id, stage, count in session.execute(
                select(Need.project_id, Need.stage, func.count()).where(Need.project_id.in_(ids),
                                                                        Need.reported_at <= cutoff)
                .group_by(Need.project_id, Need.stage)):
            stages.setdefault(project_id, {})[stage or ""] = count
        criteria: dict[int, tuple[int, int]] = {}
        for project_id, state, count in session.execute(
                select(ProjectCriterion.project_id, ProjectCriterion.state, func.count())
                .where(ProjectCriterion.project_id.in_(ids))
                .group_by(ProjectCriterion.project_id, ProjectCriterion.state)):
            met, total = criteria.get(project_id, (0, 0))
            criteria[project_id] = (met + (count if state == "met" else 0), total + count)
    figures = []
    for project in projects:
        counts = stages.get(project.id, {})
        order = [stage for stage in STAGES if counts.get(stage)] + [key for key in counts if key not in STAGES]
        met, total = criteria.get(project.id, (0, 0))
        figures.append(ProjectFigures(
            key=project.key, name=project.name, customer=project.customer, status=project.status,
            go_live=project.go_live,
            days_to_go_live=(project.go_live - last_day).days if project.go_live else None,
            needs=sum(counts.values()), by_stage=tuple((stage, counts[stage]) for stage in order),
            criteria_met=met, criteria=total))
    return tuple(figures)


class ProjectWords:
    """How the section words a project's figures in one language."""

    def __init__(self, words: Catalog, locale: str):
        self.words, self.locale = words, locale

    def stages(self, figures: ProjectFigures) -> str:
        if not figures.by_stage:
            return "–"
        none = self.words.gettext("No stage")
        return self.words.pgettext("punctuation", ", ").join(
            f"{stage_name(stage, self.locale) or none} {count}" for stage, count in figures.by_stage)

    def go_live(self, figures: ProjectFigures) -> str:
        days = figures.days_to_go_live
        if days is None:
            return self.words.gettext("No go-live date")
        if days == 0:
            when = self.words.gettext("today")
        elif days > 0:
            when = self.words.ngettext("in %(num)d day", "in %(num)d days", days)
        else:
            when = self.words.ngettext("%(num)d day ago", "%(num)d days ago", -days)
        return self.words.gettext("%(date)s (%(when)s)", date=figures.go_live.isoformat(), when=when)

    def line(self, figures: ProjectFigures, customer_name: str) -> str:
        """One project as a line of the CLI summary."""
        return self.words.gettext(
            "%(name)s (%(customer)s): needs %(stages)s; criteria met %(met)d/%(total)d; go-live %(go_live)s",
            name=figures.name, customer=customer_name, stages=self.stages(figures), met=figures.criteria_met,
            total=figures.criteria, go_live=self.go_live(figures))
