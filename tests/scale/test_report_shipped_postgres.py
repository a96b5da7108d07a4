"""The VOC report's delivered figures (``sync.report.shipped``) on PostgreSQL: the SQLite tests run again."""

from __future__ import annotations

import pytest

from sync.runtime import build_runtime
from tests.table.helpers import RecordingQueue
from tests.table.test_table_report_shipped import (  # noqa: F401 - collected again here, on PostgreSQL
    settings,
    test_delivered_share_by_the_rule_weighted_and_unweighted,
    test_no_needs_and_no_revenue_give_no_share,
    test_the_report_shows_the_weighted_share_and_the_time_to_shipped,
)


@pytest.fixture
def runtime(settings, database, tmp_path):
    """A runtime on a fresh PostgreSQL database, migrated, whose queue only records jobs."""
    rt = build_runtime(settings, {"COCREATE_HOME": str(tmp_path / "pg"), "COCREATE_DATABASE_URL": database},
                       immediate=True)
    assert rt.engine.dialect.name == "postgresql"
    rt.queue = RecordingQueue()
    yield rt
    rt.close()
