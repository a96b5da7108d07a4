"""The requirement table's download (``/needs/export``), upload (``/needs/import``: dry run, then confirm) and
bulk actions on its rows (``/needs/bulk``: counted first, then confirmed)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_timezone, gettext
from flask_login import current_user, login_required

from plugin.catalogs import catalog
from plugin.need import N_
from plugin.settings import LOCALES
from sync.bulk import (
    HAS_ISSUE,
    IS_TARGET,
    NOT_FOUND,
    REFS_MAX,
    BulkChange,
    BulkReport,
    InvalidBulk,
    Selection,
    apply_bulk,
    preview,
)
from sync.ledger.search import QUERY_MAX
from sync.table.changes import describe
from sync.table.checking import imports_folder, read_meta, report_from, write_meta
from sync.table.columns import Problem, TableError
from sync.table.export import FORMATS, TableExport
from sync.table.importer import import_table
from sync.table.sheets import estimate_rows
from webhooks.context import customers as customer_book
from webhooks.context import runtime
from webhooks.forms import FIELD_NAMES
from webhooks.i18n import page_locale, page_timezone
from webhooks.needs import FILTERS, Names

bp = Blueprint("table", __name__)

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
"""The download's exact Content-Type (given whole: Flask would add a charset to a text/* mimetype again)."""
UPLOAD_SUFFIXES = (".xlsx", ".csv")
UPLOAD_TTL = 24 * 3600
"""An upload waiting for its confirmation is kept this many seconds."""
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


# Export ------------------------------------------------------------------------------------------


@bp.route("/needs/export")
@login_required
def export():
    """The table as .xlsx (default) or .csv, with the /needs filters and search, or only the needs named by
    ``ref`` (the rows selected on /needs, at most ``sync.bulk.REFS_MAX``), headers in ``lang`` or the page's
    language.

    The file is streamed as the needs are read, so the download starts at once at any table size."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        abort(404)
    lang = request.args.get("lang", "")
    locale = lang if lang in LOCALES else page_locale()
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    refs = request.args.getlist("ref")[:REFS_MAX] or None
    table = TableExport(runtime(), fmt, locale=locale, timezone=page_timezone(),
                        filters={name: value for name, value in filters.items() if value},
                        search=request.args.get("q", "").strip()[:QUERY_MAX], refs=refs)
    return _download(table.chunks(), f"cocreate-needs-{dt.datetime.now(get_timezone()):%Y%m%d-%H%M}.{fmt}", fmt)


def _download(chunks, name: str, fmt: str) -> Response:
    """``chunks`` sent as they come, as the attachment ``name``, never cached."""
    response = Response(chunks, content_type=CONTENT_TYPES[fmt])
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.cache_control.no_cache, response.cache_control.max_age = True, 0
    response.expires = int(time.time())
    # A reverse proxy that buffers responses (nginx does by default) would hold the download back to the end.
    response.headers["X-Accel-Buffering"] = "no"
    return response


# Import ------------------------------------------------------------------------------------------


def _uploads() -> Path:
    return imports_folder(runtime())


def _forget_old_uploads(folder: Path) -> None:
    limit = time.time() - UPLOAD_TTL
    for path in folder.iterdir():
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _page(status: int = 200, **context):
    """The import page. ``translate`` renders the report's problems and notes (Jinja's ``_`` would format their
    %(...)s too early) in the sheet's language: they name its columns as it writes them, and whoever corrects the
    sheet reads them beside it; the rest of the page, the changes' field names too, is in the page's language."""
    settings = runtime().settings
    customers = [(customer.key, customer.name) for customer in customer_book().active()]
    report = context.setdefault("report", None)
    translate = catalog(report.language).gettext if report is not None else gettext
    changes = [(change.ref, change.row, *describe(change, settings, page_locale(), customer_book()))
               for change in report.changes] if report is not None else []
    return render_template("table/import.html", customers=customers, translate=translate, changes=changes,
                           **context), status


def _problems(problems: list[Problem], language: str | None) -> list[str]:
    """A file's problems as lines, in the sheet's language when its header row was read, else the page's."""
    translate = catalog(language).gettext if language else gettext
    return [problem.render(translate) for problem in problems]


