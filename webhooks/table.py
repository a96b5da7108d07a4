"""The requirement table's download (``/needs/export``) and upload (``/needs/import``: dry run, then confirm)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import get_timezone, gettext
from flask_login import current_user, login_required

from plugin.settings import LOCALES
from sync.ledger.search import QUERY_MAX
from sync.table.columns import TableError
from sync.table.export import FORMATS, TableExport
from sync.table.importer import import_table
from webhooks.context import customers as customer_book
from webhooks.context import runtime
from webhooks.i18n import page_locale, page_timezone
from webhooks.needs import FILTERS

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
    """The table as .xlsx (default) or .csv, with the /needs filters and search, headers in ``lang`` or the page's language.

    The file is streamed as the needs are read, so the download starts at once at any table size."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        abort(404)
    lang = request.args.get("lang", "")
    locale = lang if lang in LOCALES else page_locale()
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    table = TableExport(runtime(), fmt, locale=locale, timezone=page_timezone(),
                        filters={name: value for name, value in filters.items() if value},
                        search=request.args.get("q", "").strip()[:QUERY_MAX])
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
    folder = runtime().home / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    limit = time.time() - UPLOAD_TTL
    for path in folder.iterdir():
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _page(status: int = 200, **context):
    """The import page; ``translate`` renders problems (Jinja's ``_`` would format their %(...)s too early)."""
    customers = [(customer.key, customer.name) for customer in customer_book().active()]
    context.setdefault("report", None)
    return render_template("table/import.html", customers=customers, translate=gettext, **context), status


@bp.route("/needs/import", methods=["GET", "POST"])
@login_required
def upload():
    """GET: the upload form. POST: keep the file, check every row (dry run) and show what an import would do."""
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
    (folder / f"{token}.json").write_text(json.dumps(
        {"filename": file.filename, "suffix": suffix, "customer": customer, "user": current_user.name}))
    try:
        report = _run_import(path, file.filename, customer, dry_run=True)
    except TableError as exc:
        _discard(folder, token, suffix)
        return _upload_error(None, customer, problems=[problem.render(gettext) for problem in exc.problems])
    if not report.created and not report.updated:
        _discard(folder, token, suffix)
        token = None
    return _page(report=report, token=token, customer=customer)


@bp.route("/needs/import/<token>", methods=["POST"])
@login_required
def confirm(token: str):
    """Import the file the same user checked before; rows with problems are still refused and listed."""
    if not _TOKEN.match(token):
        abort(404)
    folder = _uploads()
    meta_path = folder / f"{token}.json"
    if not meta_path.exists():
        flash(gettext("That upload is no longer here; please upload the file again."), "error")
        return _page(410)
    meta = json.loads(meta_path.read_text())
    if meta["user"] != current_user.name:
        abort(404)
    path = folder / f"{token}{meta['suffix']}"
    try:
        report = _run_import(path, meta["filename"], meta["customer"], dry_run=False)
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


def _discard(folder: Path, token: str, suffix: str) -> None:
    (folder / f"{token}{suffix}").unlink(missing_ok=True)
    (folder / f"{token}.json").unlink(missing_ok=True)


def _upload_error(message: str | None, customer: str, problems: list[str] = ()):
    return _page(400, error=message, problems=problems, customer=customer)
