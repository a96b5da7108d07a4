"""The co-creation projects' tables: a project (customer, goal, go-live, interface person, our lead, emergency
contacts, cadence of the regular meeting, status), its acceptance criteria, and which needs serve which criterion.

Defined on the ledger's one base and imported by ``store``, so that importing ``store`` alone still gives the whole
schema. A need and a minutes record belong to at most one project (``needs.project_id``, ``minutes.project_id``,
both nullable: a record with none is as it always was)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.ledger.base import Base, utcnow

PROJECT_STATUSES = ("planning", "building", "acceptance", "rollout", "closed")
CADENCES = ("weekly", "fortnightly", "monthly")
CRITERION_STATES = ("open", "met", "not_met", "waived")
CONTACT_SIDES = ("ours", "theirs")


class Project(Base):
    """One co-creation project with a customer.

    ``emergency_contacts`` is a list of ``{"side": "ours"|"theirs", "name", "role", "channel", "address"}``, the
    channel one of ``plugin.settings.CHANNEL_KINDS`` (email, wecom, dingtalk, feishu, slack, webhook) and the
    address an e-mail address or the bot's URL. ``lead`` is our project lead: a user's or a person's name.
    ``notes`` are internal and never shown to the customer."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    customer: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="planning")
    go_live: Mapped[dt.date | None] = mapped_column(Date)
    cadence: Mapped[str | None] = mapped_column(String(16))
    interface_name: Mapped[str | None] = mapped_column(String(200))
    interface_role: Mapped[str | None] = mapped_column(String(200))
    interface_contact: Mapped[str | None] = mapped_column(String(320))
    lead: Mapped[str | None] = mapped_column(String(200))
    emergency_contacts: Mapped[list[Any]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    criteria: Mapped[list[ProjectCriterion]] = relationship(
        back_populates="project", order_by="ProjectCriterion.position, ProjectCriterion.id",
        cascade="all, delete-orphan")


class ProjectCriterion(Base):
    """One measurable acceptance criterion: what, the target, how it is measured; its state, the evidence (text,
    a link, a file kept under the uploads folder) and who signed it off when. ``evidence_shared`` lets the
    evidence text and link show on the customer's status page; ``notes`` never do."""

    __tablename__ = "project_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(String(300))
    target: Mapped[str] = mapped_column(String(300), default="")
    measured_by: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    evidence_text: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    evidence_file_name: Mapped[str | None] = mapped_column(String(255))
    evidence_stored_name: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None] = mapped_column(Integer)
    evidence_shared: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    signed_off_by: Mapped[str | None] = mapped_column(String(200))
    signed_off_at: Mapped[dt.datetime | None]
    state_changed_by: Mapped[str | None] = mapped_column(String(200))
    state_changed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    project: Mapped[Project] = relationship(back_populates="criteria")
    need_links: Mapped[list[CriterionNeed]] = relationship(
        back_populates="criterion", order_by="CriterionNeed.need_id", cascade="all, delete-orphan")


class CriterionNeed(Base):
    """A need serving an acceptance criterion (a need may serve several, a criterion have several)."""

    __tablename__ = "criterion_needs"

    criterion_id: Mapped[int] = mapped_column(ForeignKey("project_criteria.id", ondelete="CASCADE"),
                                              primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    criterion: Mapped[ProjectCriterion] = relationship(back_populates="need_links")
