"""Fixtures for the project tests: the real local SMTP and HTTP servers of ``tests.notify.servers`` (paging and
meeting reminders are sent to them)."""

from tests.notify.servers import http_recorder, smtp_server  # noqa: F401  (pytest fixtures)
