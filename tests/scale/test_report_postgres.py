"""The VOC report and the needs overdue now on PostgreSQL: the same figures as on SQLite for the same data, as
the definitions give them need by need, and the hand-computed cases of the SQLite tests (the kept months'
included: their triggers are PostgreSQL's own), run here again."""

from __future__ import annotations

import pytest

from plugin.loading import parse_settings
from sync.report.figures import voc_report
from sync.runtime import build_runtime
from sync.sla import overdue_needs
from tests.factories import migrated_runtime
from tests.table.helpers import TABLE_YAML, RecordingQueue
from tests.table.report_data import CASES, fill_needs, reference_overdue, reference_report
from tests.table.sheets import at
from tests.table.test_table_report import (  # noqa: F401 - collected again here, on PostgreSQL
    october,
    test_counts_by_category_urgency_and_status,
    test_most_requested_issues_and_delivered_share,
    test_sla_breaches_due_in_the_month,
    test_the_month_in_progress_is_cut_off_now,
    test_time_to_acceptance_and_resolution_median_and_p90,
)
from tests.table.test_table_report_kept import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_need_without_history_added_or_removed_is_seen,
    test_a_write_in_flight_keeps_the_figures_computed_meanwhile_from_being_kept,
    test_a_write_that_does_not_reach_back_leaves_the_months_kept,
    test_after_every_kind_of_write_the_kept_figures_are_those_of_the_history,
    test_an_entry_moved_into_or_out_of_a_month_is_seen,
    test_another_config_does_not_read_the_figures_kept_for_the_first,
    test_figures_computed_while_a_write_deleted_their_place_are_not_kept,
    test_history_reaching_back_is_seen,
    test_the_month_in_progress_is_never_kept,
)
from tests.table.test_table_report_sql import (  # noqa: F401 - collected again here, on PostgreSQL
    test_an_empty_month,
    test_an_even_count_takes_the_mean_of_the_middle_two,
    test_durations_keep_their_microseconds,
    test_needs_of_other_months_are_left_out_of_the_months_figures,
    test_needs_without_history_count_by_their_status_and_are_never_timed,
    test_one_need,
    test_the_month_is_the_reports_time_zone_s,
    test_the_status_at_the_cut_off_comes_from_history_written_since,
)


@pytest.fixture
def settings():
    return parse_settings(TABLE_YAML, "table.yaml")


@pytest.fixture
def runtime(settings, database, tmp_path):
    """A runtime on a fresh PostgreSQL database, migrated, whose queue only records jobs."""
    rt = build_runtime(settings, {"COCREATE_HOME": str(tmp_path / "pg"), "COCREATE_DATABASE_URL": database},
                       immediate=True)
    rt.queue = RecordingQueue()
    yield rt
    rt.close()


@pytest.fixture
def sqlite_runtime(settings, tmp_path, migrated_store):
    rt = migrated_runtime(settings, tmp_path / "sqlite", migrated_store)
    rt.queue = RecordingQueue()
    yield rt
    rt.close()


def test_the_same_data_gives_the_same_figures_on_postgresql_and_sqlite(runtime, sqlite_runtime):
    assert runtime.engine.dialect.name == "postgresql"
    fill_needs(runtime)
    fill_needs(sqlite_runtime)
    for month, zone, now in CASES:
        figures = voc_report(runtime, month, timezone=zone, now=now)
        assert figures == voc_report(sqlite_runtime, month, timezone=zone, now=now), (month, zone, now)
        assert figures == reference_report(runtime, month, timezone=zone, now=now), (month, zone, now)
    for now in (at("10-01 00:00"), at("12-20 12:00")):
        overdue = [(need.ref, state) for need, state in overdue_needs(runtime, now)]
        assert overdue == [(need.ref, state) for need, state in overdue_needs(sqlite_runtime, now)]
        assert overdue == reference_overdue(runtime, now)