@bp.route("/needs/import", methods=["GET", "POST"])
@login_required
def upload():
    """GET: the upload form. POST: keep the file, check every row (dry run) and show what an import would do; a
    sheet of more than ``table.inline_rows`` rows (estimated cheaply: ``sheets.estimate_rows``) is checked by the
    ``check_import`` job instead, and the answer is a redirect to its status page."""
    if request.method == "GET":
        return _page()
    file = request.files.get("file")
    customer = request.form.get("customer", "").strip()
    suffix = Path(file.filename or "").suffix.lower() if file else ""
    if not file or not file.filename:
        return _upload_error(gettext("Choose a .xlsx or .csv file to import."), customer)
    if suffix not in UPLOAD_SUFFIXES:
        return _upload_error(gettext("%(name)s is not an .xlsx or .csv file.", name=file.filename), customer)
    folder = _uploads()
    _forget_old_uploads(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}{suffix}"
    file.save(path)
    meta = {"filename": file.filename, "suffix": suffix, "customer": customer, "user": current_user.name,
            "timezone": page_timezone()}
    estimate = estimate_rows(path)
    if estimate is not None and estimate > runtime().settings.table.inline_rows:
        # A large sheet is checked by a job; the status page shows its progress, then the same result.
        write_meta(folder, token, {**meta, "estimate": estimate, "progress": {"done": 0, "total": estimate}})
        runtime().queue.enqueue("check_import", token)
        return redirect(url_for("table.status", token=token), 303)
    write_meta(folder, token, meta)
    try:
        report = _run_import(path, file.filename, customer, dry_run=True)
    except TableError as exc:
        _discard(folder, token, suffix)
        return _upload_error(None, customer, problems=_problems(exc.problems, exc.language))
    except BaseException:
        _discard(folder, token, suffix)
        raise
    return _result_page(folder, token, suffix, report, customer)


@bp.get("/needs/import/<token>")
@login_required
def status(token: str):
    """The check of a large upload (``sync.table.checking``): its progress, refreshed every two seconds, then the
    dry run's result and the confirmation, as for a small upload. Only the uploader sees it."""
    folder, meta = _own_upload(token)
    if "problems" in meta:
        _discard(folder, token, meta["suffix"])
        return _upload_error(None, meta["customer"], problems=_problems([Problem(**item) for item in meta["problems"]],
                                                                        meta.get("language")))
    if "report" not in meta:
        progress = meta.get("progress") or {"done": 0, "total": meta.get("estimate")}
        return render_template("table/checking.html", filename=meta["filename"], done=progress["done"],
                               total=progress["total"])
    return _result_page(folder, token, meta["suffix"], report_from(meta["report"]), meta["customer"])


@bp.route("/needs/import/<token>", methods=["POST"])
@login_required
def confirm(token: str):
    """Import the file the same user checked before; rows with problems are still refused and listed."""
    folder, meta = _own_upload(token)
    path = folder / f"{token}{meta['suffix']}"
    try:
        report = _run_import(path, meta["filename"], meta["customer"], dry_run=False)
    except TableError as exc:
        return _upload_error(None, meta["customer"], problems=_problems(exc.problems, exc.language))
    finally:
        _discard(folder, token, meta["suffix"])
    flash(gettext("Imported %(name)s: %(created)d new, %(updated)d updated, %(unchanged)d unchanged, "
                  "%(refused)d refused.", name=meta["filename"], created=report.created, updated=report.updated,
                  unchanged=report.unchanged, refused=report.refused),
          "error" if report.problems else "success")
    return _page(report=report, token=None, customer=meta["customer"])


def _run_import(path: Path, filename: str, customer: str, *, dry_run: bool):
    rt = runtime()
    return import_table(rt, path, dry_run=dry_run, default_customer=customer or None, timezone=page_timezone(),
                        actor=current_user.name, filename=filename)


def _own_upload(token: str) -> tuple[Path, dict]:
    """The uploads folder and the stored upload ``token`` of the logged-in user: 404 for a malformed token or
    another user's upload, the import page with 410 when it is gone."""
    if not _TOKEN.match(token):
        abort(404)
    folder = _uploads()
    meta = read_meta(folder, token)
    if meta is None:
        flash(gettext("That upload is no longer here; please upload the file again."), "error")
        abort(make_response(_page(410)))
    if meta["user"] != current_user.name:
        abort(404)
    return folder, meta


def _result_page(folder: Path, token: str, suffix: str, report, customer: str):
    """A dry run's result; the upload is kept for the confirmation only when there is something to import."""
    if not report.created and not report.updated:
        _discard(folder, token, suffix)
        token = None
    return _page(report=report, token=token, customer=customer)


