"""Co-creation projects in the store: the checks and writes of the project pages, the API and the CLI, acceptance
criteria (state, evidence, sign-off), the needs serving a criterion, a need's or minutes record's project, and the
counts the project page shows.

A project's key is given once, at creation (``[a-z0-9][a-z0-9_-]*``, as a customer's). Needs and minutes belong to
at most one project; one with none is as it always was."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from plugin.need import N_, FieldError, InvalidInput
from plugin.settings import CHANNEL_KINDS, CUSTOMER_KEY
from sync.ledger.project_tables import (
    CADENCES,
    CONTACT_SIDES,
    CRITERION_STATES,
    PROJECT_STATUSES,
    CriterionNeed,
    Project,
    ProjectCriterion,
)
from sync.ledger.store import ActionItem, MeetingMinutes, Need, utcnow

if TYPE_CHECKING:
    from plugin.customer import CustomerBook
    from sync.runtime import Runtime

PROJECT_FIELDS = ("customer", "name", "goal", "status", "go_live", "cadence", "interface_name", "interface_role",
                  "interface_contact", "lead", "emergency_contacts", "notes")
"""The fields of a project that can be set (the key is given once, at creation)."""
CRITERION_FIELDS = ("what", "target", "measured_by", "notes")
LIMITS = {"key": 64, "customer": 200, "name": 200, "interface_name": 200, "interface_role": 200,
          "interface_contact": 320, "lead": 200, "what": 300, "target": 300, "measured_by": 300,
          "evidence_url": 500, "goal": 20_000, "notes": 20_000, "evidence_text": 20_000}
CONTACT_LIMITS = {"name": 200, "role": 200, "address": 500}
EVIDENCE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
                  "application/pdf": ".pdf", "text/plain": ".txt", "text/csv": ".csv",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}
"""The evidence files accepted, and the suffix each is stored with (the name a person gave it is kept aside)."""
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
URL = re.compile(r"https?://\S+")


class InvalidProject(InvalidInput):
    """A project's or criterion's submitted fields have problems; ``errors`` names each field with a message."""


class UnknownProject(LookupError):
    """No project has the key asked for."""

    def __init__(self, key: str):
        super().__init__(f"no project {key}")
        self.key = key


class UnknownCriterion(LookupError):
    """No criterion of the project has the id asked for."""


@dataclass(frozen=True)
class EvidenceFile:
    """An uploaded evidence file: its name as given, its bytes and the type the browser or client said."""

    filename: str
    data: bytes
    content_type: str


# Checks ---------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _date(value: Any, errors: list[FieldError], name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, N_("Not a date (YYYY-MM-DD).")))
        return None


def checked_contacts(value: Any, errors: list[FieldError]) -> list[dict[str, str]]:
    """Emergency contacts as stored: each ``{"side", "name", "role", "channel", "address"}``; rows with neither a
    name nor an address are dropped (a blank row of the form)."""
    contacts = []
    for number, row in enumerate(value or (), start=1):
        if not isinstance(row, Mapping):
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d is not an object."),
                                     {"number": number}))
            continue
        contact = {name: _text(row.get(name)) or "" for name in ("side", "name", "role", "channel", "address")}
        if not contact["name"] and not contact["address"]:
            continue
        contact["side"] = contact["side"] or "ours"
        if contact["side"] not in CONTACT_SIDES:
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d: ours or theirs."),
                                     {"number": number}))
        if not contact["name"]:
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d needs a name."),
                                     {"number": number}))
        if contact["channel"] not in CHANNEL_KINDS:
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d: the channel is one of "
                                                              "%(kinds)s."),
                                     {"number": number, "kinds": ", ".join(CHANNEL_KINDS)}))
        elif not contact["address"]:
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d needs an address on its "
                                                              "channel."), {"number": number}))
        elif contact["channel"] == "email" and "@" not in contact["address"]:
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d: not an e-mail address."),
                                     {"number": number}))
        elif contact["channel"] != "email" and not URL.fullmatch(contact["address"]):
            errors.append(FieldError("emergency_contacts", N_("Contact %(number)d: the address of a bot or "
                                                              "webhook is its https:// URL."), {"number": number}))
        for name, limit in CONTACT_LIMITS.items():
            if len(contact[name]) > limit:
                errors.append(FieldError("emergency_contacts", N_("At most %(limit)d characters."),
                                         {"limit": limit}))
        contacts.append(contact)
    return contacts


def checked_project(data: Mapping[str, Any], customers: CustomerBook, current: Project | None = None
                    ) -> dict[str, Any]:
    """The store's values for :data:`PROJECT_FIELDS` (and ``key`` for a new project) from ``data``, each checked;
    a field ``data`` leaves out keeps its current value. Raises :class:`InvalidProject` listing every problem."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    fields = PROJECT_FIELDS if current is not None else ("key", *PROJECT_FIELDS)
    for name in fields:
        if current is not None and name not in data:
            continue
        raw = data.get(name)
        if name == "emergency_contacts":
            values[name] = checked_contacts(raw, errors)
        elif name == "go_live":
            values[name] = _date(raw, errors, name)
        else:
            value = _text(raw)
            if value and name in LIMITS and len(value) > LIMITS[name]:
                errors.append(FieldError(name, N_("At most %(limit)d characters."), {"limit": LIMITS[name]}))
            values[name] = value
    if "key" in values:
        if not values["key"]:
            errors.append(FieldError("key", N_("This field is required.")))
        elif not re.fullmatch(CUSTOMER_KEY, values["key"]):
            errors.append(FieldError("key", N_("Lower-case letters, digits, - and _ (starting with a letter or "
                                               "digit).")))
    for name in ("customer", "name"):
        if name in values and not values[name]:
            errors.append(FieldError(name, N_("This field is required.")))
    if values.get("customer"):
        key = customers.resolve(values["customer"])
        if key is None:
            errors.append(FieldError("customer", N_("Unknown customer: %(name)s."), {"name": values["customer"]}))
        values["customer"] = key or values["customer"]
    if "status" in values:
        values["status"] = values["status"] or "planning"
        if values["status"] not in PROJECT_STATUSES:
            errors.append(FieldError("status", N_("Not a project status.")))
    if values.get("cadence") and values["cadence"] not in CADENCES:
        errors.append(FieldError("cadence", N_("Weekly, fortnightly or monthly.")))
    for name in ("goal", "notes"):
        if name in values:
            values[name] = values[name] or ""
    if errors:
        raise InvalidProject(errors)
    return values


