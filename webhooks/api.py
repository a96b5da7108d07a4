"""The JSON API under /api/v1: file a need, read one, edit one, list them, read and write its thread; described by
/api/v1/openapi.json.

Every answer under /api/v1 is JSON, errors included (``{"error": ..., "message": ...}``), whatever HTML error
pages the rest of the app registers: see :func:`_json_error` and :func:`_routing_errors_as_json`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from importlib import resources

from flask import Blueprint, Response, abort, current_app, g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import (
    HTTPException,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    default_exceptions,
)
from werkzeug.routing import RoutingException

from plugin.need import (
    N_,
    NEED_FIELDS,
    FieldError,
    InvalidNeed,
    storable,
    validate_need,
)
from plugin.settings import Settings
from sync.bulk import FIELDS as BULK_FIELDS
from sync.bulk import FILTERS as BULK_COLUMNS
from sync.bulk import NOT_FOUND, BulkChange, BulkReport, InvalidBulk, Selection, apply_bulk, preview
from sync.intake import KEEP_PROJECT, NeedConflict, create_need, update_need
from sync.jobs.queue import database_unavailable
from sync.ledger.projects import InvalidProject, project_id_for, project_keys
from sync.ledger.search import QUERY_MAX, matching
from sync.ledger.store import Need, NeedMessage
from sync.loop.mapping import need_url
from sync.loop.thread import (
    BODY_MAX,
    WRITTEN_BY_CS,
    InvalidMessage,
    add_message,
    thread,
)
from sync.runtime import Runtime
from webhooks.auth import api_token_required
from webhooks.context import customers, runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BODY_BYTES = 1_048_576
"""Largest request body read; a need with every field at its limit, fully \\u-escaped, still fits."""
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 200
LIST_FILTERS = ("status", "customer", "category", "urgency")

ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 428: "precondition_required",
    500: "internal_error",
}
"""HTTP status -> the ``error`` value of the JSON body; statuses not listed get werkzeug's name, snake_cased."""

_CURSOR = re.compile(r"^id:([1-9][0-9]{0,17})$")  # below 2**63: SQLite integers


# Errors ----------------------------------------------------------------------------------------


def _error_body(status: int, message: str, **extra) -> Response:
    response = jsonify({"error": ERROR_CODES.get(status, "error"), "message": message, **extra})
    response.status_code = status
    return response


def _json_error(error: HTTPException, message: str | None = None) -> Response:
    """Any HTTP error as ``{"error", "message"}``, keeping its headers (``Allow`` on a 405)."""
    code = error.code or 500
    slug = ERROR_CODES.get(code) or re.sub(r"\W+", "_", (error.name or "error").lower()).strip("_")
    # A 500 carries werkzeug's generic text, never the exception that caused it.
    response = jsonify({"error": slug, "message": message or error.description or error.name})
    response.status_code = code
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response


# Flask looks for a handler by status code in every scope (blueprint, then app) before it looks by exception
# class, so an app-level HTML page for 404 would beat a blueprint handler registered for HTTPException alone.
# Registering this blueprint's handler for each status code keeps errors raised in API views JSON.
for _code_or_class in (*default_exceptions, HTTPException):
    bp.register_error_handler(_code_or_class, _json_error)


def is_api_path(path: str) -> bool:
    """Whether ``path`` is under /api/v1, where every answer is JSON."""
    return path == bp.url_prefix or path.startswith(bp.url_prefix + "/")


@bp.before_app_request
def _routing_errors_as_json():
    """Answer JSON for an unknown path or a wrong method under /api/v1.

    Such requests fail in routing, belong to no blueprint, and would reach the app-level (HTML) error
    handlers; Flask raises the routing error only after the before-request hooks, so answering here wins
    whatever handlers other parts of the app register. Redirects (``RoutingException``) pass through.
    """
    error = request.routing_exception
    if not isinstance(error, HTTPException) or isinstance(error, RoutingException) or not is_api_path(request.path):
        return None
    index = url_for("api.openapi_document")
    if isinstance(error, MethodNotAllowed):
        allowed = ", ".join(sorted(set(error.valid_methods or ()) - {"HEAD", "OPTIONS"}))
        return _json_error(error, f"{request.path} answers {allowed}, not {request.method}; see {index}")
    if isinstance(error, NotFound):
        return _json_error(error, f"no API endpoint at {request.path}; see {index}")
    return _json_error(error)


# The document -----------------------------------------------------------------------------------


