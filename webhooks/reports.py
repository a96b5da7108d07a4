"""The table in and out of the web app, and the figures: /needs/import (upload, dry run, confirm),
/needs/export (download), /reports (the monthly VOC report, also as a standalone HTML file)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tempfile
import time
from pathlib import Path

from flask import Blueprint, Response, abort, flash, render_template, request, send_file
from flask_babel import get_locale, get_timezone, gettext
from flask_login import current_user, login_required

from plugin.settings import LOCALES
from sync.report.figures import voc_report
from sync.report.render import REPORT_CSS, render_document, render_report
from sync.sla import live_state, overdue_needs
from sync.table import TableError, export_table, import_table
from webhooks.context import runtime
from webhooks.needs import FILTERS

bp = Blueprint("reports", __name__)

UPLOAD_SUFFIXES = (".xlsx", ".csv")
UPLOAD_TTL = 24 * 3600
"""An upload waiting for its confirmation is kept this many seconds."""
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _locale() -> str:
    return str(get_locale())


def _timezone() -> str:
    return str(get_timezone())


@bp.app_template_global()
def sla_state(need):
    """For the /needs table: the need's running SLA timer due first, and whether it is overdue now."""
    return live_state(runtime().settings, need)


# Export ------------------------------------------------------------------------------------------


@bp.route("/needs/export")
@login_required
def export():
    """The table as .xlsx (default) or .csv, with the /needs filters, headers in ``lang`` or the page's language."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(404)
    lang = request.args.get("lang", "")
    locale = lang if lang in LOCALES else _locale()
    filters = {name: request.args.get(name, "").strip() for name in FILTERS}
    handle = tempfile.TemporaryFile()
    export_table(runtime(), handle, fmt, locale=locale, timezone=_timezone(),
                 filters={name: value for name, value in filters.items() if value})
    handle.seek(0)
    mimetype = ("text/csv; charset=utf-8" if fmt == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"cocreate-needs-{dt.datetime.now(get_timezone()):%Y%m%d-%H%M}.{fmt}"
    return send_file(handle, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)


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
    customers = [(customer.key, customer.name) for customer in runtime().settings.customers]
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
    return import_table(rt, path, dry_run=dry_run, default_customer=customer or None, timezone=_timezone(),
                        actor=current_user.name, filename=filename)


def _discard(folder: Path, token: str, suffix: str) -> None:
    (folder / f"{token}{suffix}").unlink(missing_ok=True)
    (folder / f"{token}.json").unlink(missing_ok=True)


def _upload_error(message: str | None, customer: str, problems: list[str] = ()):
    return _page(400, error=message, problems=problems, customer=customer)


# Reports -----------------------------------------------------------------------------------------


def _month(value: str | None) -> str:
    if value and _MONTH.match(value):
        return value
    if value:
        abort(404)
    return f"{dt.datetime.now(get_timezone()):%Y-%m}"


@bp.route("/reports")
@login_required
def reports():
    """The VOC report of ``?month=YYYY-MM`` (default: this month so far) and the needs overdue now."""
    rt = runtime()
    month = _month(request.args.get("month"))
    figures = voc_report(rt, month, timezone=_timezone())
    return render_template("reports/voc.html", month=month, body=render_report(figures, rt.settings, _locale()),
                           css=REPORT_CSS, overdue=overdue_needs(rt))


@bp.route("/reports/voc-<month>.html")
@login_required
def report_document(month: str):
    """The same report as one standalone HTML file (charts embedded), to keep, mail or print to PDF."""
    rt = runtime()
    figures = voc_report(rt, _month(month), timezone=_timezone())
    response = Response(render_document(figures, rt.settings, _locale()), mimetype="text/html")
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = f'attachment; filename="cocreate-voc-{month}.html"'
    return response
