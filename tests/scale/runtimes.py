"""A Cocreate runtime on the scale tests' real PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from plugin.loading import parse_settings
from sync.runtime import Runtime, build_runtime
from tests.notify.servers import http_recorder, smtp_server  # noqa: F401 - fixtures


@contextlib.contextmanager
def runtime_on(yaml_text: str, database_url: str, queue_url: str, home: Path) -> Iterator[Runtime]:
    """A runtime of this process on ``database_url`` (PostgreSQL) and ``queue_url`` (Redis), closed afterwards."""
    runtime = build_runtime(parse_settings(yaml_text, "scale.yaml"), {
        "COCREATE_HOME": str(home), "COCREATE_DATABASE_URL": database_url, "COCREATE_QUEUE_URL": queue_url})
    try:
        yield runtime
    finally:
        runtime.close()
