"""CS pages for needs: the table, the intake form and one page per need (editing it: ``webhooks.edits``)."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import format_datetime, get_timezone, gettext, lazy_gettext
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from plugin.need import InvalidNeed, stage_name, validate_need
from plugin.settings import Settings
from sync.intake import InvalidUpload, Upload, check_uploads, create_need
from sync.ledger.customers import InvalidCustomer, add_customer, new_key
from sync.ledger.search import QUERY_MAX, matching, words
from sync.ledger.store import Attachment, Job, Need, OutboxMessage, remarks_sort_key
from sync.loop.status import CHANNEL_NAMES
from sync.loop.thread import BODY_MAX, WRITTEN_BY_CS, InvalidMessage, add_message, thread
from sync.sla import live_state
from webhooks.context import customers, forget_customers, runtime
from webhooks.forms import FIELD_NAMES, MessageForm, NeedForm, StatusForm
from webhooks.highlight import highlight, snippet
from webhooks.i18n import page_locale, page_timezone
from webhooks.projects import chosen_project, project_label
from webhooks.status_page import error_page as customer_error_page
from webhooks.status_page import is_customer_path

bp = Blueprint("needs", __name__)
bp.add_app_template_filter(highlight)
bp.add_app_template_filter(snippet)

PAGE_SIZE = 50
FILTERS = ("status", "urgency", "category", "customer", "owner")
"""GET parameters of the table, each an exact match on the column of the same name."""

COLUMNS = (
    ("ref", lazy_gettext("Ref")),
    ("category", lazy_gettext("Product category")),
    ("title", lazy_gettext("Description")),
    ("screenshots", lazy_gettext("Screenshots")),
    ("urgency", lazy_gettext("Urgency")),
    ("reporter", lazy_gettext("Reporter")),
    ("reported_at", lazy_gettext("Time reported")),
    ("owner", lazy_gettext("Owner")),
    ("status", lazy_gettext("Status")),
    ("remarks", lazy_gettext("Remarks")),
    ("customer", lazy_gettext("Customer")),
    ("issue", lazy_gettext("Tracker issue")),
)
"""The table's columns in the seed's order (序號 ... 說明), then customer and tracker issue; all sortable."""

MESSAGE_KINDS = {
    "internal": lazy_gettext("Internal note"),
    "customer": lazy_gettext("Reply to the customer"),
    "rnd": lazy_gettext("From R&D"),
}
DELIVERY_STATES = {
    "sending": lazy_gettext("being sent to the customer"),
    "sent": lazy_gettext("sent to the customer"),
    "failed": lazy_gettext("could not be sent to the customer"),
    "no_channel": lazy_gettext("not sent: the customer has no channel"),
}

SOURCE_NAMES = {
    "cs": lazy_gettext("Customer success"),
    "tracker": lazy_gettext("Tracker"),
    "import": lazy_gettext("Table import"),
    "api": lazy_gettext("JSON API"),
    "system": lazy_gettext("System"),
}


def _in_config_order(column, keys: list[str]):
    """Sort by the order the config lists the keys in (紧急 before 高), unknown keys last."""
    if not keys:
        return column
    return case({key: index for index, key in enumerate(keys)}, value=column, else_=len(keys))


SCREENSHOTS = (select(Attachment.need_id, func.count(Attachment.id).label("count"))
               .group_by(Attachment.need_id).subquery("screenshots"))
"""Screenshots per need, joined only when the table sorts by them: one grouped pass over the attachments,
where a count per need would look them up 100,000 times (twice as slow on PostgreSQL)."""


def _sort_columns(settings: Settings) -> dict:
    return {
        "ref": Need.ref_sort,
        "category": _in_config_order(Need.category, [item.key for item in settings.categories]),
        "title": Need.title,
        "screenshots": func.coalesce(SCREENSHOTS.c.count, 0),
        "urgency": _in_config_order(Need.urgency, [item.key for item in settings.urgencies]),
        "reporter": Need.reporter_name,
        "reported_at": Need.reported_at,
        "owner": Need.owner,
        "status": _in_config_order(Need.status, [item.key for item in settings.statuses]),
        "remarks": remarks_sort_key(),
        "customer": Need.customer,
        "issue": Need.issue_key,
    }


class Names:
    """Turns stored keys and times into what the reader sees, in the current language."""

    def __init__(self, settings: Settings, locale: str):
        self.settings = settings
        self.locale = locale

    def category(self, key: str) -> str:
        item = self.settings.category(key)
        return item.name.get(self.locale) if item else key

    def urgency(self, key: str) -> str:
        item = self.settings.urgency(key)
        return item.name.get(self.locale) if item else key

    def urgency_level(self, key: str) -> int:
        """Position of the urgency in the config (0 = most urgent), for its colour."""
        keys = [item.key for item in self.settings.urgencies]
        return keys.index(key) if key in keys else len(keys)

    def status(self, key: str | None) -> str:
        if not key:
            return ""
        item = self.settings.status(key)
        return item.name.get(self.locale) if item else key

    def stage(self, key: str | None) -> str:
        return stage_name(key, self.locale)

    @staticmethod
    def customer(key: str) -> str:
        return customers().name(key)

    def source(self, key: str) -> str:
        return str(SOURCE_NAMES.get(key, key))

    @staticmethod
    def message_kind(kind: str) -> str:
        return str(MESSAGE_KINDS.get(kind, kind))

    @staticmethod
    def delivery(state: str) -> str:
        return str(DELIVERY_STATES.get(state, state))

    @staticmethod
    def field(name: str) -> str:
        return str(FIELD_NAMES.get(name, name))

    def value(self, name: str, text: str | None) -> str:
        """A value of the field history (stored as text) as the reader sees the field: names, local times."""
        if text is None:
            return "—"
        if name == "category":
            return self.category(text)
        if name == "urgency":
            return self.urgency(text)
        if name == "stage":
            return self.stage(text)
        if name == "customer":
            return self.customer(text)
        if name == "reported_at":
            return self.time(dt.datetime.fromisoformat(text))
        if name == "project_id":
            return project_label(text)
        return text

    @staticmethod
    def time(value: dt.datetime | None) -> str:
        return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""

    def history_actor(self, change) -> str:
        """Who made a status change: the tracker by its name, a reconcile in words, else the person."""
        return {"github": "GitHub", "jira": "Jira", "reconcile": gettext("reconcile")}.get(
            change.actor or "", change.actor or "")

    def history_note(self, change) -> str:
        """A tracker's status change said in words ("R&D closed the issue in GitHub (completed)"); other notes
        (CS's, the import's) as written."""
        if change.source != "tracker" or not change.note:
            return change.note
        kind = self.settings.tracker.kind if self.settings.tracker else None
        if change.actor in ("github", "jira"):
            kind = change.actor
        status, _slash, reason = change.note.partition("/")
        if kind == "github":
            reasons = {"completed": gettext("completed"), "not_planned": gettext("not planned")}
            if status == "closed" and reason in reasons:
                return gettext("R&D closed the issue in GitHub (%(reason)s)", reason=reasons[reason])
            if status == "closed":
                return gettext("R&D closed the issue in GitHub")
            if status == "open":
                return gettext("R&D reopened the issue in GitHub") if reason == "reopened" else \
                    gettext("The issue is open in GitHub")
        if kind == "jira":
            return gettext("R&D moved the issue to “%(status)s” in Jira", status=change.note)
        return change.note

    def delivery_state(self, row: OutboxMessage) -> str:
        """Where one comment or notice stands, in the reader's language (the technical detail is shown beside)."""
        if row.state == "refused" and row.reason == "not_member":
            return gettext("not forwarded: not a member")
        if row.state == "sent":
            return gettext("sent")
        if row.state == "failed":
            return gettext("could not be sent")
        if row.attempts:
            return gettext("being sent (will retry)")
        return gettext("being sent")

    def delivery_to(self, row: OutboxMessage) -> str:
        """Who a comment or notice is for: the issue, a customer on a channel, or an owner."""
        if row.kind == "comment":
            return gettext("comment on %(issue)s", issue=row.issue_key)
        if row.state == "refused":
            return gettext("R&D comment by %(name)s", name=row.payload.get("author") or "?")
        if row.kind in ("customer", "forward", "reply"):
            channel = gettext(CHANNEL_NAMES[row.channel]) if row.channel in CHANNEL_NAMES else row.channel
            return f"{self.customer(row.customer or '')} ({channel})"
        return gettext("owner %(name)s", name=row.payload.get("owner") or row.target)

    @staticmethod
    def sync(need: Need) -> str:
        """Where the need stands with the tracker, with the tracker's message when a sync went wrong."""
        message = need.sync_error or gettext("no message")
        if need.sync_state == "failed":
            return gettext("failed: %(message)s", message=message)
        if need.sync_state == "retrying":
            return gettext("retrying: %(message)s", message=message)
        if need.sync_state == "waiting_for_tracker":
            return gettext("waiting for tracker")
        if need.sync_state == "pending":
            return gettext("queued")
        if need.sync_state == "synced":
            return gettext("in sync")
        return need.sync_state