def checked_criterion(data: Mapping[str, Any]) -> dict[str, str]:
    """``what`` (required), ``target``, ``measured_by`` and ``notes`` of a criterion, checked."""
    errors: list[FieldError] = []
    values = {}
    for name in CRITERION_FIELDS:
        value = _text(data.get(name)) or ""
        if len(value) > LIMITS[name]:
            errors.append(FieldError(name, N_("At most %(limit)d characters."), {"limit": LIMITS[name]}))
        values[name] = value
    if not values["what"]:
        errors.append(FieldError("what", N_("This field is required.")))
    if errors:
        raise InvalidProject(errors)
    return values


# Reading --------------------------------------------------------------------------------------------------


def get_project(session: Session, key: str) -> Project:
    """The project ``key`` with its criteria and their linked needs loaded; raises :class:`UnknownProject`."""
    project = session.scalars(select(Project).where(Project.key == key).options(
        selectinload(Project.criteria).selectinload(ProjectCriterion.need_links))).one_or_none()
    if project is None:
        raise UnknownProject(key)
    return project


def list_projects(session: Session, customer: str | None = None, open_only: bool = False) -> list[Project]:
    """Projects by go-live date (none last), then key; of one customer and/or not closed if asked."""
    query = select(Project).options(selectinload(Project.criteria))
    if customer is not None:
        query = query.where(Project.customer == customer)
    if open_only:
        query = query.where(Project.status != "closed")
    return list(session.scalars(query.order_by(Project.go_live.is_(None), Project.go_live, Project.key)))


def project_id_for(session: Session, key: str | None, customer: str | None = None, field_name: str = "project"
                   ) -> int | None:
    """The id of project ``key`` (blank: no project) for a need or minutes record of ``customer``; raises
    :class:`InvalidProject` naming ``field_name`` when there is no such project or it is another customer's."""
    key = _text(key)
    if key is None:
        return None
    project = session.scalars(select(Project).where(Project.key == key)).one_or_none()
    if project is None:
        raise InvalidProject([FieldError(field_name, N_("No project %(key)s."), {"key": key})])
    if customer is not None and project.customer != customer:
        raise InvalidProject([FieldError(field_name, N_("Project %(key)s is %(customer)s's, not this need's "
                                                        "customer's."),
                                         {"key": key, "customer": project.customer})])
    return project.id


