"""Bulk actions: one change (owner, status, category, urgency or the issue or need they are linked to) for many
needs at once, chosen by ref or by the table's filters and search, counted before it is applied.

The needs chosen by filters are found here, on the server, however many they are. They are changed
:data:`BULK_CHUNK` at a time, each chunk in one transaction that records, per need, one field-history entry
(or, for the status, one status-history entry with the notices to tell) and queues one ``sync_needs`` job for
the needs it changed: the tracker is written by the jobs, never while the request waits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, true, update

from plugin.need import N_, NAME_MAX, NOTE_MAX, FieldError, storable
from sync.ledger.edits import change_fields
from sync.ledger.search import matching
from sync.ledger.store import Need
from sync.loop.outbound import RESUME_CHUNK, sync_state_at_intake
from sync.loop.status import set_statuses_in

if TYPE_CHECKING:
    from sync.runtime import Runtime

FIELDS = ("owner", "status", "category", "urgency", "linked_to")
"""What a bulk action sets."""
FILTERS = ("status", "urgency", "category", "customer", "owner")
"""The table's filters, each an exact match on its column."""
BULK_CHUNK = RESUME_CHUNK
"""Needs changed in one transaction, and synced by one ``sync_needs`` job."""
REFS_MAX = 1000
"""Most refs one action names one by one; more are chosen by filters."""
EXAMPLES = 50
"""Refs a report lists for each outcome (the counts are whole)."""
LINK_MAX = 300

HAS_ISSUE = "has_issue"
"""Skipped: a status set by hand, on a need whose tracker issue sets its status."""
IS_TARGET = "is_target"
"""Skipped: the need the others are linked to."""
NOT_FOUND = "not_found"
"""Skipped: a ref no need has."""

_NEED_REF = re.compile(r"^N-\d+$", re.I)  # a link to a need rather than to an issue (sync.loop.outbound)


class InvalidBulk(ValueError):
    """The action cannot be applied to any need: ``error`` says why, as a field (the value set, or ``refs``)
    and an untranslated message."""

    def __init__(self, error: FieldError):
        super().__init__(f"{error.field}: {error.render()}")
        self.error = error


@dataclass(frozen=True)
class Selection:
    """The needs an action is for: ``refs`` named one by one, else every need matching ``filters`` (column ->
    exact value, or a tuple of values any of which matches) and ``search`` (the words of the /needs search box)."""

    refs: tuple[str, ...] = ()
    filters: Mapping[str, str | tuple[str, ...]] | None = None
    search: str = ""

    @property
    def by_filter(self) -> bool:
        return self.filters is not None

    def where(self, runtime: Runtime) -> list[ColumnElement[bool]]:
        if not self.by_filter:
            return [Need.ref.in_(self.refs)]
        conditions = [getattr(Need, name) == value if isinstance(value, str) else getattr(Need, name).in_(value)
                      for name, value in self.filters.items() if name in FILTERS and value]
        return [*conditions, matching(self.search, runtime.engine.dialect.name, runtime.customers())]


@dataclass(frozen=True)
class BulkChange:
    """Set ``field`` to ``value`` (None clears the owner); ``note`` goes with a status into its history."""

    field: str
    value: str | None
    note: str = ""


@dataclass
class BulkReport:
    """What an action did, or (``dry_run``) would do: counts of the needs selected, changed, already so and
    skipped (by reason), with up to :data:`EXAMPLES` refs of each; the sync jobs it queued."""

    change: BulkChange
    dry_run: bool
    selected: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    changed_refs: list[str] = field(default_factory=list)
    skipped_refs: dict[str, list[str]] = field(default_factory=dict)
    sync_jobs: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skip(self, reason: str, refs: Sequence[str], count: int | None = None) -> None:
        count = len(refs) if count is None else count
        if not count:
            return
        self.skipped[reason] = self.skipped.get(reason, 0) + count
        shown = self.skipped_refs.setdefault(reason, [])
        shown.extend(refs[:EXAMPLES - len(shown)])

    def add_changed(self, refs: Sequence[str]) -> None:
        self.changed += len(refs)
        self.changed_refs.extend(refs[:EXAMPLES - len(self.changed_refs)])


