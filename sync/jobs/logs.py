"""Structured logs: one JSON object per line, carrying the delivery id, job and need ref in context."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator

_CONTEXT: contextvars.ContextVar[dict] = contextvars.ContextVar("cocreate_log_context", default={})


@contextlib.contextmanager
def log_context(**values) -> Iterator[None]:
    """Add ``values`` (e.g. ``delivery_id``, ``need_ref``, ``job``) to every log record inside the block."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{key: value for key, value in values.items() if value is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...context, "exception"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_CONTEXT.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get()
        record.context = " ".join(f"{key}={value}" for key, value in context.items()) if context else ""
        return True


def configure(level: str = "INFO", fmt: str | None = None) -> None:
    """Log to stderr as JSON (``fmt='json'``, the default when stderr is not a terminal) or as text."""
    fmt = fmt or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.addFilter(_TextContext())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s %(context)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