def project_keys(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Project key by id for the ids given (a page of needs shows each need's project)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Project.id, Project.key).where(Project.id.in_(wanted)))
    return {row.id: row.key for row in rows}


def project_lookup(runtime: Runtime) -> dict[str, tuple[int, str]]:
    """Every project by its key and by its name, casefolded (a key wins over another project's name): its id
    and customer. What a table import reads a 項目 column with."""
    with runtime.Session() as session:
        rows = session.execute(select(Project.id, Project.key, Project.name, Project.customer)).all()
    found = {row.name.casefold(): (row.id, row.customer) for row in rows}
    found.update({row.key.casefold(): (row.id, row.customer) for row in rows})
    return found


def project_needs(session: Session, project_id: int) -> list[Need]:
    """The project's needs, by ref."""
    return list(session.scalars(select(Need).where(Need.project_id == project_id).order_by(Need.ref_sort)))


def project_minutes(session: Session, project_id: int) -> list[MeetingMinutes]:
    """The project's minutes, newest meeting first."""
    return list(session.scalars(select(MeetingMinutes).where(MeetingMinutes.project_id == project_id)
                                .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc())))


def open_action_items(session: Session, project_id: int) -> list[ActionItem]:
    """Action items of the project's minutes not done yet, the earliest due first (no due date last). An item
    carried over to a later meeting (the same text and owner) is listed once, as the later meeting has it."""
    items = session.scalars(
        select(ActionItem).join(MeetingMinutes).where(MeetingMinutes.project_id == project_id,
                                                      ActionItem.done_at.is_(None))
        .options(selectinload(ActionItem.minutes))
        .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc(), ActionItem.position))
    latest: dict[tuple[str, str], ActionItem] = {}
    for item in items:
        latest.setdefault((item.text.strip(), item.owner.strip()), item)
    return sorted(latest.values(), key=lambda item: (item.due_date is None, item.due_date or dt.date.min, item.id))


@dataclass
class ProjectCounts:
    """What the project page shows at a glance, counted in SQL."""

    needs: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_urgency: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    criteria: int = 0
    criteria_by_state: dict[str, int] = field(default_factory=dict)

    @property
    def criteria_met(self) -> int:
        return self.criteria_by_state.get("met", 0)


def project_counts(session: Session, project_id: int) -> ProjectCounts:
    counts = ProjectCounts()
    for column, target in ((Need.status, counts.by_status), (Need.urgency, counts.by_urgency),
                           (Need.stage, counts.by_stage)):
        for value, number in session.execute(select(column, func.count()).where(Need.project_id == project_id)
                                             .group_by(column)):
            target[value or ""] = number
    counts.needs = sum(counts.by_status.values())
    for state, number in session.execute(select(ProjectCriterion.state, func.count())
                                         .where(ProjectCriterion.project_id == project_id)
                                         .group_by(ProjectCriterion.state)):
        counts.criteria_by_state[state] = number
    counts.criteria = sum(counts.criteria_by_state.values())
    return counts


def days_to_go_live(project: Project, today: dt.date | None = None) -> int | None:
    """Days from ``today`` (UTC) to the go-live date: negative once it has passed; None without a date."""
    if project.go_live is None:
        return None
    return (project.go_live - (today or utcnow().date())).days


# Writing projects -----------------------------------------------------------------------------------------