@bp.app_context_processor
def _page_helpers() -> dict:
    return {"names": Names(runtime().settings, page_locale()), "timezone_name": page_timezone(),
            "customer_book": customers}


# Pages -----------------------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    return redirect(url_for("needs.table"))


@bp.route("/needs")
@login_required
def table():
    rt = runtime()
    settings = rt.settings
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    search = request.args.get("q", "").strip()[:QUERY_MAX]
    sorts = _sort_columns(settings)
    sort = request.args.get("sort", "ref")
    if sort not in sorts:
        sort = "ref"
    direction = "asc" if request.args.get("dir") == "asc" else "desc"
    page = max(request.args.get("page", 1, type=int) or 1, 1)

    where = [getattr(Need, name) == value for name, value in filters.items() if value]
    where.append(matching(search, rt.engine.dialect.name, customers()))
    ids = _sorted_ids(where, sort, sorts[sort], direction)
    search_words = words(search)
    with rt.Session() as session:
        ids, total, page = _page_of_ids(session, ids, where, page, bool(search_words))
        needs = _needs_in_order(session, ids)
        options = _filter_options(session, settings, page_locale())
    args = {name: value for name, value in filters.items() if value}
    if search:
        args["q"] = search
    if sort != "ref" or direction != "desc":
        args.update(sort=sort, dir=direction)
    return render_template(
        "needs/table.html", needs=needs, total=total, page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        columns=COLUMNS, sort=sort, direction=direction, filters=filters, search=search,
        search_words=search_words, query_max=QUERY_MAX, args=args, settings=settings, **options,
    )


