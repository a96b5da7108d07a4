"""``/reports``: the monthly VOC report and the needs overdue now, also as a standalone HTML file."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_babel import get_timezone
from flask_login import login_required

from sync.report.figures import MONTHS, month_bounds, voc_report
from sync.report.render import REPORT_CSS, render_document, render_report
from sync.sla import overdue_needs
from webhooks.context import runtime
from webhooks.i18n import page_locale, page_timezone

bp = Blueprint("reports", __name__)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# Reports -----------------------------------------------------------------------------------------


def _month(value: str | None) -> str:
    """``?month=`` when it is a month a report can be made for; a page saying so (404) otherwise."""
    if not value:
        return f"{dt.datetime.now(get_timezone()):%Y-%m}"
    try:
        if not _MONTH.match(value):
            raise ValueError(value)
        month_bounds(value, "UTC")
    except ValueError:
        abort(make_response(render_template("errors/404_month.html", error={"code": 404}, first=MONTHS[0],
                                            last=MONTHS[1]), 404))
    return value


@bp.route("/reports")
@login_required
def reports():
    """The VOC report of ``?month=YYYY-MM`` (default: this month so far) and the needs overdue now."""
    rt = runtime()
    month = _month(request.args.get("month"))
    figures = voc_report(rt, month, timezone=page_timezone())
    return render_template("reports/voc.html", month=month, body=render_report(figures, rt.settings, page_locale(), rt.customers()),
                           css=REPORT_CSS, overdue=overdue_needs(rt))


@bp.route("/reports/voc-<month>.html")
@login_required
def report_document(month: str):
    """The same report as one standalone HTML file (charts embedded), to keep, mail or print to PDF."""
    rt = runtime()
    figures = voc_report(rt, _month(month), timezone=page_timezone())
    response = Response(render_document(figures, rt.settings, page_locale(), rt.customers()), mimetype="text/html")
    # A standalone file: its styles are inline, it runs no script and loads nothing but its embedded charts.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = f'attachment; filename="cocreate-voc-{month}.html"'
    return response