def check_change(settings, change: BulkChange) -> BulkChange:
    """The change with its value cleaned (stripped; an empty owner is None; a need ref in capitals), checked as
    the form of one need checks that field; raises :class:`InvalidBulk`."""
    if change.field not in FIELDS:
        raise InvalidBulk(FieldError("field", N_("Choose what to change: owner, status, category, urgency or link.")))
    value = (change.value or "").strip()
    note = (change.note or "").strip()
    if not storable(value) or not storable(note):
        raise InvalidBulk(FieldError(change.field, N_("Contains a NUL character or an unpaired surrogate.")))
    if change.field == "owner":
        if len(value) > NAME_MAX:
            raise InvalidBulk(FieldError("owner", N_("At most %(limit)d characters."), {"limit": NAME_MAX}))
        return BulkChange("owner", value or None)
    if not value:
        raise InvalidBulk(FieldError(change.field, N_("This field is required.")))
    if change.field == "status":
        if settings.status(value) is None:
            raise InvalidBulk(FieldError("status", N_("Unknown status %(value)s."), {"value": value}))
        if len(note) > NOTE_MAX:
            raise InvalidBulk(FieldError("note", N_("At most %(limit)d characters."), {"limit": NOTE_MAX}))
        return BulkChange("status", value, note)
    if change.field == "category" and settings.category(value) is None:
        raise InvalidBulk(FieldError("category", N_("Unknown category %(value)s."), {"value": value}))
    if change.field == "urgency" and settings.urgency(value) is None:
        raise InvalidBulk(FieldError("urgency", N_("Unknown urgency %(value)s."), {"value": value}))
    if change.field == "linked_to":
        if len(value) > LINK_MAX:
            raise InvalidBulk(FieldError("linked_to", N_("At most %(limit)d characters."), {"limit": LINK_MAX}))
        if _NEED_REF.match(value):
            value = value.upper()
    return BulkChange(change.field, value)


def check_selection(selection: Selection) -> Selection:
    """Refs each once, at most :data:`REFS_MAX`, at least one; or filters. Raises :class:`InvalidBulk`."""
    if selection.by_filter:
        return selection
    refs = tuple(dict.fromkeys(ref.strip() for ref in selection.refs if ref.strip()))
    if not refs:
        raise InvalidBulk(FieldError("refs", N_("Select at least one need.")))
    if len(refs) > REFS_MAX:
        raise InvalidBulk(FieldError("refs", N_(
            "At most %(limit)d needs by ref; choose more by the filters."), {"limit": REFS_MAX}))
    if not all(map(storable, refs)):
        raise InvalidBulk(FieldError("refs", N_("Contains a NUL character or an unpaired surrogate.")))
    return Selection(refs=refs)


def _same(change: BulkChange) -> ColumnElement[bool]:
    """Needs that already have the value (compared as the field history keeps values: empty text as None)."""
    column = getattr(Need, change.field)
    if change.value is None:
        return or_(column.is_(None), column == "")
    return column == change.value


def _skipped(change: BulkChange) -> dict[str, ColumnElement[bool]]:
    """Reason -> the needs the change leaves alone for it."""
    if change.field == "status":
        return {HAS_ISSUE: Need.issue_key.is_not(None)}
    if change.field == "linked_to":
        return {IS_TARGET: Need.ref == change.value}
    return {}


def _skip_reason(need: Need, change: BulkChange) -> str | None:
    """:func:`_skipped` for one loaded need."""
    if change.field == "status" and need.issue_key:
        return HAS_ISSUE
    if change.field == "linked_to" and need.ref == change.value:
        return IS_TARGET
    return None


