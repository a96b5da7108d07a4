"""Fixtures for the CS pages: an app without CSRF checks for brevity and a client logged in as CS staff."""

from __future__ import annotations

import pytest

from tests.web.pages import log_in
from webhooks.app import create_app


@pytest.fixture
def web_app(runtime):
    """The app with CSRF checks off; tests about CSRF use the ``app`` fixture, which keeps them on."""
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime)


@pytest.fixture
def cs_client(web_app, make_user):
    """A test client logged in as the CS user ``cs1``."""
    make_user("cs1", "password1", "cs")
    client = web_app.test_client()
    log_in(client)
    return client
