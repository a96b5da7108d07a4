"""The table import puts needs in a project: a 項目 column (key or name) or ``default_project`` (``cocreate import
--project``) for rows naming none; an unknown project, or another customer's, refuses the row; re-importing a row
without a project keeps the need's; the export's columns are as before."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from plugin.loading import parse_settings
from sync.ledger.projects import add_project
from sync.ledger.store import Need
from sync.table.columns import EXPORTED
from sync.table.importer import import_table
from tests.factories import DEFAULT_YAML, NOW
from tests.table.sheets import SEED_HEADERS, write_xlsx

HEADER = SEED_HEADERS["zh_Hant"] + ["客戶", "項目"]
TWO = DEFAULT_YAML.replace("customers:\n", "customers:\n  - key: globex\n    name: Globex\n", 1)


@pytest.fixture
def settings():
    return parse_settings(TWO, "test.yaml")


def row(ref, project="", customer="ACME Corp", description="發票要顯示稅號"):
    return [ref, "計費", description, "", "高", "Li Na", "2026/11/20 09:30", "Wang Wei", "", "", customer, project]


def projects_of(runtime) -> dict[str, int | None]:
    with runtime.Session() as session:
        return {ref: project for ref, project in session.execute(select(Need.ref, Need.project_id))}


@pytest.fixture
def two_projects(runtime):
    return (add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP 上線"}).id,
            add_project(runtime, {"key": "bi", "customer": "globex", "name": "BI"}).id)


def test_a_project_column_by_key_or_name(runtime, tmp_path, two_projects):
    erp, _ = two_projects
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1", "erp"), row("2", "ERP 上線"), row("3")])
    report = import_table(runtime, sheet, dry_run=False, now=NOW)
    assert report.problems == [] and report.created == 3
    assert projects_of(runtime) == {"1": erp, "2": erp, "3": None}


def test_unknown_and_other_customers_projects_refuse_the_row(runtime, tmp_path, two_projects):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1", "nope"), row("2", "bi"), row("3", "erp")])
    report = import_table(runtime, sheet, dry_run=False, now=NOW)
    assert [problem.render() for problem in report.problems] == [
        "row 2, 項目 (L): No project nope.",
        "row 3, 項目 (L): Project bi is globex's, not this need's customer's.",
    ]
    assert sorted(projects_of(runtime)) == ["3"]


def test_the_default_project_and_a_reimport_that_names_none(runtime, tmp_path, two_projects):
    erp, _ = two_projects
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER[:-1], row("1")[:-1]])
    import_table(runtime, sheet, dry_run=False, now=NOW, default_project="erp")
    assert projects_of(runtime) == {"1": erp}
    changed = write_xlsx(tmp_path / "again.xlsx", [HEADER[:-1], row("1", description="發票要顯示統編")[:-1]])
    report = import_table(runtime, changed, dry_run=False, now=NOW)
    assert report.updated == 1 and projects_of(runtime) == {"1": erp}


def test_cocreate_import_takes_project(runtime, tmp_path, two_projects, monkeypatch):
    from webhooks.cli import table as cli_table

    erp, _ = two_projects
    monkeypatch.setattr(cli_table, "runtime_for", lambda config: runtime)
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER[:-1], row("1")[:-1]])
    result = CliRunner().invoke(cli_table.import_command, [str(sheet), "--project", "erp"])
    assert result.exit_code == 0, result.output
    assert projects_of(runtime) == {"1": erp}


def test_the_export_keeps_its_columns():
    assert "project" not in [column.key for column in EXPORTED]