def preview(runtime: Runtime, selection: Selection, change: BulkChange) -> BulkReport:
    """What :func:`apply_bulk` would do now, counted by the database without loading the needs."""
    selection, change = check_selection(selection), check_change(runtime.settings, change)
    report = BulkReport(change, dry_run=True)
    where = and_(true(), *selection.where(runtime))
    skipped = _skipped(change)
    left = and_(where, *(not_(condition) for condition in skipped.values()))
    with runtime.Session() as session:
        report.selected = session.scalar(select(func.count(Need.id)).where(where))
        for reason, condition in skipped.items():
            count = session.scalar(select(func.count(Need.id)).where(where, condition))
            refs = session.scalars(select(Need.ref).where(where, condition).order_by(Need.id).limit(EXAMPLES)).all()
            report.skip(reason, refs, count)
        report.unchanged = session.scalar(select(func.count(Need.id)).where(left, _same(change)))
        report.changed = report.selected - report.unchanged - report.skipped_total
        report.changed_refs = list(session.scalars(select(Need.ref).where(left, not_(_same(change)))
                                                   .order_by(Need.id).limit(EXAMPLES)))
    if not selection.by_filter:
        _skip_missing(report, selection, runtime)
    return report


def _skip_missing(report: BulkReport, selection: Selection, runtime: Runtime) -> None:
    with runtime.Session() as session:
        known = set(session.scalars(select(Need.ref).where(Need.ref.in_(selection.refs))))
    report.skip(NOT_FOUND, [ref for ref in selection.refs if ref not in known])


def apply_bulk(runtime: Runtime, selection: Selection, change: BulkChange, actor: str | None, *,
               source: str = "cs") -> BulkReport:
    """Apply ``change`` to the selected needs, :data:`BULK_CHUNK` at a time (see the module's docstring);
    raises :class:`InvalidBulk` before anything is written when the change or the selection is not valid."""
    selection, change = check_selection(selection), check_change(runtime.settings, change)
    report = BulkReport(change, dry_run=False)
    with runtime.Session() as session:
        ids = list(session.scalars(select(Need.id).where(*selection.where(runtime)).order_by(Need.id)))
    report.selected = len(ids)
    for start in range(0, len(ids), BULK_CHUNK):
        jobs = _apply_chunk(runtime, ids[start:start + BULK_CHUNK], change, actor, source, report)
        runtime.queue.send(*jobs)
    if not selection.by_filter:
        _skip_missing(report, selection, runtime)
    return report


def _apply_chunk(runtime: Runtime, ids: list[int], change: BulkChange, actor: str | None, source: str,
                 report: BulkReport) -> list:
    customers = runtime.customers()  # before the transaction (the notices of a status name the customers)
    with runtime.Session.begin() as session:
        # A write first, as an edit's does (sync.intake._claim_version): it takes the rows' (on SQLite the
        # database's) write lock before they are read, so an edit saved meanwhile is seen, not overwritten.
        session.execute(update(Need).where(Need.id.in_(ids) if ids else false())
                        .values(version=Need.version, updated_at=Need.updated_at)
                        .execution_options(synchronize_session=False))
        needs = session.scalars(select(Need).where(Need.id.in_(ids)).order_by(Need.id)).all()
        skipped: dict[str, list[str]] = {}
        for need in needs:
            if reason := _skip_reason(need, change):
                skipped.setdefault(reason, []).append(need.ref)
        for reason, refs in skipped.items():
            report.skip(reason, refs)
        left = [need for need in needs if _skip_reason(need, change) is None]
        if change.field == "status":
            changed, jobs = set_statuses_in(runtime, session, left, change.value, change.note, actor,
                                            customers)
            refs = [need.ref for need in changed]
        else:
            refs = [need.ref for need in left if change_fields(
                session, need, {change.field: change.value}, source=source, actor=actor)]
            jobs = []
            if refs:
                for need in left:
                    if need.ref in refs:
                        need.sync_state = sync_state_at_intake(runtime)
                # With no tracker the needs wait for one (``resume_syncs``): no job could do anything.
                if runtime.settings.tracker is not None:
                    jobs = [runtime.queue.record(session, "sync_needs", refs)]
                    report.sync_jobs += 1
        report.add_changed(refs)
        report.unchanged += len(left) - len(refs)
    return jobs