@functools.cache
def _openapi_document() -> bytes:
    return resources.files("webhooks").joinpath("openapi.json").read_bytes()


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (no token needed)."""
    return Response(_openapi_document(), mimetype="application/json")


# Needs ------------------------------------------------------------------------------------------


@bp.post("/needs")
@api_token_required
def create():
    """File a need: checked like the CS form, stored, then queued for sync to the tracker."""
    data = _json_object()
    if isinstance(data, Response):
        return data
    rt = runtime()
    need_input = _checked(data, rt.settings)
    if isinstance(need_input, Response):
        return need_input
    project_id = _project_of(data, need_input.customer)
    if isinstance(project_id, Response):
        return project_id
    need = create_need(rt, need_input, created_by=g.api_user, project_id=project_id)
    response = jsonify({"ref": need.ref, "status": need.status, "url": need_url(rt.settings, need.ref),
                        "sync_state": _sync_state_now(rt, need)})
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_need", ref=need.ref, _external=True)
    return response


def _json_object() -> dict | Response:
    """The request's body as a JSON object, or the error answer saying why it is not one."""
    if not request.is_json:
        return _error_body(415, "send the need as a JSON object with 'Content-Type: application/json'")
    limit = min(MAX_BODY_BYTES, current_app.config["MAX_CONTENT_LENGTH"] or MAX_BODY_BYTES)
    # werkzeug refuses an announced Content-Length over the maximum, but stops reading a streamed (chunked)
    # body at the maximum without a word; reading one byte more tells a body at the limit from a longer one.
    request.max_content_length = limit + 1
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raw = None
    if raw is None or len(raw) > limit:
        return _error_body(413, f"the body is larger than {limit} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser goes
        return _error_body(400, f"the body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        return _error_body(400, f"the body must be a JSON object of need fields, not {_json_type(data)}")
    return data


def _checked(data: dict, settings: Settings, stored: dict | None = None):
    """The need ``validate_need`` makes of ``data`` (over the ``stored`` need's fields, for an edit), or the 422
    answer listing every field's problem."""
    problems = _value_problems(data)
    # The shared check sees only the fields that are text; each field is named once, with its first problem.
    rejected = {problem.field for problem in problems}
    sent = {key: value for key, value in data.items() if key not in rejected and key != "project"}
    need_input = None
    try:
        need_input = validate_need({**(stored or {}), **sent}, settings, customers=customers())
    except InvalidNeed as invalid:
        problems += [problem for problem in invalid.errors if problem.field not in rejected]
    if problems:
        return _error_body(422, "the need has problems; each field lists its own",
                           fields=InvalidNeed(problems).by_field())
    return need_input


def _project_of(data: dict, customer: str, default=None):
    """The id of the project ``data`` names (``project``, a key; blank or null: none; not sent: ``default``), or
    the 422 answer naming the problem."""
    if "project" not in data:
        return default
    if not isinstance(data["project"], str | None) or not storable(data["project"] or ""):
        return _error_body(422, "the need has problems; each field lists its own",
                           fields={"project": ["Must be a project's key (a string) or null."]})
    try:
        with runtime().Session() as session:
            return project_id_for(session, data["project"], customer)
    except InvalidProject as exc:
        return _error_body(422, "the need has problems; each field lists its own", fields=exc.by_field())


def _sync_state_now(rt: Runtime, need: Need) -> str:
    """The stored need's sync state now: its job may have run already (inline, or on a fast worker). Should the
    database have gone away since the commit, the state it was stored with: the need is kept, and an error now
    would make the client file it a second time."""
    try:
        with rt.Session() as session:
            return session.scalar(select(Need.sync_state).where(Need.id == need.id))
    except DBAPIError as exc:
        if not database_unavailable(exc):
            raise
        return need.sync_state


@bp.get("/needs/<ref>")
@api_token_required
def get_need(ref: str):
    """One need with its status history and attachments; its ETag is its version, for ``If-Match`` on PATCH."""
    if not storable(ref):  # no need has such a ref, and PostgreSQL refuses to even compare with a NUL
        abort(404, description=f"no need {ref!r}")
    return _need_response(ref)


def _need_response(ref: str) -> Response:
    rt = runtime()
    with rt.Session() as session:
        need = session.scalars(
            select(Need).where(Need.ref == ref).options(selectinload(Need.history), selectinload(Need.attachments))
        ).one_or_none()
        if need is None:
            abort(404, description=f"no need {ref}")
        response = jsonify(_need_json(need, rt.settings, project_keys(session, [need.project_id])))
    response.set_etag(str(need.version))
    return response


@bp.patch("/needs/<ref>")
@api_token_required
def edit_need(ref: str):
    """Change some fields of a need, from the version named by ``If-Match`` (the ETag of ``GET``); the fields not
    sent keep their values, and the whole need is checked again as at intake. A stale version is a 409 that
    lists what changed since, never an overwrite."""
    if not storable(ref):
        abort(404, description=f"no need {ref!r}")
    tags = list(request.if_match.as_set())
    # One of the versions this API gives out: a short run of digits (werkzeug reads an empty tag as None).
    if len(tags) != 1 or not re.fullmatch(r"[0-9]{1,9}", tags[0] or ""):
        return _error_body(428, "send the need's ETag from GET /api/v1/needs/{ref} as 'If-Match', so that an edit "
                                "never overwrites a change you have not seen")
    version = int(tags[0])
    data = _json_object()
    if isinstance(data, Response):
        return data
    rt = runtime()
    with rt.Session() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
    if need is None:
        abort(404, description=f"no need {ref}")
    need_input = _checked(data, rt.settings, {name: getattr(need, name) for name in NEED_FIELDS})
    if isinstance(need_input, Response):
        return need_input
    project_id = _project_of(data, need_input.customer, KEEP_PROJECT)
    if isinstance(project_id, Response):
        return project_id
    try:
        update_need(rt, ref, need_input, g.api_user, version=version, source="api", project_id=project_id)
    except NeedConflict as conflict:
        return _error_body(409, f"{ref} was changed after version {version}; GET it again and apply your edit "
                                f"to version {conflict.current}", version=conflict.current,
                           changes=[{"field": edit.field, "old": edit.old, "new": edit.new, "source": edit.source,
                                     "actor": edit.actor, "at": _iso(edit.at)} for edit in conflict.edits])
    return _need_response(ref)


@bp.get("/needs/<ref>/messages")
@api_token_required
def list_messages(ref: str):
    """The need's thread, oldest first: internal notes, replies to the customer and R&D's comments for them."""
    rt = runtime()
    with rt.Session() as session:
        need_id = session.scalar(select(Need.id).where(Need.ref == ref)) if storable(ref) else None
        if need_id is None:
            abort(404, description=f"no need {ref!r}")
        return jsonify({"items": [_message_json(message) for message in thread(session, need_id)]})


@bp.post("/needs/<ref>/messages")
@api_token_required
def post_message(ref: str):
    """Add an internal note (``kind: internal``, CS only) or a reply to the customer (``kind: customer``, sent
    through the customer's channels and shown on their status page)."""
    if not storable(ref):
        abort(404, description=f"no need {ref!r}")
    data = _json_object()
    if isinstance(data, Response):
        return data
    unknown = sorted(set(data) - {"kind", "body"})
    if unknown:
        return _error_body(422, f"unknown field {', '.join(unknown)}; send kind and body",
                           fields={name: ["unknown field"] for name in unknown})
    kind, body = data.get("kind"), data.get("body")
    fields = {}
    if kind not in WRITTEN_BY_CS:
        fields["kind"] = [f"must be one of {', '.join(WRITTEN_BY_CS)}"]
    if not isinstance(body, str) or not body.strip() or len(body.strip()) > BODY_MAX or not storable(body):
        fields["body"] = [f"must be text of 1 to {BODY_MAX} characters"]
    if fields:
        return _error_body(422, "the message was not added", fields=fields)
    try:
        message = add_message(runtime(), ref, kind, body, g.api_user)
    except LookupError:
        abort(404, description=f"no need {ref}")
    except InvalidMessage as exc:
        return _error_body(422, str(exc), fields={"body": [str(exc)]})
    response = jsonify(_message_json(message))
    response.status_code = 201
    return response


def _message_json(message: NeedMessage) -> dict:
    return {"id": message.id, "kind": message.kind, "author": message.author, "body": message.body,
            "created_at": _iso(message.created_at), "tracker_comment_id": message.tracker_comment_id,
            "delivery_state": message.delivery_state}


@bp.get("/needs")
@api_token_required
def list_needs():
    """Needs, newest first, filtered by exact values and searched by ``q`` as /needs searches; ``next_cursor``
    fetches the next page."""
    unknown = sorted(set(request.args) - {*LIST_FILTERS, "q", "limit", "cursor"})
    if unknown:
        return _error_body(400, f"unknown query parameter {', '.join(unknown)}; "
                                f"use {', '.join(LIST_FILTERS)}, q, limit, cursor")
    search = request.args.get("q", "")
    if len(search) > QUERY_MAX:
        return _error_body(400, f"q is longer than {QUERY_MAX} characters")
    limit_text = request.args.get("limit", str(LIST_LIMIT_DEFAULT))
    if not re.fullmatch(r"[0-9]{1,4}", limit_text) or not 1 <= int(limit_text) <= LIST_LIMIT_MAX:
        return _error_body(400, f"limit must be a whole number from 1 to {LIST_LIMIT_MAX}")
    limit = int(limit_text)
    query = select(Need).options(selectinload(Need.history), selectinload(Need.attachments))
    if "cursor" in request.args:
        before = _decode_cursor(request.args["cursor"])
        if before is None:
            return _error_body(400, "cursor is not one this API gave out; start again without it")
        query = query.where(Need.id < before)
    for name in LIST_FILTERS:
        values = request.args.getlist(name)
        if not all(map(storable, values)):
            return _error_body(400, f"{name} holds a NUL character or an unpaired surrogate")
        if values:
            query = query.where(getattr(Need, name).in_(values))
    rt = runtime()
    query = query.where(matching(search, rt.engine.dialect.name, customers()))
    with rt.Session() as session:
        needs = session.scalars(query.order_by(Need.id.desc()).limit(limit + 1)).all()
        projects = project_keys(session, (need.project_id for need in needs))
        items = [_need_json(need, rt.settings, projects) for need in needs[:limit]]
    next_cursor = _encode_cursor(needs[limit - 1].id) if len(needs) > limit else None
    return jsonify({"items": items, "next_cursor": next_cursor})


BULK_KEYS = ("action", "value", "note", "refs", "filter", "dry_run")
BULK_FILTERS = (*BULK_COLUMNS, "q")
"""What ``filter`` of a bulk action may hold: the filters of ``GET /needs``, the owner, and the search ``q``."""


@bp.post("/needs/bulk")
@api_token_required
def bulk_action():
    """One change for many needs, as the bulk action on /needs: set the owner, status (needs without an issue),
    category or urgency, or link them to an issue or need; chosen by ``refs`` or by ``filter`` (the filters and
    ``q`` of ``GET /needs``). ``dry_run: true`` counts what would change and writes nothing. One history entry per
    changed need; the tracker is written by sync jobs afterwards, never in this request."""
    data = _json_object()
    if isinstance(data, Response):
        return data
    asked = _bulk_asked(data)
    if isinstance(asked, Response):
        return asked
    selection, change, dry_run = asked
    rt = runtime()
    try:
        report = preview(rt, selection, change)
        if report.skipped.get(NOT_FOUND):
            unknown = _unknown_refs(selection.refs)
            return _error_body(404, f"no need has the ref {', '.join(unknown)}; nothing was changed",
                               unknown_refs=unknown)
        if not dry_run:
            report = apply_bulk(rt, selection, change, g.api_user, source="api")
    except InvalidBulk as invalid:
        error = invalid.error
        if error.field in ("field", "refs"):
            return _error_body(400, f"{error.field}: {error.render()}")
        name = "note" if error.field == "note" else "value"
        return _error_body(422, "the change was not applied to any need", fields={name: [error.render()]})
    return jsonify(_bulk_json(report))


def _bulk_asked(data: dict) -> tuple[Selection, BulkChange, bool] | Response:
    """The selection, the change and whether it is a dry run, as the body asks; or the 400 saying what is wrong
    with its shape (the values themselves are checked by ``sync.bulk``)."""
    unknown = sorted(set(data) - set(BULK_KEYS))
    if unknown:
        return _error_body(400, f"unknown field {', '.join(unknown)}; send {', '.join(BULK_KEYS)}")
    action = data.get("action")
    if action not in BULK_FIELDS:
        return _error_body(400, f"action must be one of {', '.join(BULK_FIELDS)}, not {json.dumps(action)}")
    value, note, dry_run = data.get("value"), data.get("note", ""), data.get("dry_run", False)
    if not isinstance(value, str) and not (value is None and action == "owner"):
        return _error_body(422, "the change was not applied to any need", fields={"value": [
            "must be a string (or null, for the owner: clears it)" if action == "owner" else "must be a string"]})
    if not isinstance(note, str) or (note and action != "status"):
        return _error_body(400, "note must be a string, and goes only with the action status")
    if not isinstance(dry_run, bool):
        return _error_body(400, "dry_run must be true or false")
    if ("refs" in data) == ("filter" in data):
        return _error_body(400, "choose the needs by refs (a list of refs) or by filter (an object), not both "
                                "nor neither; filter {} chooses every need")
    if "refs" in data:
        refs = data["refs"]
        if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
            return _error_body(400, "refs must be a list of refs, e.g. [\"N-0042\"]")
        selection = Selection(refs=tuple(refs))
    else:
        selection = _bulk_filter(data["filter"])
        if isinstance(selection, Response):
            return selection
    return selection, BulkChange(action, value, note), dry_run


def _bulk_filter(chosen) -> Selection | Response:
    if not isinstance(chosen, dict):
        return _error_body(400, f"filter must be an object of {', '.join(BULK_FILTERS)}")
    unknown = sorted(set(chosen) - set(BULK_FILTERS))
    if unknown:
        return _error_body(400, f"unknown filter {', '.join(unknown)}; use {', '.join(BULK_FILTERS)}")
    search = chosen.get("q", "")
    if not isinstance(search, str) or len(search) > QUERY_MAX or not storable(search):
        return _error_body(400, f"q must be text of at most {QUERY_MAX} characters")
    filters: dict[str, str | tuple[str, ...]] = {}
    for name, value in chosen.items():
        if name == "q":
            continue
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(item, str) for item in values):
            return _error_body(400, f"filter {name} must be a value or a non-empty list of values")
        if not all(map(storable, values)):
            return _error_body(400, f"filter {name} holds a NUL character or an unpaired surrogate")
        filters[name] = tuple(values)
    return Selection(filters=filters, search=search)


def _unknown_refs(refs: tuple[str, ...]) -> list[str]:
    wanted = list(dict.fromkeys(ref.strip() for ref in refs if ref.strip()))
    with runtime().Session() as session:
        known = set(session.scalars(select(Need.ref).where(Need.ref.in_(wanted))))
    return [ref for ref in wanted if ref not in known]


def _bulk_json(report: BulkReport) -> dict:
    return {
        "dry_run": report.dry_run,
        "action": report.change.field,
        "value": report.change.value,
        "selected": report.selected,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "changed_refs": report.changed_refs,
        "skipped_refs": report.skipped_refs,
        "sync_jobs": report.sync_jobs,
    }


# Helpers ------------------------------------------------------------------------------------------


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _value_problems(data: dict) -> list[FieldError]:
    """What the shared check cannot see in JSON: values that are not text."""
    problems = []
    for key in NEED_FIELDS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(FieldError(key, N_("Must be a string, not %(type)s."), {"type": _json_type(value)}))
    return problems


def _label(settings: Settings, kind: str, key: str | None) -> str | None:
    """The configured name of a status or urgency in the config's locale; the key itself if unconfigured."""
    if key is None:
        return None
    item = getattr(settings, kind)(key)
    return item.name.get(settings.locale) if item is not None else key


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _need_json(need: Need, settings: Settings, projects: dict[int, str]) -> dict:
    return {
        "ref": need.ref,
        "url": need_url(settings, need.ref),
        "category": need.category,
        "title": need.title,
        "description": need.description,
        "urgency": need.urgency,
        "urgency_label": _label(settings, "urgency", need.urgency),
        "reporter_name": need.reporter_name,
        "reporter_email": need.reporter_email,
        "reporter_channel": need.reporter_channel,
        "reported_at": _iso(need.reported_at),
        "owner": need.owner,
        "status": need.status,
        "status_label": _label(settings, "status", need.status),
        "status_changed_at": _iso(need.status_changed_at),
        "remarks": need.remarks,
        "stage": need.stage,
        "customer": need.customer,
        "project": projects.get(need.project_id),
        "linked_to": need.linked_to,
        "issue_key": need.issue_key,
        "issue_url": need.issue_url,
        "sync_state": need.sync_state,
        "sync_error": need.sync_error,
        "created_by": need.created_by,
        "created_at": _iso(need.created_at),
        "updated_at": _iso(need.updated_at),
        "version": need.version,
        "history": [
            {
                "status": change.status,
                "status_label": _label(settings, "status", change.status),
                "previous": change.previous,
                "source": change.source,
                "actor": change.actor,
                "note": change.note,
                "at": _iso(change.at),
            }
            for change in need.history
        ],
        "attachments": [
            {"id": attachment.id, "filename": attachment.filename, "content_type": attachment.content_type,
             "size": attachment.size}
            for attachment in need.attachments
        ],
    }


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    match = _CURSOR.match(text)
    return int(match.group(1)) if match else None
