"""gunicorn's access log without secret links: Jira's ``?token=`` and customers' ``/s/<token>`` are blanked in
every field (request line, path, query, Referer, headers). ``deploy/gunicorn.conf.py`` names the logger;
waitress (``cocreate serve``) writes no access log."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"

_QUERY_TOKEN = re.compile(r"(token(?:=|%3D))[^&\s\"'#;]*", re.IGNORECASE)
_STATUS_PAGE = re.compile(r"(/s/)[^/?\s\"'#;]+")


def redact(text: str) -> str:
    """``text`` with the values of ``token=`` parameters and the token of ``/s/<token>`` links blanked."""
    return _STATUS_PAGE.sub(r"\1" + REDACTED, _QUERY_TOKEN.sub(r"\1" + REDACTED, text))


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log fields carry no secret link."""

    def atoms(self, resp, req, environ, request_time):
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}
