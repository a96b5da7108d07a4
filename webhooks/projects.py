"""CS pages for co-creation projects: the list, the form, one page per project with its acceptance criteria (state,
evidence, sign-off, the needs serving each) and its progress at a glance."""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from plugin.need import N_, FieldError
from plugin.settings import CHANNEL_KINDS
from sync.ledger import projects as store
from sync.ledger.project_tables import (
    CADENCES,
    CONTACT_SIDES,
    CRITERION_STATES,
    PROJECT_STATUSES,
    Project,
)
from sync.ledger.projects import (
    EvidenceFile,
    InvalidProject,
    UnknownCriterion,
    UnknownProject,
)
from sync.ledger.store import utcnow
from sync.projects.paging import pages_of
from webhooks import project_view
from webhooks.context import customers, runtime
from webhooks.project_meetings import meeting_of

bp = Blueprint("projects", __name__)

CONTACT_ROWS = 2
"""Empty emergency-contact rows the form offers beyond those filled in."""
CRITERION_ROWS = 3
"""Criterion rows the form for a new project offers."""
_ROW = re.compile(r"^(contacts|criteria)\.(\d{1,2})\.(side|name|role|channel|address|what|target|measured_by)$")
TEXT_FIELDS = ("key", "customer", "name", "goal", "status", "go_live", "cadence", "interface_name",
               "interface_role", "interface_contact", "lead", "notes")


@bp.app_context_processor
def _project_helpers() -> dict:
    return {"project_names": project_view, "project_options": _project_options, "project_of": project_of,
            "pages_of": _pages_of, "page_to": _page_to, "meeting_of": meeting_of}


def _page_to(row) -> str:
    """Who a page (an outbox row of ``sync.projects.paging``) went to, for the need page's list of notices."""
    channel = project_view.CHANNEL_NAMES.get(row.channel, row.channel)
    return gettext("emergency contact %(name)s (%(channel)s)", name=row.payload.get("contact") or "?",
                   channel=channel)


def _pages_of(ref: str) -> list:
    """Who was paged for the need ``ref`` (``sync.projects.paging``), for the need page."""
    with runtime().Session() as session:
        return pages_of(session, ref)


def project_of(record) -> Project | None:
    """The project a need or minutes record belongs to (None: none)."""
    if getattr(record, "project_id", None) is None:
        return None
    with runtime().Session() as session:
        return session.get(Project, record.project_id)


def project_label(text: str) -> str:
    """A project id as the need's field history keeps it, as its reader sees it: the project's name and key."""
    with runtime().Session() as session:
        project = session.get(Project, int(text)) if text.isdigit() else None
    return f"{project.name} ({project.key})" if project else text


def chosen_project(customer: str | None, errors: dict[str, list[str]], default=None):
    """The project the need or minutes form chose (its ``project`` field, a key; blank: none) as an id, checked
    against the record's ``customer``; a form without the field gives ``default``. A problem goes into
    ``errors`` under ``project``."""
    if "project" not in request.form:
        return default
    try:
        with runtime().Session() as session:
            return store.project_id_for(session, request.form["project"], customer)
    except InvalidProject as exc:
        errors.update(exc.by_field(gettext))
        return default


def _project_options(current_id: int | None = None) -> list:
    """For the need and minutes forms' project select: every open project, and the record's own even if closed."""
    with runtime().Session() as session:
        rows = store.list_projects(session)
    return [row for row in rows if row.status != "closed" or row.id == current_id]


def _submitted() -> tuple[dict, list[dict], list[dict]]:
    data = {name: request.form.get(name, "") for name in TEXT_FIELDS}
    rows: dict[str, dict[int, dict]] = {"contacts": {}, "criteria": {}}
    for key, value in request.form.items():
        if match := _ROW.match(key):
            rows[match.group(1)].setdefault(int(match.group(2)), {})[match.group(3)] = value
    contacts = [rows["contacts"][n] for n in sorted(rows["contacts"])]
    criteria = [row for n, row in sorted(rows["criteria"].items()) if any(v.strip() for v in row.values())]
    data["emergency_contacts"] = contacts
    return data, contacts, criteria


def _form(values: dict, contacts: list[dict], criteria: list[dict] | None, errors: dict, project=None,
          status: int = 200):
    contacts = [c for c in contacts if any((c.get(n) or "").strip() for n in ("name", "address"))]
    contacts += [{"side": "ours" if not contacts else "theirs"} for _ in range(CONTACT_ROWS)]
    if criteria is not None:
        criteria = criteria + [{} for _ in range(max(CRITERION_ROWS - len(criteria), 0))]
    return render_template("projects/form.html", values=values, contacts=contacts, criteria=criteria,
                           errors=errors, project=project, statuses=PROJECT_STATUSES, cadences=CADENCES,
                           sides=CONTACT_SIDES, channels=CHANNEL_KINDS, customers=customers().active(),
                           people=runtime().people().records), status


def _errors(exc: InvalidProject) -> dict[str, list[str]]:
    return exc.by_field(gettext)


# The list and the form -----------------------------------------------------------------------------------