def _sorted_ids(where: list, sort: str, column, direction: str) -> Select:
    """The matching needs' ids in the table's order, ``id`` breaking ties in the same direction."""
    order = column.asc() if direction == "asc" else column.desc()
    tie = Need.id.asc() if direction == "asc" else Need.id.desc()
    ids = select(Need.id).where(*where).order_by(order, tie)
    if sort == "screenshots":
        ids = ids.outerjoin(SCREENSHOTS, SCREENSHOTS.c.need_id == Need.id)
    return ids


def _filter_options(session, settings: Settings, locale: str) -> dict:
    """The choices of each filter: configured values, and the customers and owners the needs name."""
    book = customers()
    named = sorted(set(session.scalars(select(Need.customer).distinct()))
                   | {item.key for item in book.active()})
    owners = sorted(set(session.scalars(select(Need.owner).where(Need.owner.is_not(None)).distinct()))
                    | set(runtime().people().names()))
    return {
        "status_options": [(item.key, item.name.get(locale)) for item in settings.statuses],
        "urgency_options": [(item.key, item.name.get(locale)) for item in settings.urgencies],
        "category_options": [(item.key, item.name.get(locale)) for item in settings.categories],
        "customer_options": sorted(((key, book.name(key)) for key in named), key=lambda item: item[1]),
        "owner_options": [(name, name) for name in owners],
    }


def _page_of_ids(session, ids: Select, where: list, page: int, searched: bool) -> tuple[list[int], int, int]:
    """The ids on ``page`` of the sorted ``ids`` (the last page when it is past the end), how many needs match
    ``where``, and the page shown.

    Only ids are sorted and skipped, so a deep page never sorts whole needs. When ``searched``, the count rides
    on the page's rows as a window, so the search runs once rather than once for the count and again for the
    page; without a search the count is its own query, which an index answers at once, while a window would
    pass over every need.
    """
    if searched:
        rows = session.execute(ids.add_columns(func.count().over()).limit(PAGE_SIZE)
                               .offset((page - 1) * PAGE_SIZE)).all()
        if rows or page == 1:
            return [row[0] for row in rows], rows[0][1] if rows else 0, page
    total = session.scalar(select(func.count(Need.id)).where(*where))
    page = min(page, max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))
    return list(session.scalars(ids.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))), total, page


def _needs_in_order(session, ids: list[int]) -> list[Need]:
    """The needs of ``ids`` with their screenshots, in the order of ``ids``."""
    found = {need.id: need for need in session.scalars(
        select(Need).where(Need.id.in_(ids)).options(selectinload(Need.attachments)))}
    return [found[need_id] for need_id in ids if need_id in found]


