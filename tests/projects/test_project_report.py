"""The VOC report's per-project section: needs per stage, criteria met, days to go-live (or since), in the HTML
fragment, the document and the CLI's ``cocreate report voc`` lines, in English and zh-Hant."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from plugin.customer import CustomerBook
from plugin.loading import parse_settings
from plugin.need import validate_need
from sync.intake import create_need
from sync.ledger.projects import add_project, set_criterion_state, set_need_project
from sync.ledger.store import utcnow
from sync.report.figures import voc_report
from sync.report.projects import project_figures
from sync.report.render import render_document, render_report, summary_lines
from tests.factories import DEFAULT_YAML, need_data

ZH = DEFAULT_YAML.replace("customers:\n", "customers:\n  - key: globex\n    name: 環球科技\n    locale: zh_Hant\n", 1)
NOW = utcnow()
MONTH = f"{NOW:%Y-%m}"
TODAY = NOW.date()


@pytest.fixture
def settings():
    return parse_settings(ZH, "test.yaml")


@pytest.fixture
def projects(runtime):
    add_project(runtime, {"key": "bi", "customer": "globex", "name": "報表平台上線", "status": "building",
                          "go_live": (TODAY + dt.timedelta(days=9)).isoformat()},
                criteria=[{"what": "月報準時產出"}, {"what": "數字正確"}])
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout", "status": "rollout",
                          "go_live": (TODAY - dt.timedelta(days=3)).isoformat()})
    add_project(runtime, {"key": "old", "customer": "acme", "name": "Old pilot", "status": "closed",
                          "go_live": "2020-01-10"})
    reported = (NOW - dt.timedelta(minutes=5)).isoformat()
    for stage, project in (("pre_project", "bi"), ("pre_project", "bi"), ("acceptance", "bi"), ("rollout", "erp")):
        data = need_data(stage=stage, customer="globex" if project == "bi" else "acme", reported_at=reported)
        need = create_need(runtime, validate_need(data, runtime.settings, now=NOW))
        set_need_project(runtime, need.ref, project)
    from sync.ledger.projects import get_project

    with runtime.Session() as session:
        first = get_project(session, "bi").criteria[0].id
    set_criterion_state(runtime, "bi", first, "cs1", "met")
    return runtime


def test_the_figures_per_project(projects):
    report = voc_report(projects, MONTH, now=NOW)
    by_key = {item.key: item for item in report.projects}
    assert list(by_key) == ["erp", "bi"]  # open projects by go-live; the closed one of long ago left out
    assert by_key["bi"].by_stage == (("pre_project", 2), ("acceptance", 1)) and by_key["bi"].needs == 3
    assert (by_key["bi"].criteria_met, by_key["bi"].criteria) == (1, 2)
    assert by_key["bi"].days_to_go_live == 9 and by_key["erp"].days_to_go_live == -3
    assert by_key["erp"].by_stage == (("rollout", 1),) and by_key["erp"].criteria == 0


def test_needs_raised_after_the_cutoff_are_not_counted(projects):
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    early = {item.key: item for item in project_figures(projects, start, NOW - dt.timedelta(hours=1))}
    assert early["bi"].needs == 0 and early["bi"].by_stage == ()
    assert "old" in early  # went live within that (long) period


def test_the_section_in_english_and_zh_hant(projects):
    report = voc_report(projects, MONTH, now=NOW)
    book = projects.customers()
    html = str(render_report(report, projects.settings, "en", book))
    assert 'class="card voc-projects"' in html and "<h2>Co-creation projects</h2>" in html
    assert "Pre-project 2, Acceptance 1" in html and "1 / 2" in html and "(in 9 days)" in html
    assert "(3 days ago)" in html
    zh = render_document(report, projects.settings, "zh_Hant", book)
    assert "共創專案" in zh and "專案前期 2、驗收 1" in zh and "（9 天後）" in zh
    lines = summary_lines(report, projects.settings, "en", book)
    assert "Co-creation projects:" in lines
    assert any(line.strip().startswith("報表平台上線 (環球科技): needs Pre-project 2, Acceptance 1; criteria met 1/2; "
                                       "go-live ") and line.endswith("(in 9 days)") for line in lines)


def test_a_report_with_no_project_has_no_section(runtime):
    report = voc_report(runtime, MONTH, now=NOW)
    assert report.projects == ()
    assert "voc-projects" not in str(render_report(report, runtime.settings, "en", CustomerBook()))
    assert "Co-creation projects:" not in summary_lines(report, runtime.settings, "en")


def test_cocreate_report_voc_prints_the_projects(projects, monkeypatch):
    from webhooks.cli import table

    monkeypatch.setattr(table, "runtime_for", lambda config: projects)
    from webhooks.cli import main

    result = CliRunner().invoke(main, ["report", "voc", "--month", MONTH])
    assert result.exit_code == 0, result.output
    assert "Co-creation projects:" in result.stdout and "ERP rollout (ACME Corp): needs Rollout 1" in result.stdout
