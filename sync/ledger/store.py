"""The ledger: every table Cocreate keeps (needs, customers, people, users, history, minutes, jobs, deliveries).

SQLite (WAL) under ``COCREATE_HOME`` by default, PostgreSQL through ``COCREATE_DATABASE_URL``; the schema is
created and upgraded by the Alembic migrations in ``sync/ledger/migrations``. Every model is defined here or in
a module this one imports (``base``: the declarative base and the UTC type; ``account_models``: users, login
failures, API tokens; ``project_tables``: co-creation projects), so importing this module alone gives the whole
schema (``tests/test_layout.py`` holds it).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import (
    Mapped,
    mapped_column,
    relationship,
    validates,
)

from sync.ledger.account_models import ApiToken, LoginFailure, User  # noqa: F401 (the ledger's face)
from sync.ledger.base import Base, UtcDateTime, utcnow  # noqa: F401
from sync.ledger.engine import (  # noqa: F401
    MIGRATION_LOCK,
    make_engine,
    make_session_factory,
    migrate,
)
from sync.ledger.project_tables import (  # noqa: F401 (the schema)
    CriterionNeed,
    Project,
    ProjectCriterion,
)

_DIGITS = re.compile(r"[0-9]+")
REF_SORT_MAX = 96
"""Longest sort key: a ref has at most 32 characters, and each run of digits grows by its two-digit length."""
REF_SORT_TYPE = String(REF_SORT_MAX).with_variant(String(REF_SORT_MAX, collation="C"), "postgresql")
"""Compared byte by byte: a PostgreSQL collation for a language would pass over the dashes."""


def ref_sort_key(ref: str) -> str:
    """``ref`` as text that sorts naturally: every run of digits as its number (``N-0002`` before ``N-0012``,
    ``4`` before ``12``), letters without case. A number comes before letters, so refs that are plain numbers
    come first, then ``CS-2024-003``, then Cocreate's ``N-0001``. A run of digits becomes its length in two
    digits, then its digits without leading zeros: text comparison then orders numbers by value."""

    def number(match: re.Match) -> str:
        digits = match.group().lstrip("0") or "0"
        return f"{len(digits):02d}{digits}"

    return _DIGITS.sub(number, ref.lower())[:REF_SORT_MAX]


class Need(Base):
    """One row of the requirement collection table.

    The /needs table sorts by every column and pages to the end at 100,000 needs: each column it sorts by
    directly has an index ending in ``id``, the tie-break, so a sorted page is read off the index (on SQLite
    every index ends in the row id anyway). Category, urgency and status sort in the config's order, which no
    index knows; they sort ids alone, in memory. Search has an index of its own (``sync/ledger/search.py``).
    The ref sorts by ``ref_sort`` (:func:`ref_sort_key`), kept beside it at every write.
    """

    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_title_id", "title", "id"),
        Index("ix_needs_reporter_name_id", "reporter_name", "id"),
        Index("ix_needs_reported_at_id", "reported_at", "id"),
        Index("ix_needs_ref_sort_id", "ref_sort", "id"),
        # Sorts end in the id; each also serves the filter on its column.
        Index("ix_needs_category_id", "category", "id"),
        Index("ix_needs_urgency_id", "urgency", "id"),
        Index("ix_needs_status_id", "status", "id"),
        Index("ix_needs_customer_id", "customer", "id"),
        Index("ix_needs_owner_id", "owner", "id"),
        Index("ix_needs_issue_key_id", "issue_key", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    # Set with ``ref`` (``_ref_sort`` below), also by a Core insert that leaves it out.
    ref_sort: Mapped[str | None] = mapped_column(
        REF_SORT_TYPE, default=lambda context: ref_sort_key(context.get_current_parameters()["ref"]))
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    urgency: Mapped[str] = mapped_column(String(32))
    reporter_name: Mapped[str] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    reporter_channel: Mapped[str | None] = mapped_column(String(64))
    reported_at: Mapped[dt.datetime]
    owner: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    remarks: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str | None] = mapped_column(String(32))
    customer: Mapped[str] = mapped_column(String(200))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Where this need lives in the tracker. ``linked_to`` attaches it to an existing issue or need instead
    # of creating a new issue; ``sync_intent_at`` is written before an issue is created (crash safety).
    linked_to: Mapped[str | None] = mapped_column(String(300))
    issue_key: Mapped[str | None] = mapped_column(String(300))
    issue_url: Mapped[str | None] = mapped_column(String(500))
    sync_state: Mapped[str] = mapped_column(String(32), default="pending")
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_intent_at: Mapped[dt.datetime | None]
    synced_at: Mapped[dt.datetime | None]
    # What Cocreate last wrote, field by field: a field CS did not change since is left as R&D set it.
    synced_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A short lease so that two workers never sync one need at the same time.
    sync_lease_owner: Mapped[str | None] = mapped_column(String(64))
    sync_lease_until: Mapped[dt.datetime | None]
    # Counts the saves that changed a field CS edits (never the sync's own bookkeeping): an edit made from an
    # older version is a conflict, not a silent overwrite.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="need", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="need", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    edits: Mapped[list[NeedEdit]] = relationship(
        back_populates="need", order_by="NeedEdit.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[NeedMessage]] = relationship(
        back_populates="need", order_by="NeedMessage.id", cascade="all, delete-orphan"
    )
    releases: Mapped[list[NeedRelease]] = relationship(order_by="NeedRelease.id", cascade="all, delete-orphan",
                                                       passive_deletes=True)

    @validates("ref")
    def _ref_sort(self, _key: str, ref: str) -> str:
        self.ref_sort = ref_sort_key(ref)
        return ref


REMARKS_SORTED = 200
"""Remarks sort by their first 200 characters: remarks run to 20,000, beyond what a PostgreSQL B-tree entry
holds, and the table shows only their start."""


def remarks_sort_key():
    """The expression the table sorts remarks by; literal bounds, so that it is the indexed expression itself."""
    return func.substr(Need.remarks, literal_column("1"), literal_column(str(REMARKS_SORTED)))


Index("ix_needs_remarks_id", remarks_sort_key(), Need.id)


class Attachment(Base):
    """A screenshot CS uploaded with a need, stored under ``COCREATE_HOME/uploads``."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    tracker_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    need: Mapped[Need] = relationship(back_populates="attachments")


