"""Access to the current app's runtime from views."""

from __future__ import annotations

from flask import current_app

from sync.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["cocreate"]
