"""Reconcile applies a tracker change like a webhook does: the fields the config takes over, the status only
when ``sync.inbound.status`` is on."""

import datetime as dt

import pytest
import responses
from sqlalchemy import select

from plugin.loading import parse_settings
from plugin.need import validate_need
from sync.intake import create_need
from sync.ledger.store import Need, OutboxMessage
from sync.loop.reconcile import reconcile
from sync.runtime import build_runtime
from tests.factories import need_data
from tests.jira.fake_jira import FakeJira, check_cloud_calls
from tests.sync.trackers import JIRA_YAML

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

WANG = "  - {name: Wang Wei, email: wang.wei@example.com, jira_account_id: acc-wang, github_login: wangwei}\n"
LI = "  - {name: Li Na, email: li.na@example.com, jira_account_id: acc-li, github_login: lina}\n"


@pytest.fixture
def site():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei", "acc-li": "Li Na"})
        yield fake
        check_cloud_calls(mock.calls)


def runtime_for(tmp_path, extra_yaml=""):
    """A runtime on the fake Jira site whose people include Li Na (``acc-li``)."""
    assert WANG in JIRA_YAML
    settings = parse_settings(JIRA_YAML.replace(WANG, WANG + LI) + extra_yaml, "jira.yaml")
    return build_runtime(settings, {"COCREATE_HOME": str(tmp_path)}, immediate=True)


def file_need(runtime):
    """A need stored through intake; its sync job runs inline and creates CS-1."""
    return create_need(runtime, validate_need(need_data(), runtime.settings, now=NOW))


def stored(runtime, ref):
    with runtime.Session() as session:
        return session.scalars(select(Need).where(Need.ref == ref)).one()


def test_reconcile_leaves_the_status_alone_when_inbound_status_is_off(site, tmp_path):
    runtime = runtime_for(tmp_path, "sync:\n  inbound: {status: false}\n")
    try:
        need = file_need(runtime)
        assert stored(runtime, need.ref).issue_key == "CS-1"
        site.set_status("CS-1", "Done", "done")  # no webhook arrives
        assert reconcile(runtime)["changed"] == 0
        assert stored(runtime, need.ref).status == runtime.settings.initial_status
        assert not site.comments.get("CS-1")
        with runtime.Session() as session:
            assert session.scalars(select(OutboxMessage)).all() == []
    finally:
        runtime.engine.dispose()


def test_reconcile_takes_over_the_assignee_like_a_webhook(site, tmp_path):
    runtime = runtime_for(tmp_path)
    try:
        need = file_need(runtime)
        assert stored(runtime, need.ref).owner == "Wang Wei"
        site.issues["CS-1"]["fields"]["assignee"] = site._user("acc-li")  # reassigned in Jira, no webhook
        site._touch("CS-1")
        assert reconcile(runtime)["changed"] == 0  # the status did not change
        assert stored(runtime, need.ref).owner == "Li Na"
        assert stored(runtime, need.ref).status == runtime.settings.initial_status
    finally:
        runtime.engine.dispose()