@bp.route("/needs/new", methods=["GET", "POST"])
@login_required
def new():
    rt = runtime()
    settings = rt.settings
    form = NeedForm()
    form.set_choices(settings, page_locale())
    errors: dict[str, list[str]] = {}
    uploads: list[Upload] = []
    if request.method == "POST":
        data = form.need_data()
        data["reported_at"] = parse_reported_at(data["reported_at"])
        need_input, uploads = checked_submission(data, settings, errors)
        project_id = chosen_project(need_input.customer if need_input else None, errors)
        if len(uploads) > settings.screenshots_max:
            errors.setdefault("screenshots", []).append(too_many_screenshots(settings))
        if not errors:
            need = create_need(rt, need_input, uploads, created_by=current_user.name, project_id=project_id)
            flash(gettext("Need %(ref)s filed", ref=need.ref), "success")
            return redirect(url_for("needs.detail", ref=need.ref))
    elif not form.reported_at.data:
        form.reported_at.data = now_local()
    return render_template(
        "needs/new.html", form=form, errors=errors, settings=settings, had_uploads=bool(uploads),
        max_upload=size_text(settings.upload_max_bytes), new_customer=customer_to_add(form.data, errors),
    ), 400 if errors else 200


@bp.route("/needs/<ref>")
@login_required
def detail(ref: str):
    return _detail_page(ref, MessageForm())


def _detail_page(ref: str, message_form: MessageForm, message_error: str | None = None):
    rt = runtime()
    with rt.Session() as session:
        need = session.scalars(
            select(Need).where(Need.ref == ref)
            .options(selectinload(Need.attachments), selectinload(Need.history), selectinload(Need.edits))
        ).one_or_none()
        if need is None:
            abort(404)
        last_job = session.scalars(
            # Notices have their own card, per recipient and in the page's language.
            select(Job).where(Job.ref == need.ref, Job.name != "deliver_outbox").order_by(Job.updated_at.desc(), Job.created_at.desc()).limit(1)
        ).first()
        deliveries = [row for row in session.scalars(
            select(OutboxMessage).where((OutboxMessage.need_ref == need.ref)
                                        | (OutboxMessage.issue_key == need.issue_key) if need.issue_key
                                        else OutboxMessage.need_ref == need.ref)
            .order_by(OutboxMessage.id.desc()).limit(200))
            if row.need_ref == need.ref or need.ref in row.payload.get("refs", ()) or row.kind == "comment"]
        messages = thread(session, need.id)
    failed_job = last_job if last_job is not None and last_job.state == "failed" else None
    status_form = StatusForm(status=need.status)
    status_form.set_choices(rt.settings, page_locale())
    return render_template("needs/detail.html", need=need, failed_job=failed_job, settings=rt.settings,
                           status_form=status_form, deliveries=deliveries, messages=messages,
                           message_form=message_form,
                           message_error=message_error), 400 if message_error else 200


@bp.route("/needs/<ref>/messages", methods=["POST"])
@login_required
def post_message(ref: str):
    """Add an internal note (button ``kind=internal``) or a reply to the customer (``kind=customer``)."""
    form = MessageForm()
    kind = request.form.get("kind", "")
    if kind not in WRITTEN_BY_CS or not form.validate_on_submit():
        abort(400)
    try:
        add_message(runtime(), ref, kind, form.body.data or "", current_user.name)
    except LookupError:
        abort(404)
    except InvalidMessage:
        return _detail_page(ref, form, gettext("Write a message first (at most %(num)d characters).",
                                               num=BODY_MAX))
    if kind == "customer":
        flash(gettext("Reply sent to the customer"), "success")
    else:
        flash(gettext("Internal note added"), "success")
    return redirect(url_for("needs.detail", ref=ref, _anchor="thread"))