class StatusChange(Base):
    """One entry of a need's status history."""

    __tablename__ = "status_history"
    # The month's report reads a need's entries in time order, and the entries after a cut-off.
    __table_args__ = (
        Index("ix_status_history_need_id_at_id", "need_id", "at", "id", "status"),
        Index("ix_status_history_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    previous: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))  # cs, tracker, import, system
    actor: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    need: Mapped[Need] = relationship(back_populates="history")


class ReportMonth(Base):
    """The VOC report's figures of a closed month, kept once computed (``sync.report.cache``).

    Triggers (migration 0015) delete a month's row when a write could change its figures, whichever code
    writes: a need raised before the month's end added, removed or edited in a field the report reads, or a
    status history entry known at its end written. ``figures`` is NULL while the row holds the place of a
    computation under way."""

    __tablename__ = "report_months"
    __table_args__ = (Index("ix_report_months_month", "month", "timezone", "settings_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    timezone: Mapped[str] = mapped_column(String(64))
    # The parts of the config the figures depend on (statuses, urgencies and their SLA, categories), hashed.
    settings_key: Mapped[str] = mapped_column(String(64))
    end_at: Mapped[dt.datetime]
    token: Mapped[str] = mapped_column(String(32), unique=True)
    figures: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NeedEdit(Base):
    """One entry of a need's field history: who changed which field, when, from what to what.

    Values are kept as text (``sync.ledger.edits.as_text``) so that the history reads the same whatever the
    field's type; ``version`` is the need's version the change produced, so an editor who started from an
    older version can be shown exactly what changed since."""

    __tablename__ = "need_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(32))  # a need field, or "screenshots"
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))  # cs, api, tracker, import
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    need: Mapped[Need] = relationship(back_populates="edits")


class NeedMessage(Base):
    """One message of a need's thread: an internal note (CS only), a reply to the customer, or R&D's comment
    for the customer from the tracker.

    ``kind`` decides who reads it: ``internal`` never leaves the CS pages; ``customer`` and ``rnd`` are shown
    on the customer's status page and sent through the customer's channels. ``tracker_comment_id`` is the
    tracker comment an ``rnd`` message came from (each comment is recorded once per need), or the comment a
    mirrored reply became. ``delivery_state`` sums up its notices: sending, sent, failed, or no_channel;
    None for internal notes, which are never sent."""

    __tablename__ = "need_messages"
    __table_args__ = (UniqueConstraint("need_id", "tracker_comment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # internal, customer, rnd
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    tracker_comment_id: Mapped[str | None] = mapped_column(String(100))
    delivery_state: Mapped[str | None] = mapped_column(String(16))

    need: Mapped[Need] = relationship(back_populates="messages")


class Customer(Base):
    """A customer company, managed on ``/admin/customers`` (the YAML ``customers:`` list is loaded into it at
    start). Every need's ``customer`` is one of these keys. Its status-page link is signed with the secret key
    over ``status_token_nonce``; a new nonce revokes every earlier link. ``config_fields`` are the fields the
    file sets (re-applied at each start); ``merged_into`` names the customer a duplicate was merged into.
    Every change bumps the ``customers`` counter (:class:`Counter`), which tells each process to reload."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    channels: Mapped[list[Any]] = mapped_column(default=list)
    tier: Mapped[str | None] = mapped_column(String(32))
    annual_revenue: Mapped[int | None] = mapped_column(BigInteger)
    config_fields: Mapped[list[Any]] = mapped_column(default=list)
    merged_into: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)
    status_token_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    status_token_created_at: Mapped[dt.datetime | None]


class Counter(Base):
    """A named number bumped in the same transaction as the records it counts changes of (``customers``), so
    that every web and worker process sees with one cheap read whether its copy is still current (``customers``,
    ``people``)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Person(Base):
    """The people directory: one person's name, e-mail and tracker identities."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    jira_account_id: Mapped[str | None] = mapped_column(String(128))
    github_login: Mapped[str | None] = mapped_column(String(64))
    # The fields the YAML file sets (re-applied at every start); every other field is managed on /admin/people.
    config_fields: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)


class Job(Base):
    """The job ledger: every queued job, its attempts and the tracker's last message if it failed."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_name", "state", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(default=list)
    ref: Mapped[str | None] = mapped_column(String(300), index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """The webhook inbox: one row per tracker delivery, deduplicated by the tracker's delivery id."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # github, jira
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    issue_key: Mapped[str | None] = mapped_column(String(300), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(String(16))  # queued, ignored, unsupported
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """Something Cocreate must tell someone: a status-sync comment on an issue, or a notice to a customer
    or owner on one channel. Written in the same transaction as the status change it reports, sent by a
    job, deduplicated by ``dedupe_key``, so each is sent once even across crashes and repeated events."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # comment, customer, forward, reply, owner, escalation
    issue_key: Mapped[str | None] = mapped_column(String(300), index=True)
    need_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    customer: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))  # tracker, email, wecom, dingtalk, feishu, slack, webhook
    target: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed, refused
    # Why a row was not sent, as a key the need page words in the reader's language (``last_error`` keeps the
    # technical detail): ``not_member`` for a customer comment by someone outside the team.
    reason: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class Watermark(Base):
    """Reconcile: the newest tracker ``updated`` time already applied, per tracker."""

    __tablename__ = "watermarks"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    since: Mapped[dt.datetime]


class NeedRelease(Base):
    """A need shipped: the tracker version (Jira fixVersion, GitHub release) that delivered its issue, once per
    need and version (``sync.loop.releases``); the row is written with the customers' notices, so a repeated
    delivery or reconcile finds it and tells no one again."""

    __tablename__ = "need_releases"
    __table_args__ = (UniqueConstraint("need_id", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[str] = mapped_column(String(200))  # Jira version id, GitHub owner/repo:release id
    version_name: Mapped[str] = mapped_column(String(255))
    released_on: Mapped[dt.date | None] = mapped_column(Date)
    issue_key: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IssueDemand(Base):
    """The demand score last written to a tracker issue, with the customers it counted (``sync.loop.demand``):
    the next write happens only when either changes."""

    __tablename__ = "issue_demand"

    issue_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    customers: Mapped[list[Any]] = mapped_column(default=list)
    label: Mapped[str | None] = mapped_column(String(50))
    written_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# Meeting minutes (sync.minutes) ------------------------------------------------------------------


class MeetingMinutes(Base):
    """One meeting's minutes: when, where, who, what was said and decided, and what happens next."""

    __tablename__ = "minutes"
    # Trackers link to /minutes/<id>: an id is never reused.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(200), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    topic: Mapped[str] = mapped_column(String(200))
    meeting_date: Mapped[dt.date] = mapped_column(Date, index=True)
    meeting_time: Mapped[dt.time | None] = mapped_column(Time)
    place: Mapped[str] = mapped_column(String(200), default="")
    attendees: Mapped[list[Any]] = mapped_column(default=list)
    key_points: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    open_questions: Mapped[str] = mapped_column(Text, default="")
    # Minutes written elsewhere (Confluence, a wiki) are linked instead of copied.
    external_url: Mapped[str | None] = mapped_column(String(500))
    visibility: Mapped[str] = mapped_column(String(16), default="internal")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="minutes", order_by="ActionItem.position", cascade="all, delete-orphan")
    versions: Mapped[list[MinutesVersion]] = relationship(
        back_populates="minutes", order_by="MinutesVersion.version", cascade="all, delete-orphan")
    need_links: Mapped[list[NeedMinutes]] = relationship(
        back_populates="minutes", order_by="NeedMinutes.need_id", cascade="all, delete-orphan")

    @property
    def shared(self) -> bool:
        return self.visibility == "shared"


class NeedMinutes(Base):
    """A need discussed in a meeting: the need's page lists the minutes, the minutes list the need."""

    __tablename__ = "need_minutes"

    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    minutes: Mapped[MeetingMinutes] = relationship(back_populates="need_links")
    need: Mapped[Need] = relationship()


class ActionItem(Base):
    """One action item of a meeting (text, owner, due date) and, once requested, its tracker issue.

    Creating the issue is crash-safe like a need's: ``sync_intent_at`` is committed before the create
    call, the issue carries the marker label ``cocreate-A-<id>``, and a retry looks for it first.
    """

    __tablename__ = "action_items"
    # The id is in the marker label: never reused.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    issue_project: Mapped[str | None] = mapped_column(String(300))
    issue_key: Mapped[str | None] = mapped_column(String(300), index=True)
    issue_url: Mapped[str | None] = mapped_column(String(500))
    sync_state: Mapped[str] = mapped_column(String(32), default="none")  # none, pending, synced, retrying, failed
    sync_error: Mapped[str | None] = mapped_column(Text)
    sync_intent_at: Mapped[dt.datetime | None]
    synced_at: Mapped[dt.datetime | None]
    sync_lease_owner: Mapped[str | None] = mapped_column(String(64))
    sync_lease_until: Mapped[dt.datetime | None]
    # Done: by a person on the minutes page (``done_by`` their user name) or by the tracker when the issue was
    # closed (``done_by`` "github" or "jira"); ``done_by_tracker`` lets a reopened issue take back only its own mark.
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    done_by_tracker: Mapped[bool] = mapped_column(default=False)
    # The item of an earlier meeting of the project this one carries on (``sync.projects.meetings``): it keeps that
    # item's issue, so carrying an item never creates a second issue.
    carried_from_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    minutes: Mapped[MeetingMinutes] = relationship(back_populates="action_items")

    @property
    def ref(self) -> str:
        return f"A-{self.id}"


class MinutesVersion(Base):
    """The whole content of a minutes page as saved at one version; earlier versions are never changed."""

    __tablename__ = "minutes_versions"
    __table_args__ = (UniqueConstraint("minutes_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    edited_by: Mapped[str | None] = mapped_column(String(200))
    edited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    minutes: Mapped[MeetingMinutes] = relationship(back_populates="versions")


class NeedMerge(Base):
    """Need ``from_need`` merged into need ``into_need`` by a person (``sync.merges``): ``moved`` keeps, for
    each need that moved to the surviving issue, its issue link and status before, so an undo (``undone_at``)
    puts each back exactly. Both needs keep their own history and thread; a need with an open merge is merged."""

    __tablename__ = "need_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    into_need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    from_issue_key: Mapped[str | None] = mapped_column(String(300))
    into_issue_key: Mapped[str | None] = mapped_column(String(300))
    moved: Mapped[list[Any]] = mapped_column(default=list)
    merged_by: Mapped[str] = mapped_column(String(200))
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[dt.datetime | None]