def add_project(runtime: Runtime, data: Mapping[str, Any], actor: str | None = None,
                criteria: Iterable[Mapping[str, Any]] = ()) -> Project:
    """Store a new project from ``data`` (``key`` and :data:`PROJECT_FIELDS`) with its first ``criteria`` (each
    ``what``, ``target``, ``measured_by``); every problem of either is raised together (:class:`InvalidProject`)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    checked: list[dict[str, str]] = []
    try:
        values = checked_project(data, runtime.customers())
    except InvalidProject as exc:
        errors.extend(exc.errors)
    for number, row in enumerate(criteria, start=1):
        try:
            checked.append(checked_criterion(row if isinstance(row, Mapping) else {}))
        except InvalidProject as exc:
            errors.extend(FieldError(f"acceptance_criteria[{number}].{e.field}", e.message, e.params)
                          for e in exc.errors)
    if errors:
        raise InvalidProject(errors)
    try:
        with runtime.Session.begin() as session:
            project = Project(created_by=actor, **values)
            project.criteria = [ProjectCriterion(position=i, **row) for i, row in enumerate(checked)]
            session.add(project)
            session.flush()
            return get_project(session, project.key)
    except IntegrityError as exc:
        raise InvalidProject([FieldError("key", N_("There is already a project %(key)s."),
                                         {"key": values["key"]})]) from exc


def edit_project(runtime: Runtime, key: str, data: Mapping[str, Any]) -> Project:
    """Set the fields ``data`` gives (of :data:`PROJECT_FIELDS`); the key never changes."""
    with runtime.Session.begin() as session:
        project = get_project(session, key)
        for name, value in checked_project(data, runtime.customers(), project).items():
            setattr(project, name, value)
        session.flush()
        return project


def delete_project(runtime: Runtime, key: str) -> None:
    """Remove a project and its criteria; its needs and minutes stay, in no project."""
    with runtime.Session.begin() as session:
        project = get_project(session, key)
        session.execute(update(Need).where(Need.project_id == project.id).values(project_id=None)
                        .execution_options(synchronize_session=False))
        session.execute(update(MeetingMinutes).where(MeetingMinutes.project_id == project.id)
                        .values(project_id=None).execution_options(synchronize_session=False))
        files = [c.evidence_stored_name for c in project.criteria if c.evidence_stored_name]
        session.delete(project)
    for name in files:
        (runtime.uploads / name).unlink(missing_ok=True)


def set_need_project(runtime: Runtime, ref: str, key: str | None) -> None:
    """Put need ``ref`` in project ``key`` (None or blank: in none); the project must be the need's customer's."""
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        need.project_id = project_id_for(session, key, need.customer)


def set_minutes_project(runtime: Runtime, minutes_id: int, key: str | None) -> None:
    """Put minutes ``minutes_id`` in project ``key`` (None or blank: in none), of the minutes' customer."""
    with runtime.Session.begin() as session:
        minutes = session.get(MeetingMinutes, minutes_id)
        if minutes is None:
            raise LookupError(minutes_id)
        minutes.project_id = project_id_for(session, key, minutes.customer)


# Criteria ---------------------------------------------------------------------------------------------------


def _criterion(session: Session, key: str, criterion_id: int) -> ProjectCriterion:
    project = get_project(session, key)
    criterion = next((c for c in project.criteria if c.id == criterion_id), None)
    if criterion is None:
        raise UnknownCriterion(criterion_id)
    return criterion


def add_criterion(runtime: Runtime, key: str, data: Mapping[str, Any]) -> ProjectCriterion:
    """Add a criterion (``what``, ``target``, ``measured_by``, ``notes``) at the end of project ``key``'s list."""
    values = checked_criterion(data)
    with runtime.Session.begin() as session:
        project = get_project(session, key)
        criterion = ProjectCriterion(position=len(project.criteria), **values)
        project.criteria.append(criterion)
        session.flush()
        return criterion


def edit_criterion(runtime: Runtime, key: str, criterion_id: int, data: Mapping[str, Any]) -> ProjectCriterion:
    values = checked_criterion(data)
    with runtime.Session.begin() as session:
        criterion = _criterion(session, key, criterion_id)
        for name, value in values.items():
            setattr(criterion, name, value)
        return criterion


def remove_criterion(runtime: Runtime, key: str, criterion_id: int) -> None:
    with runtime.Session.begin() as session:
        criterion = _criterion(session, key, criterion_id)
        stored = criterion.evidence_stored_name
        session.delete(criterion)
    if stored:
        (runtime.uploads / stored).unlink(missing_ok=True)


