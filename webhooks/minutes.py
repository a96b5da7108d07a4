"""CS pages for meeting minutes: the list, the form, one page per meeting, import, export and print."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone, gettext, lazy_gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from sync.ledger.store import ActionItem, MeetingMinutes, Need
from sync.minutes import action_items, files, records
from sync.minutes.records import InvalidMinutes, MinutesConflict, parse_date
from webhooks.context import customers as customer_book
from webhooks.context import runtime
from webhooks.project_meetings import seeded
from webhooks.projects import project_of

bp = Blueprint("minutes", __name__)

PAGE_SIZE = 50
BLANK_ROWS = 3
"""Empty action-item rows the form offers beyond those already filled in."""
_ROW_FIELD = re.compile(r"^action_items\.(\d{1,3})\.(text|owner|due_date|id|carried)$")
TEXT_FIELDS = ("customer", "topic", "date", "time", "place", "attendees", "key_points", "decisions",
               "open_questions", "needs", "visibility", "external_url", "project")

FIELD_NAMES = {
    "customer": lazy_gettext("Customer"),
    "topic": lazy_gettext("Topic"),
    "date": lazy_gettext("Date"),
    "time": lazy_gettext("Time"),
    "place": lazy_gettext("Place"),
    "attendees": lazy_gettext("Attendees"),
    "key_points": lazy_gettext("Key points"),
    "decisions": lazy_gettext("Decisions"),
    "open_questions": lazy_gettext("Open questions"),
    "action_items": lazy_gettext("Action items"),
    "needs": lazy_gettext("Linked needs"),
    "visibility": lazy_gettext("Visibility"),
    "external_url": lazy_gettext("External page"),
    "text": lazy_gettext("Action"),
    "owner": lazy_gettext("Owner"),
    "due_date": lazy_gettext("Due date"),
    "id": lazy_gettext("Row"),
    "version": lazy_gettext("Version"),
    "file": lazy_gettext("File"),
    "project": lazy_gettext("Project"),
}
"""How a field is named in messages, for errors shown away from their input (an import file)."""

VISIBILITY_NAMES = {
    "internal": lazy_gettext("Internal"),
    "shared": lazy_gettext("Shared with the customer"),
}

ITEM_STATES = {
    "none": lazy_gettext("no issue"),
    "pending": lazy_gettext("queued"),
    "synced": lazy_gettext("created"),
    "retrying": lazy_gettext("retrying"),
    "failed": lazy_gettext("failed"),
}


def field_name(key: str) -> str:
    """``action_items.2.owner`` -> "Action item 2 · Owner"; an unknown key is shown as written."""
    parts = key.split(".")
    if parts[0] == "action_items" and len(parts) >= 2 and parts[1].isdigit():
        name = gettext("Action item %(num)s", num=parts[1])
        if len(parts) > 2:
            name += " · " + str(FIELD_NAMES.get(parts[2], parts[2]))
        return name
    return str(FIELD_NAMES.get(key, key))


def _today() -> dt.date:
    """Today where the reader is: a due date is in the past by the reader's calendar."""
    return dt.datetime.now(get_timezone()).date()


@bp.app_context_processor
def _minutes_helpers() -> dict:
    return {"minutes_of_need": _minutes_of_need, "visibility_names": VISIBILITY_NAMES}


def _minutes_of_need(need_id: int) -> list[MeetingMinutes]:
    """For the need's page (``minutes/_need_minutes.html``): the minutes the need was discussed in."""
    with runtime().Session() as session:
        return records.minutes_for_need(session, need_id)


# The list -----------------------------------------------------------------------------------------


