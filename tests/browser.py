"""Real-browser test support: the app served by waitress on a free port, and a page in Debian's Chromium.

Chromium comes from the system (``make test`` installs it); a missing browser fails the test rather than
skipping it. Screenshots go to ``test-output/`` at the repository root.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from waitress.server import create_server

from webhooks.app import create_app

CHROMIUM = Path(os.environ.get("COCREATE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"


def submit_login(page, name: str = "cs1", password: str = "password1") -> None:
    """Fill in and send the login form the page shows (the login page, or where a page sent a stranger)."""
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button.primary")


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve ``app`` with waitress on 127.0.0.1 and a free port; yields the base URL."""
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{wsgi.effective_port}"
    finally:
        wsgi.close()
        thread.join(timeout=5)


@pytest.fixture
def server(runtime, make_user):
    """The app (CSRF on) with a CS user ``cs1`` / ``password1``, served on a free local port; yields its URL."""
    make_user("cs1", "password1", "cs")
    with serve(create_app({}, runtime=runtime)) as url:
        yield url


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium; yields ``open_page(locale)``, which opens a 1360x900 page in a context of its own (its
    own cookies: another person at another computer). Fails if the Content-Security-Policy refused anything on
    any of the pages: a page must not rely on what it blocks."""
    assert CHROMIUM.exists(), f"Chromium is needed at {CHROMIUM} (apt install chromium, or set COCREATE_CHROMIUM)"
    OUTPUT.mkdir(exist_ok=True)
    refused = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def open_page(locale: str = "en-US"):
            context = browser.new_context(viewport={"width": 1360, "height": 900}, locale=locale)
            browser_page = context.new_page()
            browser_page.on("console", lambda message: refused.append(message.text)
                            if "Content Security Policy" in message.text else None)
            return browser_page

        yield open_page
        browser.close()
    assert not refused, refused


@pytest.fixture
def page():
    """A Chromium page, 1360x900, English unless the test switches."""
    with chromium() as open_page:
        yield open_page()


@pytest.fixture
def open_page():
    """``open_page(locale="en-US")``: a new Chromium page in a context of its own, as often as the test needs."""
    with chromium() as opener:
        yield opener