def _checked_evidence_file(upload: EvidenceFile) -> str:
    if upload.content_type not in EVIDENCE_TYPES:
        raise InvalidProject([FieldError("evidence_file", N_("An image, a PDF, a text, CSV, xlsx or docx file."))])
    if len(upload.data) > EVIDENCE_MAX_BYTES:
        raise InvalidProject([FieldError("evidence_file", N_("At most %(limit)d MB."),
                                         {"limit": EVIDENCE_MAX_BYTES // (1024 * 1024)})])
    if not upload.data:
        raise InvalidProject([FieldError("evidence_file", N_("The file is empty."))])
    return EVIDENCE_TYPES[upload.content_type]


def set_criterion_state(runtime: Runtime, key: str, criterion_id: int, actor: str, state: str, *,
                        evidence_text: str | None = None, evidence_url: str | None = None,
                        evidence_file: EvidenceFile | None = None, evidence_shared: bool | None = None,
                        sign_off: bool = False) -> ProjectCriterion:
    """Set a criterion's state (:data:`CRITERION_STATES`) and, where given, its evidence; ``sign_off`` records
    ``actor`` and now as who signed it off when (a criterion back to ``open`` loses its sign-off). A new evidence
    file replaces the old one, which is removed once the change is committed."""
    errors: list[FieldError] = []
    if state not in CRITERION_STATES:
        errors.append(FieldError("state", N_("Open, met, not met or waived.")))
    evidence_url = _text(evidence_url) if evidence_url is not None else None
    if evidence_url and not URL.fullmatch(evidence_url):
        errors.append(FieldError("evidence_url", N_("A link starts with http:// or https://.")))
    if evidence_url and len(evidence_url) > LIMITS["evidence_url"]:
        errors.append(FieldError("evidence_url", N_("At most %(limit)d characters."),
                                 {"limit": LIMITS["evidence_url"]}))
    if sign_off and state == "open":
        errors.append(FieldError("state", N_("An open criterion cannot be signed off.")))
    suffix = None
    if evidence_file is not None:
        try:
            suffix = _checked_evidence_file(evidence_file)
        except InvalidProject as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidProject(errors)
    written: Path | None = None
    replaced = None
    try:
        with runtime.Session.begin() as session:
            criterion = _criterion(session, key, criterion_id)
            if criterion.state != state:
                criterion.state_changed_by, criterion.state_changed_at = actor, utcnow()
            criterion.state = state
            if evidence_text is not None:
                criterion.evidence_text = evidence_text.strip()
            if evidence_url is not None:
                criterion.evidence_url = evidence_url or None
            if evidence_shared is not None:
                criterion.evidence_shared = evidence_shared
            if evidence_file is not None:
                runtime.uploads.mkdir(parents=True, exist_ok=True)
                stored = f"P-{key}-{uuid.uuid4().hex}{suffix}"
                written = runtime.uploads / stored
                written.write_bytes(evidence_file.data)
                replaced = criterion.evidence_stored_name
                criterion.evidence_stored_name = stored
                criterion.evidence_file_name = (Path(evidence_file.filename).name or "evidence")[:255]
                criterion.evidence_content_type = evidence_file.content_type
                criterion.evidence_size = len(evidence_file.data)
            if state == "open":
                criterion.signed_off_by = criterion.signed_off_at = None
            elif sign_off:
                criterion.signed_off_by, criterion.signed_off_at = actor, utcnow()
            session.flush()
    except Exception:
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    if replaced:
        (runtime.uploads / replaced).unlink(missing_ok=True)
    return criterion


def link_needs(runtime: Runtime, key: str, criterion_id: int, refs: Iterable[str]) -> list[str]:
    """Link the needs ``refs`` to a criterion; each must be in the project. Returns the refs newly linked; an
    unknown ref or a need of another project is an error naming it (:class:`InvalidProject`, field ``needs``)."""
    refs = [ref.strip() for ref in refs if ref and ref.strip()]
    with runtime.Session.begin() as session:
        criterion = _criterion(session, key, criterion_id)
        needs = {need.ref: need for need in session.scalars(select(Need).where(Need.ref.in_(refs)))}
        errors = []
        for ref in refs:
            need = needs.get(ref)
            if need is None:
                errors.append(FieldError("needs", N_("No need %(ref)s."), {"ref": ref}))
            elif need.project_id != criterion.project_id:
                errors.append(FieldError("needs", N_("%(ref)s is not in this project."), {"ref": ref}))
        if errors:
            raise InvalidProject(errors)
        linked = {link.need_id for link in criterion.need_links}
        added = []
        for ref in dict.fromkeys(refs):
            if needs[ref].id not in linked:
                criterion.need_links.append(CriterionNeed(need_id=needs[ref].id))
                added.append(ref)
        return added


def unlink_need(runtime: Runtime, key: str, criterion_id: int, ref: str) -> bool:
    """Unlink need ``ref`` from a criterion; False when it was not linked."""
    with runtime.Session.begin() as session:
        criterion = _criterion(session, key, criterion_id)
        need_id = session.scalars(select(Need.id).where(Need.ref == ref)).one_or_none()
        link = next((link for link in criterion.need_links if link.need_id == need_id), None)
        if link is None:
            return False
        criterion.need_links.remove(link)
        return True


def criterion_needs(session: Session, criterion_ids: Iterable[int]) -> dict[int, list[Need]]:
    """The needs linked to each criterion (by ref), for the project page and the acceptance report."""
    found: dict[int, list[Need]] = {}
    rows = session.execute(select(CriterionNeed.criterion_id, Need).join(Need, Need.id == CriterionNeed.need_id)
                           .where(CriterionNeed.criterion_id.in_(list(criterion_ids))).order_by(Need.ref_sort))
    for criterion_id, need in rows:
        found.setdefault(criterion_id, []).append(need)
    return found