def _discard(folder: Path, token: str, suffix: str) -> None:
    (folder / f"{token}{suffix}").unlink(missing_ok=True)
    (folder / f"{token}.json").unlink(missing_ok=True)
    (folder / f"{token}.json.partial").unlink(missing_ok=True)


def _upload_error(message: str | None, customer: str, problems: list[str] = ()):
    return _page(400, error=message, problems=problems, customer=customer)


# Bulk actions ------------------------------------------------------------------------------------


SKIP_REASONS = {
    HAS_ISSUE: N_("they have a tracker issue, which sets their status: change it there"),
    IS_TARGET: N_("the need the others are linked to"),
    NOT_FOUND: N_("no need has this ref"),
}
"""Why a bulk action left needs alone, as the review and the result say it (translated where shown)."""


def _view() -> dict[str, str]:
    """The table the action was started from (its filters, search and sort), kept in the form's ``view``."""
    allowed = {*FILTERS, "q", "sort", "dir"}
    return {name: value for name, value in parse_qsl(request.form.get("view", "")) if name in allowed and value}


def _bulk_request() -> tuple[Selection, BulkChange]:
    """The rows ticked (``ref``) or, with ``scope=matching``, every need the table's filters and search find
    (resolved on the server, however many); and the change asked for."""
    form = request.form
    view = _view()
    if form.get("scope") == "matching":
        selection = Selection(filters={name: view.get(name, "") for name in FILTERS},
                              search=view.get("q", "")[:QUERY_MAX])
    else:
        selection = Selection(refs=tuple(form.getlist("ref")))
    field = form.get("action", "")
    return selection, BulkChange(field, form.get(field, ""), form.get("note", ""))


def _back():
    return redirect(url_for("needs.table", **_view()))


def _bulk_error(exc: InvalidBulk):
    error = exc.error
    message = error.render(gettext)
    if error.field in FIELD_NAMES:
        message = f"{FIELD_NAMES[error.field]}: {message}"
    flash(message, "error")
    return _back()


@bp.post("/needs/bulk")
@login_required
def bulk_review():
    """A bulk action asked for on /needs: the download of the rows at once; any change is counted first (how
    many needs it changes, how many already are so, how many it must skip and why) and waits for a confirmation."""
    selection, change = _bulk_request()
    if change.field == "export":
        if selection.by_filter:
            return redirect(url_for("table.export", **{name: value for name, value in _view().items()
                                                       if name not in ("sort", "dir")}))
        if not selection.refs:
            flash(gettext("Select at least one need."), "error")
            return _back()
        return redirect(url_for("table.export", ref=list(selection.refs)[:REFS_MAX]))
    try:
        report = preview(runtime(), selection, change)
    except InvalidBulk as exc:
        return _bulk_error(exc)
    return render_template("needs/bulk.html", report=report, selection=selection, view=urlencode(_view()),
                           view_args=_view(), describe=_describe(report.change), reasons=SKIP_REASONS)


@bp.post("/needs/bulk/apply")
@login_required
def bulk_apply():
    """Apply the bulk action the review showed, to the same rows (or the needs the filters find now)."""
    selection, change = _bulk_request()
    try:
        report = apply_bulk(runtime(), selection, change, current_user.name)
    except InvalidBulk as exc:
        return _bulk_error(exc)
    flash(_result(report), "error" if report.skipped_total else "success")
    return _back()


def _describe(change: BulkChange) -> str:
    """The change in words: "Set the owner to Wang Wei"."""
    names = Names(runtime().settings, page_locale())
    if change.field == "owner":
        if change.value is None:
            return gettext("Clear the owner")
        return gettext("Set the owner to %(value)s", value=change.value)
    if change.field == "status":
        return gettext("Set the status to %(value)s", value=names.status(change.value))
    if change.field == "category":
        return gettext("Set the product category to %(value)s", value=names.category(change.value))
    if change.field == "urgency":
        return gettext("Set the urgency to %(value)s", value=names.urgency(change.value))
    return gettext("Link to %(value)s", value=change.value)


def _result(report: BulkReport) -> str:
    text = gettext("%(change)s: %(changed)d changed, %(unchanged)d already so, %(skipped)d skipped.",
                   change=_describe(report.change), changed=report.changed, unchanged=report.unchanged,
                   skipped=report.skipped_total)
    for reason, count in report.skipped.items():
        text += " " + gettext("%(count)d skipped: %(reason)s (%(refs)s).", count=count,
                              reason=gettext(SKIP_REASONS[reason]), refs=", ".join(report.skipped_refs[reason]))
    return text