@bp.route("/minutes")
@login_required
def index():
    rt = runtime()
    customer = request.args.get("customer", "").strip()
    date_from = parse_date(request.args.get("from", ""))
    date_to = parse_date(request.args.get("to", ""))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    query = select(MeetingMinutes)
    if customer:
        query = query.where(MeetingMinutes.customer == customer)
    if date_from:
        query = query.where(MeetingMinutes.meeting_date >= date_from)
    if date_to:
        query = query.where(MeetingMinutes.meeting_date <= date_to)
    with rt.Session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(page, pages)
        rows = session.scalars(
            query.options(selectinload(MeetingMinutes.action_items), selectinload(MeetingMinutes.need_links))
            .order_by(MeetingMinutes.meeting_date.desc(), MeetingMinutes.id.desc())
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        customers = sorted(set(session.scalars(select(MeetingMinutes.customer).distinct()))
                           | {item.key for item in customer_book().active()})
    filters = {"customer": customer, "from": date_from.isoformat() if date_from else "",
               "to": date_to.isoformat() if date_to else ""}
    return render_template("minutes/list.html", rows=rows, total=total, page=page, pages=pages, filters=filters,
                           customers=customers, args={key: value for key, value in filters.items() if value})


# Writing ------------------------------------------------------------------------------------------


def _submitted() -> tuple[dict, list[dict]]:
    """The form as ``validate_minutes`` takes it, and the action-item rows as submitted (numbered from 1)."""
    data = {name: request.form.get(name, "") for name in TEXT_FIELDS}
    rows: dict[int, dict] = {}
    for key, value in request.form.items():
        match = _ROW_FIELD.match(key)
        if match and int(match.group(1)) >= 1:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    ordered = [rows.get(number, {}) for number in range(1, max(rows, default=0) + 1)]
    data["action_items"] = ordered
    return data, ordered


def _values_of(minutes: MeetingMinutes) -> tuple[dict, list[dict]]:
    values = {
        "customer": minutes.customer, "topic": minutes.topic, "date": minutes.meeting_date.isoformat(),
        "time": minutes.meeting_time.strftime("%H:%M") if minutes.meeting_time else "", "place": minutes.place,
        "attendees": "\n".join(minutes.attendees or []), "key_points": minutes.key_points,
        "decisions": minutes.decisions, "open_questions": minutes.open_questions,
        "needs": ", ".join(link.need.ref for link in minutes.need_links), "visibility": minutes.visibility,
        "external_url": minutes.external_url or "", "project": project_of(minutes).key if minutes.project_id else "",
    }
    rows = [{"id": str(item.id), "text": item.text, "owner": item.owner,
             "due_date": item.due_date.isoformat() if item.due_date else "", "issue_key": item.issue_key}
            for item in minutes.action_items]
    return values, rows


def _form_page(template_values: dict, rows: list[dict], errors: dict, minutes: MeetingMinutes | None = None,
               status: int = 200):
    rt = runtime()
    with rt.Session() as session:
        recent = session.scalars(select(Need).order_by(Need.id.desc()).limit(200)).all()
    while rows and not any(rows[-1].get(name) for name in ("text", "owner", "due_date", "id")):
        rows = rows[:-1]  # the form's own empty rows come back as submitted: offer fresh ones instead
    rows = rows + [{} for _ in range(BLANK_ROWS)]
    shown = set(TEXT_FIELDS) | {f"action_items.{number}.{name}" for number in range(1, len(rows) + 1)
                                for name in ("text", "owner", "due_date")}
    elsewhere = [(field_name(key), message) for key, messages in errors.items() if key not in shown
                 for message in messages]
    return render_template("minutes/form.html", values=template_values, rows=rows, errors=errors, minutes=minutes,
                           elsewhere=elsewhere, settings=rt.settings, recent_needs=recent), status


def _warn_unassigned(checked) -> None:
    for owner in records.unassigned_owners(checked, runtime().people()):
        flash(gettext("%(owner)s is not in the people directory: the issue of an action item of theirs is "
                      "created unassigned.", owner=owner), "warning")


@bp.route("/minutes/new", methods=["GET", "POST"])
@login_required
def new():
    rt = runtime()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data, rows = _submitted()
        try:
            with rt.Session() as session:
                checked = records.validate_minutes(data, rt.settings, session, today=_today())
        except InvalidMinutes as exc:
            errors = exc.by_field(gettext)
        else:
            minutes = records.create_minutes(rt, checked, created_by=current_user.name)
            flash(gettext("Minutes saved."), "success")
            _warn_unassigned(checked)
            return redirect(url_for("minutes.detail", minutes_id=minutes.id))
        return _form_page(data, rows, errors, status=400)
    values = {name: "" for name in TEXT_FIELDS}
    values.update(date=_today().isoformat(), visibility="internal")
    ref = request.args.get("need", "").strip().upper()
    if ref:
        with rt.Session() as session:
            need = session.scalars(select(Need).where(Need.ref == ref)).one_or_none()
        if need is not None:
            values.update(needs=need.ref, customer=need.customer)
    values.update({name: request.args[name] for name in ("project", "customer") if request.args.get(name)})
    values, rows = seeded(values)
    return _form_page(values, rows, errors)


@bp.route("/minutes/<int:minutes_id>/edit", methods=["GET", "POST"])
@login_required
def edit(minutes_id: int):
    rt = runtime()
    with rt.Session() as session:
        minutes = records.load_minutes(session, minutes_id)
    if minutes is None:
        abort(404)
    if request.method == "GET":
        values, rows = _values_of(minutes)
        return _form_page(values, rows, {}, minutes)
    data, rows = _submitted()
    version = request.form.get("version", type=int) or 0
    errors: dict[str, list[str]] = {}
    try:
        with rt.Session() as session:
            # ``minutes`` came from load_minutes above: its action items are loaded and usable detached.
            checked = records.validate_minutes(data, rt.settings, session, today=_today(), existing=minutes)
        records.update_minutes(rt, minutes_id, checked, current_user.name, version)
    except InvalidMinutes as exc:
        errors = exc.by_field(gettext)
    except MinutesConflict as exc:
        errors = {"version": [gettext("Someone else saved these minutes (version %(current)d) after you opened "
                                      "them: nothing was saved. Open them again and redo your edit.",
                                      current=exc.current)]}
    else:
        flash(gettext("Minutes saved."), "success")
        _warn_unassigned(checked)
        return redirect(url_for("minutes.detail", minutes_id=minutes_id))
    issue_keys = {str(item.id): item.issue_key for item in minutes.action_items}
    for row in rows:
        row["issue_key"] = issue_keys.get(row.get("id", ""))
    return _form_page(data, rows, errors, minutes, status=409 if "version" in errors else 400)


@bp.route("/minutes/import", methods=["GET", "POST"])
@login_required
def import_file():
    rt = runtime()
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors.append((field_name("file"), gettext("Choose a .md, .yaml or .yml file.")))
        else:
            try:
                data = files.parse_minutes_file(upload.filename, upload.read())
                with rt.Session() as session:
                    checked = records.validate_minutes(data, rt.settings, session, today=_today())
            except InvalidMinutes as exc:
                errors = [(field_name(error.field), error.render(gettext)) for error in exc.errors]
            else:
                minutes = records.create_minutes(rt, checked, created_by=current_user.name)
                flash(gettext("Minutes imported from %(name)s.", name=upload.filename), "success")
                return redirect(url_for("minutes.detail", minutes_id=minutes.id))
    return render_template("minutes/import.html", errors=errors), 400 if errors else 200


# Reading ------------------------------------------------------------------------------------------


def _load(minutes_id: int) -> MeetingMinutes:
    with runtime().Session() as session:
        minutes = records.load_minutes(session, minutes_id)
    if minutes is None:
        abort(404)
    return minutes


@bp.route("/minutes/<int:minutes_id>")
@login_required
def detail(minutes_id: int):
    minutes = _load(minutes_id)
    return render_template("minutes/detail.html", minutes=minutes, history=records.history(minutes),
                           settings=runtime().settings, item_states=ITEM_STATES, field_name=field_name)


@bp.route("/minutes/<int:minutes_id>/print")
@login_required
def printable(minutes_id: int):
    return render_template("minutes/print.html", minutes=_load(minutes_id), settings=runtime().settings)


@bp.route("/minutes/<int:minutes_id>/export.md")
@login_required
def export_markdown(minutes_id: int):
    minutes = _load(minutes_id)
    text = files.minutes_markdown(minutes, runtime().settings, str(get_locale()), customer_book())
    filename = f"minutes-{minutes.id}-{minutes.meeting_date.isoformat()}.md"
    return text, 200, {"Content-Type": "text/markdown; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="{filename}"',
                       "X-Content-Type-Options": "nosniff"}


@bp.route("/minutes/customer/<customer>")
@login_required
def customer_view(customer: str):
    """What the customer's status page shows of the minutes: shared ones only, read-only."""
    with runtime().Session() as session:
        shared = records.shared_minutes_for_customer(session, customer)
    return render_template("minutes/customer.html", customer=customer, shared=shared)


# Action items -> issues ---------------------------------------------------------------------------


@bp.route("/minutes/<int:minutes_id>/issues", methods=["POST"])
@login_required
def create_issues(minutes_id: int):
    rt = runtime()
    wanted = [int(value) for value in request.form.getlist("items") if value.isdigit()]
    with rt.Session() as session:
        if session.get(MeetingMinutes, minutes_id) is None:
            abort(404)
        known = set(session.scalars(select(ActionItem.id).where(ActionItem.minutes_id == minutes_id)))
    target = url_for("minutes.detail", minutes_id=minutes_id, _anchor="action-items")
    if rt.settings.tracker is None:
        flash(gettext("No tracker is connected, so no issue can be created."), "error")
        return redirect(target)
    if not wanted or not set(wanted) <= known:
        flash(gettext("Choose at least one action item of these minutes."), "error")
        return redirect(target)
    queued = action_items.request_issues(rt, minutes_id, wanted)
    if queued:
        flash(ngettext("Creating the issue of %(num)d action item.", "Creating the issues of %(num)d action items.",
                       len(queued)), "success")
    else:
        flash(gettext("These action items already have issues."), "info")
    return redirect(target)



@bp.route("/minutes/<int:minutes_id>/action-items/<int:item_id>/done", methods=["POST"])
@login_required
def mark_done(minutes_id: int, item_id: int):
    """Mark an action item done (``done=1``) or not done (``done=0``)."""
    done = request.form.get("done") == "1"
    try:
        changed = action_items.mark_done(runtime(), minutes_id, item_id, done, current_user.name)
    except LookupError:
        abort(404)
    ref = f"A-{item_id}"
    if not changed:
        flash(gettext("%(ref)s already was so; nothing was changed.", ref=ref), "info")
    elif done:
        flash(gettext("%(ref)s marked done.", ref=ref), "success")
    else:
        flash(gettext("%(ref)s marked not done.", ref=ref), "success")
    return redirect(url_for("minutes.detail", minutes_id=minutes_id, _anchor=f"action-item-{item_id}"))