@bp.route("/needs/<ref>/attachments/<int:attachment_id>")
@login_required
def attachment(ref: str, attachment_id: int):
    rt = runtime()
    with rt.Session() as session:
        found = session.scalars(
            select(Attachment).join(Need).where(Attachment.id == attachment_id, Need.ref == ref)
        ).one_or_none()
    if found is None:
        abort(404)
    response = send_from_directory(rt.uploads, found.stored_name, mimetype=found.content_type,
                                   download_name=found.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


# Helpers ---------------------------------------------------------------------------------------


def input_time(moment: dt.datetime) -> str:
    """``moment`` in the reader's time zone, to the minute, as a ``datetime-local`` input shows it."""
    return moment.astimezone(get_timezone()).strftime("%Y-%m-%dT%H:%M")


def now_local() -> str:
    """Now, as a ``datetime-local`` input wants it."""
    return input_time(dt.datetime.now(dt.UTC))


def parse_reported_at(text: str):
    """A ``datetime-local`` value is wall-clock time in the reader's time zone; make it an aware datetime.

    Anything else is handed on unchanged so that ``validate_need`` judges it and says what is wrong.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if value.tzinfo is not None:
        return value
    zone = get_timezone()
    return zone.localize(value) if hasattr(zone, "localize") else value.replace(tzinfo=zone)


def size_text(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    return f"{max(count // 1024, 1)} KB"


def checked_submission(data: dict, settings: Settings, errors: dict[str, list[str]]):
    """The form's need as ``validate_need`` checks it (None when refused) and its screenshots; every problem
    goes into ``errors`` by field, for the filing and the edit page alike.

    The customer as typed resolves to a record (name or other name, width and case ignored). An admin who
    confirmed adding a customer no record names (the ``create_customer`` button, carrying the name typed) gets
    it added first, then the need is checked with it."""
    typed = (data.get("customer") or "").strip()
    if (typed and request.form.get("create_customer", "").strip() == typed and current_user.is_admin
            and customers().resolve(typed) is None):
        try:
            added = add_customer(runtime(), {"key": new_key(typed, customers()), "name": typed,
                                             "locale": settings.locale})
        except InvalidCustomer as exc:
            errors.update(exc.by_field(gettext))
        else:
            forget_customers()
            flash(gettext("Customer %(name)s added (key %(key)s).", name=added.name, key=added.key), "success")
    need_input = None
    try:
        need_input = validate_need(data, settings, customers=customers())
    except InvalidNeed as exc:
        errors.update(exc.by_field(gettext))
    uploads = [Upload(file.filename, file.read()) for file in request.files.getlist("screenshots") if file.filename]
    if problems := upload_errors(uploads, settings.upload_max_bytes):
        errors["screenshots"] = problems
    return need_input, uploads


def too_many_screenshots(settings: Settings) -> str:
    return gettext("A need keeps at most %(count)d screenshots: remove some first.", count=settings.screenshots_max)


def customer_to_add(data: dict, errors: dict[str, list[str]]) -> str | None:
    """The customer name an admin may add with one click: the one typed, when no record names it."""
    typed = (data.get("customer") or "").strip()
    if errors.get("customer") and typed and current_user.is_admin and customers().resolve(typed) is None:
        return typed
    return None


def upload_errors(uploads: list[Upload], max_bytes: int) -> list[str]:
    """One translated message per rejected screenshot; ``check_uploads`` decides what is rejected, and why."""
    messages = []
    for upload in uploads:
        try:
            check_uploads([upload], max_bytes)
        except InvalidUpload as exc:
            if exc.too_large:
                messages.append(gettext("%(name)s is larger than %(size)s.", name=upload.filename,
                                        size=size_text(max_bytes)))
            else:
                messages.append(gettext("%(name)s is not a PNG, JPEG, GIF or WebP image.", name=upload.filename))
    return messages


# Error pages -----------------------------------------------------------------------------------


def _for_machines() -> bool:
    """Token, webhook and signed-file endpoints keep their plain answers; people get a page."""
    return (request.blueprint in ("api", "receiver", "files")
            or request.path.startswith(("/api/", "/webhooks/", "/files/")))


def _error_page(error: HTTPException, template: str):
    if _for_machines():
        return error
    if is_customer_path(request.path):
        return customer_error_page(error)
    return render_template(template, error=error), error.code


@bp.app_errorhandler(403)
def forbidden(error):
    return _error_page(error, "errors/403.html")


@bp.app_errorhandler(404)
def not_found(error):
    return _error_page(error, "errors/404.html")


@bp.app_errorhandler(HTTPException)
def any_other_error(error):
    """Any other error (400, 405, 410, an unhandled exception's 500, ...): under /s/ a customer gets a page in
    their language; elsewhere the plain answer stays."""
    if is_customer_path(request.path) and not _for_machines():
        return customer_error_page(error)
    return error


@bp.app_errorhandler(413)
def too_large(error):
    if _for_machines():
        return error
    if is_customer_path(request.path):
        return customer_error_page(error)
    settings = runtime().settings
    return render_template("errors/413.html", error=error, max_upload=size_text(settings.upload_max_bytes)), 413


@bp.app_errorhandler(CSRFError)
def csrf_failed(error):
    return _error_page(error, "errors/400_csrf.html")


@bp.app_template_global()
def sla_state(need):
    """For the /needs table: the need's running SLA timer due first, and whether it is overdue now."""
    return live_state(runtime().settings, need)
