"""Fixtures for the table, SLA and report tests: SLA targets in the config, the shared store copied from one
migrated database, and a queue that records what it is asked to run instead of running it."""

from __future__ import annotations

import pytest

from plugin.loading import parse_settings
from plugin.settings import Settings
from tests.table.helpers import TABLE_YAML, RecordingQueue


@pytest.fixture
def settings() -> Settings:
    """Two categories, two customers, SLA targets on the two most urgent levels, one escalation contact."""
    return parse_settings(TABLE_YAML, "table.yaml")


@pytest.fixture
def runtime(runtime):
    """The shared ``runtime`` (on a copy of the migrated database) whose queue only records jobs: no tracker, no
    sending."""
    runtime.queue = RecordingQueue()
    return runtime
