"""Helpers for reading the CS pages in tests."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from sync.ledger.store import Need


def log_in(client, name: str = "cs1", password: str = "password1", csrf_token: str | None = None):
    """Log ``client`` in through the login form; pass ``csrf_token`` when the app checks CSRF."""
    data = {"name": name, "password": password}
    if csrf_token is not None:
        data["csrf_token"] = csrf_token
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.text
    return response


def csrf_token_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown next to form field ``field``."""
    match = re.search(rf'<div class="error" id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    if not match:
        return []
    return [unescape(text) for text in re.findall(r"<p>(.*?)</p>", match.group(1), re.S)]


def table_refs(html: str) -> list[str]:
    """The refs of the table's rows, top to bottom (as read: without the marks of a search)."""
    cells = re.findall(r'<td class="col-ref"><a href="[^"]+">(.*?)</a></td>', html)
    return [re.sub(r"</?mark>", "", cell) for cell in cells]


def header_labels(html: str) -> list[str]:
    """The table's column headers as shown."""
    return [re.sub(r"<[^>]+>|[▲▼]", "", cell).strip()
            for cell in re.findall(r'<th scope="col" class="col-[a-z_]+"[^>]*>(.*?)</th>', html, re.S)]


def need_count(runtime) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count(Need.id)))


def stored_files(runtime) -> list:
    return sorted(runtime.uploads.glob("*")) if runtime.uploads.exists() else []
