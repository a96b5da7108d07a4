"""Fixtures for the notification tests: the real local SMTP and HTTP servers from ``tests.notify.servers``."""

from tests.notify.servers import http_recorder, smtp_server  # noqa: F401  (pytest fixtures)
