"""Checks on values a visitor controls before the app acts on them."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit


def safe_target(value: str | None, default: str) -> str:
    """``value`` when it is a path on this site (``/needs?x=1``), else ``default``.

    Browsers drop tabs and newlines from a Location and read a backslash as a slash, so ``/\\tevil.com`` and
    ``/\\evil.com`` would leave the site: any control, format or separator character (other than a plain space)
    and any backslash refuses the target outright.
    """
    if not value:
        return default
    if "\\" in value:
        return default
    for char in value:
        if char != " " and unicodedata.category(char)[0] in ("C", "Z"):
            return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
