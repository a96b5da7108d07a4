"""``cocreate project add/list/show``: a project with criteria and contacts added from the command line, listed
with its figures and shown with its criteria and needs; bad input refused with every problem named."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sync.ledger.projects import link_needs, set_criterion_state, set_need_project
from tests.factories import file_need
from webhooks.cli import projects as cli


@pytest.fixture
def run(runtime, monkeypatch):
    monkeypatch.setattr(cli, "runtime_for", lambda config: runtime)

    def invoke(*args):
        return CliRunner().invoke(cli.project, list(args))

    return invoke


CONTACTS = json.dumps([{"side": "theirs", "name": "Li Na", "role": "IT", "channel": "email",
                        "address": "li.na@acme.example"}])


def test_add_list_and_show(run, runtime):
    added = run("add", "erp", "--customer", "ACME Corp", "--name", "ERP rollout", "--go-live", "2027-01-15",
                "--cadence", "weekly", "--lead", "Wang Wei", "--interface", "Li Na", "IT", "li.na@acme.example",
                "--contacts", CONTACTS, "--criterion", "Invoices printed", "100%", "audit",
                "--criterion", "Login time", "< 2 s", "p95")
    assert added.exit_code == 0, added.output
    assert added.output == "project erp added (ERP rollout, 2 criteria)\n"
    need = file_need(runtime)
    set_need_project(runtime, need.ref, "erp")
    listed = run("list")
    assert listed.exit_code == 0
    assert listed.output.startswith("erp\tacme\tplanning\t2027-01-15\t") and "0/2 met\t1 need(s)" in listed.output
    shown = run("show", "erp")
    assert "1. [open] Invoices printed | target: 100% | measured by: audit" in shown.output
    assert "emergency (theirs): Li Na IT email li.na@acme.example" in shown.output
    assert f"  {need.ref}\tnew\thigh\t" in shown.output


def test_show_signed_off_criteria_and_their_needs(run, runtime):
    run("add", "erp", "--customer", "acme", "--name", "ERP", "--criterion", "Invoices printed", "100%", "audit")
    need = file_need(runtime)
    set_need_project(runtime, need.ref, "erp")
    from sync.ledger.projects import list_projects

    with runtime.Session() as session:
        criterion = list_projects(session)[0].criteria[0].id
    link_needs(runtime, "erp", criterion, [need.ref])
    set_criterion_state(runtime, "erp", criterion, "cs1", "met", sign_off=True)
    shown = run("show", "erp").output
    assert "[met] Invoices printed" in shown and "signed off by cs1" in shown and f"needs: {need.ref}" in shown


def test_bad_input_is_refused(run):
    bad = run("add", "Bad Key", "--customer", "nobody", "--name", "X", "--go-live", "soon")
    assert bad.exit_code == 1
    assert "key:" in bad.output and "customer:" in bad.output and "go_live:" in bad.output
    assert run("add", "erp", "--customer", "acme", "--name", "X", "--contacts", "{").exit_code == 1
    assert run("add", "erp", "--customer", "acme", "--name", "X", "--contacts", "{}").exit_code == 1
    missing = run("show", "nope")
    assert missing.exit_code == 1 and "no project nope" in missing.output
