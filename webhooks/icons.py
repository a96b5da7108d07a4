"""``/favicon.ico``: the site's icon for browsers that ask for it by its old name (pages link the SVG one)."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("icons", __name__)

MAX_AGE = 7 * 86400
"""A week: the icon changes with a release at most."""


@bp.route("/favicon.ico")
def favicon():
    response = send_from_directory(current_app.static_folder, "favicon.ico", max_age=MAX_AGE,
                                   mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    return response
