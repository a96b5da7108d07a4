"""``/demand``: the tracker issues ranked by customer demand, filterable by category and customer, as a page, a
CSV download and ``GET /api/v1/demand`` (token auth, the same filters, JSON)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import get_timezone, gettext
from flask_login import login_required

from plugin.demand import format_score
from plugin.need import storable
from sync.report.demand import csv_rows, issue_json, ranked_issues
from sync.table.sheets import escape_text
from webhooks.api import _error_body
from webhooks.auth import api_token_required
from webhooks.context import customers, runtime
from webhooks.i18n import page_locale
from webhooks.needs import Names

bp = Blueprint("demand", __name__)
api_bp = Blueprint("api_demand", __name__, url_prefix="/api/v1")

FILTERS = ("category", "customer")


def _filters() -> dict[str, str]:
    return {name: request.args.get(name, "").strip()[:200] for name in FILTERS}


def _unstorable(filters: dict[str, str]) -> str | None:
    """The filter holding what no record can (a NUL, an unpaired surrogate: PostgreSQL refuses to compare it)."""
    return next((name for name, value in filters.items() if not storable(value)), None)


def _unknown_category(filters: dict[str, str]) -> bool:
    return bool(filters["category"]) and runtime().settings.category(filters["category"]) is None


def _ranked(filters: dict[str, str]) -> list:
    """The ranking the page and its CSV show: none for a category that does not exist or a filter no record
    can match."""
    if _unknown_category(filters) or _unstorable(filters) is not None:
        return []
    return ranked_issues(runtime(), category=filters["category"] or None, customer=filters["customer"] or None)


@bp.route("/demand")
@login_required
def page():
    """The ranking, highest demand first; ``?category=`` and ``?customer=`` narrow it."""
    filters = _filters()
    ranked = _ranked(filters)
    locale = page_locale()
    return render_template(
        "demand.html", ranked=ranked, filters=filters, format_score=format_score,
        active={name: value for name, value in filters.items() if value},
        category_options=[(item.key, item.name.get(locale)) for item in runtime().settings.categories],
        customer_options=[(record.key, record.name) for record in customers().active()])


@bp.route("/demand/export.csv")
@login_required
def export():
    """The ranking on the page (with its filters) as CSV, headers in the page's language."""
    filters = _filters()
    ranked = _ranked(filters)
    names = Names(runtime().settings, page_locale())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([gettext("Rank"), gettext("Issue"), gettext("Link"), gettext("Title"), gettext("Demand score"),
                     gettext("Customers"), gettext("Revenue at stake"), gettext("Most urgent"),
                     gettext("Oldest waiting since"), gettext("Days waiting"), gettext("Status"), gettext("Needs")])
    for row in csv_rows(ranked, names):
        writer.writerow([escape_text(cell) if isinstance(cell, str) else cell for cell in row])
    response = Response("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"cocreate-demand-{dt.datetime.now(get_timezone()):%Y%m%d-%H%M}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.cache_control.no_cache, response.cache_control.max_age = True, 0
    return response


@api_bp.get("/demand")
@api_token_required
def api_demand():
    """The ranking as JSON: ``{"items": [...]}``, highest demand first, with ``?category=`` and ``?customer=``."""
    filters = _filters()
    if (name := _unstorable(filters)) is not None:
        return _error_body(400, f"filter {name} holds a NUL character or an unpaired surrogate")
    if _unknown_category(filters):
        return _error_body(400, f"no category {filters['category']}")
    ranked = ranked_issues(runtime(), category=filters["category"] or None, customer=filters["customer"] or None)
    return jsonify({"items": [issue_json(rank, item) for rank, item in enumerate(ranked, 1)]})