@bp.route("/projects")
@login_required
def index():
    with runtime().Session() as session:
        rows = store.list_projects(session, customer=request.args.get("customer") or None)
        counts = {row.id: store.project_counts(session, row.id) for row in rows}
        flags = {row.id: len(project_view.summarise(runtime().settings, session, row).risk_flags) for row in rows}
    today = utcnow().date()
    return render_template("projects/list.html", rows=rows, counts=counts, flags=flags,
                           days={row.id: store.days_to_go_live(row, today) for row in rows})


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "POST":
        data, contacts, criteria = _submitted()
        try:
            project = store.add_project(runtime(), data, actor=current_user.name, criteria=criteria)
        except InvalidProject as exc:
            return _form(data, contacts, criteria, _errors(exc), status=400)
        flash(gettext("Project %(name)s created.", name=project.name), "success")
        return redirect(url_for("projects.detail", key=project.key))
    values = {name: "" for name in TEXT_FIELDS} | {"status": "planning",
                                                   "customer": request.args.get("customer", "")}
    return _form(values, [], [], {})


def _load(key: str):
    try:
        with runtime().Session() as session:
            return store.get_project(session, key)
    except UnknownProject:
        abort(404)


@bp.route("/projects/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key: str):
    project = _load(key)
    if request.method == "POST":
        data, contacts, _ = _submitted()
        data.pop("key")
        try:
            store.edit_project(runtime(), key, data)
        except InvalidProject as exc:
            return _form(data | {"key": key}, contacts, None, _errors(exc), project, status=400)
        flash(gettext("Project %(name)s saved.", name=data["name"]), "success")
        return redirect(url_for("projects.detail", key=key))
    values = {name: getattr(project, name) or "" for name in TEXT_FIELDS}
    values["go_live"] = project.go_live.isoformat() if project.go_live else ""
    return _form(values, list(project.emergency_contacts or []), None, {}, project)


# The page -------------------------------------------------------------------------------------------------


def _page(key: str, errors: dict | None = None, failed: int | None = None, status: int = 200):
    rt = runtime()
    try:
        with rt.Session() as session:
            project = store.get_project(session, key)
            summary = project_view.summarise(rt.settings, session, project)
    except UnknownProject:
        abort(404)
    return render_template("projects/detail.html", project=project, summary=summary, settings=rt.settings,
                           states=CRITERION_STATES, errors=errors or {}, failed=failed,
                           customer=customers().get(project.customer),
                           risk_flags=summary.risk_flags, open_action_items=summary.open_action_items), status


@bp.route("/projects/<key>")
@login_required
def detail(key: str):
    return _page(key)


@bp.route("/projects/<key>/criteria", methods=["POST"])
@login_required
def add_criterion(key: str):
    _load(key)
    try:
        criterion = store.add_criterion(runtime(), key, request.form)
    except InvalidProject as exc:
        return _page(key, _errors(exc), failed=0, status=400)
    flash(gettext("Criterion added."), "success")
    return redirect(url_for("projects.detail", key=key, _anchor=f"criterion-{criterion.id}"))


def _criterion_action(key: str, criterion_id: int, action):
    _load(key)
    try:
        action()
    except UnknownCriterion:
        abort(404)
    except InvalidProject as exc:
        return _page(key, _errors(exc), failed=criterion_id, status=400)
    return redirect(url_for("projects.detail", key=key, _anchor=f"criterion-{criterion_id}"))


@bp.route("/projects/<key>/criteria/<int:criterion_id>", methods=["POST"])
@login_required
def edit_criterion(key: str, criterion_id: int):
    def action():
        store.edit_criterion(runtime(), key, criterion_id, request.form)
        flash(gettext("Criterion saved."), "success")
    return _criterion_action(key, criterion_id, action)


@bp.route("/projects/<key>/criteria/<int:criterion_id>/state", methods=["POST"])
@login_required
def criterion_state(key: str, criterion_id: int):
    upload = request.files.get("evidence_file")
    evidence = (EvidenceFile(upload.filename, upload.read(), upload.mimetype)
                if upload is not None and upload.filename else None)

    def action():
        store.set_criterion_state(
            runtime(), key, criterion_id, current_user.name, request.form.get("state", ""),
            evidence_text=request.form.get("evidence_text", ""), evidence_url=request.form.get("evidence_url", ""),
            evidence_file=evidence, evidence_shared=request.form.get("evidence_shared") == "1",
            sign_off=request.form.get("sign_off") == "1")
        flash(gettext("Criterion state saved."), "success")
    return _criterion_action(key, criterion_id, action)


@bp.route("/projects/<key>/criteria/<int:criterion_id>/needs", methods=["POST"])
@login_required
def link_needs(key: str, criterion_id: int):
    refs = [ref.upper() for ref in re.split(r"[\s,，、]+", request.form.get("refs", "")) if ref]

    def action():
        if request.form.get("unlink"):
            store.unlink_need(runtime(), key, criterion_id, request.form["unlink"])
            flash(gettext("%(ref)s unlinked.", ref=request.form["unlink"]), "success")
            return
        if not refs:
            raise InvalidProject([FieldError("needs", N_("Give at least one need ref."))])
        added = store.link_needs(runtime(), key, criterion_id, refs)
        flash(gettext("Linked: %(refs)s.", refs=", ".join(added)) if added
              else gettext("These needs were linked already."), "success" if added else "info")
    return _criterion_action(key, criterion_id, action)


@bp.route("/projects/<key>/criteria/<int:criterion_id>/evidence")
@login_required
def evidence(key: str, criterion_id: int):
    project = _load(key)
    criterion = next((c for c in project.criteria if c.id == criterion_id), None)
    if criterion is None or not criterion.evidence_stored_name:
        abort(404)
    response = send_file(runtime().uploads / criterion.evidence_stored_name,
                         mimetype=criterion.evidence_content_type, as_attachment=True,
                         download_name=criterion.evidence_file_name or "evidence")
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
