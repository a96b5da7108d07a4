"""``/api/v1/projects``: co-creation projects for any API token: create one with its acceptance criteria, list
them, read one with its criteria and its needs. Checked as the project form is (``sync.ledger.projects``)."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, url_for

from plugin.need import N_, FieldError, storable
from sync.ledger.project_tables import Project
from sync.ledger.projects import (
    PROJECT_FIELDS,
    InvalidProject,
    UnknownProject,
    add_project,
    criterion_needs,
    get_project,
    list_projects,
    project_counts,
    project_needs,
)
from webhooks.api import _error_body, _json_object, _json_type
from webhooks.auth import api_token_required
from webhooks.context import runtime

bp = Blueprint("api_projects", __name__, url_prefix="/api/v1")

CREATE_KEYS = ("key", *PROJECT_FIELDS, "acceptance_criteria")
CRITERION_KEYS = ("what", "target", "measured_by", "notes")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _project_json(project: Project) -> dict:
    return {"key": project.key, "customer": project.customer, "name": project.name, "goal": project.goal,
            "status": project.status, "go_live": _iso(project.go_live), "cadence": project.cadence,
            "interface": {"name": project.interface_name, "role": project.interface_role,
                          "contact": project.interface_contact},
            "lead": project.lead, "emergency_contacts": list(project.emergency_contacts or []),
            "created_by": project.created_by, "created_at": _iso(project.created_at),
            "updated_at": _iso(project.updated_at)}


def _full_json(session, project: Project) -> dict:
    linked = criterion_needs(session, [criterion.id for criterion in project.criteria])
    counts = project_counts(session, project.id)
    return _project_json(project) | {
        "criteria_met": counts.criteria_met,
        "acceptance_criteria": [
            {"id": c.id, "what": c.what, "target": c.target, "measured_by": c.measured_by, "state": c.state,
             "evidence_text": c.evidence_text, "evidence_url": c.evidence_url,
             "evidence_file": c.evidence_file_name, "signed_off_by": c.signed_off_by,
             "signed_off_at": _iso(c.signed_off_at), "needs": [need.ref for need in linked.get(c.id, [])]}
            for c in project.criteria],
        "needs": [{"ref": need.ref, "title": need.title, "status": need.status, "urgency": need.urgency,
                   "stage": need.stage} for need in project_needs(session, project.id)],
    }


def _shape_problems(data: dict) -> list[FieldError]:
    """What the shared check cannot see in JSON: unknown keys and values of the wrong type."""
    problems = [FieldError(str(key), N_("Unknown field.")) for key in sorted(set(data) - set(CREATE_KEYS))]
    for key in ("key", *PROJECT_FIELDS):
        value = data.get(key)
        wanted = list if key == "emergency_contacts" else str
        if value is not None and not isinstance(value, wanted):
            problems.append(FieldError(key, N_("Must be %(kind)s, not %(type)s."),
                                       {"kind": "an array" if wanted is list else "a string",
                                        "type": _json_type(value)}))
        elif isinstance(value, str) and not storable(value):
            problems.append(FieldError(key, N_("Holds a NUL character or an unpaired surrogate.")))
    criteria = data.get("acceptance_criteria")
    if criteria is not None and not isinstance(criteria, list):
        problems.append(FieldError("acceptance_criteria", N_("Must be %(kind)s, not %(type)s."),
                                   {"kind": "an array", "type": _json_type(criteria)}))
    for number, row in enumerate(criteria if isinstance(criteria, list) else [], start=1):
        if not isinstance(row, dict):
            problems.append(FieldError(f"acceptance_criteria[{number}]", N_("Must be %(kind)s, not %(type)s."),
                                       {"kind": "an object", "type": _json_type(row)}))
            continue
        problems += [FieldError(f"acceptance_criteria[{number}].{key}", N_("Unknown field."))
                     for key in sorted(set(row) - set(CRITERION_KEYS))]
        problems += [FieldError(f"acceptance_criteria[{number}].{key}", N_("Must be %(kind)s, not %(type)s."),
                                {"kind": "a string", "type": _json_type(row[key])})
                     for key in CRITERION_KEYS if row.get(key) is not None and not isinstance(row[key], str)]
    return problems


def _invalid(problems: list[FieldError]) -> Response:
    return _error_body(422, "the project has problems; each field lists its own",
                       fields=InvalidProject(problems).by_field())


@bp.post("/projects")
@api_token_required
def create_project():
    """Add a project with its first acceptance criteria."""
    data = _json_object()
    if isinstance(data, Response):
        return data
    if problems := _shape_problems(data):
        return _invalid(problems)
    fields = {key: value for key, value in data.items() if key != "acceptance_criteria"}
    try:
        project = add_project(runtime(), fields, actor=g.api_user, criteria=data.get("acceptance_criteria") or [])
    except InvalidProject as exc:
        return _invalid(exc.errors)
    with runtime().Session() as session:
        response = jsonify(_full_json(session, get_project(session, project.key)))
    response.status_code = 201
    response.headers["Location"] = url_for("api_projects.read_project", key=project.key, _external=True)
    return response


@bp.get("/projects")
@api_token_required
def list_all():
    """Every project, by go-live date."""
    with runtime().Session() as session:
        return jsonify({"items": [_project_json(project) for project in list_projects(session)]})


@bp.get("/projects/<key>")
@api_token_required
def read_project(key: str):
    """One project with its acceptance criteria (state, evidence, sign-off, the needs behind each) and its needs."""
    if not storable(key):
        return _error_body(404, "no such project")
    try:
        with runtime().Session() as session:
            return jsonify(_full_json(session, get_project(session, key)))
    except UnknownProject:
        return _error_body(404, f"no project {key}")
