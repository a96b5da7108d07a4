"""The projects' store: checks and writes of projects and criteria, evidence files, linked needs, a need's and a
minutes record's project, the counts, and the migration keeping every need and minutes record in no project."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from plugin.loading import parse_settings
from sync.ledger import projects as store_projects
from sync.ledger.projects import (
    EvidenceFile,
    InvalidProject,
    UnknownCriterion,
    UnknownProject,
    add_criterion,
    add_project,
    days_to_go_live,
    delete_project,
    edit_project,
    get_project,
    link_needs,
    list_projects,
    open_action_items,
    project_counts,
    project_id_for,
    set_criterion_state,
    set_minutes_project,
    set_need_project,
    unlink_need,
)
from sync.ledger.store import ActionItem, MeetingMinutes, Need, make_engine
from tests.factories import DEFAULT_YAML, file_need

TWO_CUSTOMERS = DEFAULT_YAML.replace("customers:\n", "customers:\n  - key: globex\n    name: Globex\n    locale: "
                                                     "zh_Hant\n", 1)


@pytest.fixture
def settings():
    return parse_settings(TWO_CUSTOMERS, "test.yaml")


def project_data(**overrides):
    data = {"key": "erp-rollout", "customer": "acme", "name": "ERP rollout", "goal": "Invoices from the ERP",
            "go_live": "2027-01-15", "status": "building", "cadence": "weekly", "interface_name": "Li Na",
            "interface_role": "IT manager", "interface_contact": "li.na@acme.example", "lead": "Wang Wei",
            "emergency_contacts": [
                {"side": "ours", "name": "Wang Wei", "role": "lead", "channel": "email",
                 "address": "wang.wei@example.com"},
                {"side": "theirs", "name": "Li Na", "role": "IT", "channel": "wecom",
                 "address": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
                {"side": "theirs", "name": "", "role": "", "channel": "", "address": ""}]}
    data.update(overrides)
    return data


CRITERIA = [{"what": "Invoices printed", "target": "100%", "measured_by": "audit of 50 invoices"},
            {"what": "Login time", "target": "< 2 s", "measured_by": "p95 over a week"}]


def test_a_project_is_stored_with_its_criteria_and_contacts(runtime):
    project = add_project(runtime, project_data(), actor="cs1", criteria=CRITERIA)
    assert project.key == "erp-rollout" and project.go_live == dt.date(2027, 1, 15)
    assert [c.what for c in project.criteria] == ["Invoices printed", "Login time"]
    assert [c.state for c in project.criteria] == ["open", "open"]
    assert [c["side"] for c in project.emergency_contacts] == ["ours", "theirs"]  # the blank row is dropped
    assert project.created_by == "cs1" and project.lead == "Wang Wei"
    with runtime.Session() as session:
        assert [p.key for p in list_projects(session, customer="acme")] == ["erp-rollout"]
        assert list_projects(session, customer="globex") == []


def test_a_customer_is_resolved_by_its_name(runtime):
    assert add_project(runtime, project_data(customer="ACME Corp")).customer == "acme"


def test_every_problem_is_named_at_once(runtime):
    with pytest.raises(InvalidProject) as caught:
        add_project(runtime, project_data(key="Bad Key", customer="nobody", name="", status="done",
                                          cadence="daily", go_live="15/01/2027",
                                          emergency_contacts=[{"name": "X", "channel": "fax", "address": "1"},
                                                              {"name": "Y", "channel": "email", "address": "y"},
                                                              {"name": "Z", "channel": "slack",
                                                               "address": "not a url"}]),
                    criteria=[{"what": ""}])
    fields = caught.value.by_field()
    assert set(fields) == {"key", "customer", "name", "status", "cadence", "go_live", "emergency_contacts",
                           "acceptance_criteria[1].what"}
    assert len(fields["emergency_contacts"]) == 3
    with runtime.Session() as session:
        assert list_projects(session) == []


def test_a_key_is_taken_once(runtime):
    add_project(runtime, project_data())
    with pytest.raises(InvalidProject) as caught:
        add_project(runtime, project_data(name="Again"))
    assert caught.value.by_field() == {"key": ["There is already a project erp-rollout."]}


def test_editing_keeps_what_is_not_given(runtime):
    add_project(runtime, project_data())
    edited = edit_project(runtime, "erp-rollout", {"status": "acceptance", "cadence": ""})
    assert (edited.status, edited.cadence, edited.name) == ("acceptance", None, "ERP rollout")
    with pytest.raises(UnknownProject):
        edit_project(runtime, "nope", {"status": "closed"})
    with runtime.Session() as session:
        assert list_projects(session, open_only=True) != []
    edit_project(runtime, "erp-rollout", {"status": "closed"})
    with runtime.Session() as session:
        assert list_projects(session, open_only=True) == []


def test_a_need_belongs_to_a_project_of_its_customer(runtime):
    add_project(runtime, project_data())
    add_project(runtime, project_data(key="globex-bi", customer="globex", name="BI"))
    need = file_need(runtime)
    set_need_project(runtime, need.ref, "erp-rollout")
    with pytest.raises(InvalidProject) as caught:
        set_need_project(runtime, need.ref, "globex-bi")
    assert "project" in caught.value.by_field()
    with pytest.raises(InvalidProject) as caught:
        set_need_project(runtime, need.ref, "missing")
    assert caught.value.by_field() == {"project": ["No project missing."]}
    with runtime.Session() as session:
        assert session.scalars(sa.select(Need.project_id).where(Need.ref == need.ref)).one() is not None
        assert project_id_for(session, "  ") is None
    set_need_project(runtime, need.ref, None)
    with runtime.Session() as session:
        assert session.scalars(sa.select(Need.project_id).where(Need.ref == need.ref)).one() is None


def _minutes(runtime, **fields):
    with runtime.Session.begin() as session:
        minutes = MeetingMinutes(customer="acme", topic="Weekly", meeting_date=dt.date(2026, 11, 20), **fields)
        minutes.action_items = [ActionItem(text="Send the invoice sample", owner="Wang Wei", position=0),
                                ActionItem(text="Done already", owner="Wang Wei", position=1,
                                           done_at=dt.datetime(2026, 11, 21, tzinfo=dt.UTC))]
        session.add(minutes)
        session.flush()
        return minutes.id


def test_minutes_belong_to_a_project_and_their_open_action_items_show(runtime):
    project = add_project(runtime, project_data())
    minutes_id = _minutes(runtime)
    set_minutes_project(runtime, minutes_id, "erp-rollout")
    with runtime.Session() as session:
        assert [item.text for item in open_action_items(session, project.id)] == ["Send the invoice sample"]
    with pytest.raises(LookupError):
        set_minutes_project(runtime, 999, "erp-rollout")


def test_criteria_state_evidence_and_sign_off(runtime):
    add_project(runtime, project_data(), criteria=CRITERIA)
    criterion = add_criterion(runtime, "erp-rollout", {"what": "Reports export", "target": "xlsx",
                                                       "measured_by": "CS tries it"})
    assert criterion.position == 2
    pdf = EvidenceFile("audit.pdf", b"%PDF-1.4 audit", "application/pdf")
    met = set_criterion_state(runtime, "erp-rollout", criterion.id, "cs1", "met", evidence_text="50/50 printed",
                              evidence_url="https://wiki.example/audit", evidence_file=pdf, sign_off=True)
    assert (met.state, met.signed_off_by, met.state_changed_by) == ("met", "cs1", "cs1")
    assert met.signed_off_at is not None and met.evidence_file_name == "audit.pdf"
    first = runtime.uploads / met.evidence_stored_name
    assert first.read_bytes() == b"%PDF-1.4 audit"
    replaced = set_criterion_state(runtime, "erp-rollout", criterion.id, "cs2", "met",
                                   evidence_file=EvidenceFile("b.txt", b"again", "text/plain"))
    assert not first.exists() and (runtime.uploads / replaced.evidence_stored_name).exists()
    assert replaced.signed_off_by == "cs1"  # not signed off again: the first sign-off stays
    reopened = set_criterion_state(runtime, "erp-rollout", criterion.id, "cs1", "open")
    assert reopened.signed_off_by is None and reopened.evidence_text == "50/50 printed"


def test_bad_state_evidence_and_ids_are_refused(runtime):
    project = add_project(runtime, project_data(), criteria=CRITERIA)
    first = project.criteria[0].id
    with pytest.raises(InvalidProject) as caught:
        set_criterion_state(runtime, "erp-rollout", first, "cs1", "done", evidence_url="ftp://x",
                            evidence_file=EvidenceFile("x.exe", b"MZ", "application/x-msdownload"))
    assert set(caught.value.by_field()) == {"state", "evidence_url", "evidence_file"}
    with pytest.raises(InvalidProject):
        set_criterion_state(runtime, "erp-rollout", first, "cs1", "open", sign_off=True)
    with pytest.raises(UnknownCriterion):
        set_criterion_state(runtime, "erp-rollout", 999, "cs1", "met")
    with pytest.raises(InvalidProject):
        add_criterion(runtime, "erp-rollout", {"what": " "})
    assert not runtime.uploads.exists() or not any(runtime.uploads.iterdir())


def test_needs_are_linked_to_criteria_of_their_project(runtime):
    project = add_project(runtime, project_data(), criteria=CRITERIA)
    inside, outside = file_need(runtime), file_need(runtime, title="Another")
    set_need_project(runtime, inside.ref, "erp-rollout")
    criterion = project.criteria[0].id
    assert link_needs(runtime, "erp-rollout", criterion, [inside.ref, inside.ref]) == [inside.ref]
    assert link_needs(runtime, "erp-rollout", criterion, [inside.ref]) == []
    with pytest.raises(InvalidProject) as caught:
        link_needs(runtime, "erp-rollout", criterion, [outside.ref, "N-9999"])
    assert caught.value.by_field()["needs"] == [f"{outside.ref} is not in this project.", "No need N-9999."]
    with runtime.Session() as session:
        linked = store_projects.criterion_needs(session, [criterion])
        assert [n.ref for n in linked[criterion]] == [inside.ref]
    assert unlink_need(runtime, "erp-rollout", criterion, inside.ref) is True
    assert unlink_need(runtime, "erp-rollout", criterion, inside.ref) is False


def test_counts_and_days_to_go_live(runtime):
    project = add_project(runtime, project_data(), criteria=CRITERIA)
    for urgency in ("high", "high", "low"):
        set_need_project(runtime, file_need(runtime, urgency=urgency).ref, "erp-rollout")
    file_need(runtime)  # in no project
    set_criterion_state(runtime, "erp-rollout", project.criteria[0].id, "cs1", "met")
    with runtime.Session() as session:
        counts = project_counts(session, project.id)
    assert counts.needs == 3 and counts.by_urgency == {"high": 2, "low": 1}
    assert counts.by_stage == {"rollout": 3}
    assert (counts.criteria, counts.criteria_met) == (2, 1)
    assert days_to_go_live(project, dt.date(2027, 1, 10)) == 5
    assert days_to_go_live(project, dt.date(2027, 1, 20)) == -5


def test_deleting_a_project_keeps_its_needs_and_minutes(runtime):
    project = add_project(runtime, project_data(), criteria=CRITERIA)
    need = file_need(runtime)
    set_need_project(runtime, need.ref, "erp-rollout")
    minutes_id = _minutes(runtime, project_id=project.id)
    set_criterion_state(runtime, "erp-rollout", project.criteria[0].id, "cs1", "met",
                        evidence_file=EvidenceFile("a.png", b"png", "image/png"))
    delete_project(runtime, "erp-rollout")
    with runtime.Session() as session:
        assert session.scalars(sa.select(Need.project_id).where(Need.ref == need.ref)).one() is None
        assert session.get(MeetingMinutes, minutes_id).project_id is None
        with pytest.raises(UnknownProject):
            get_project(session, "erp-rollout")
    assert not any(runtime.uploads.glob("P-*"))


def _alembic(connection) -> Config:
    from pathlib import Path

    import sync.ledger.engine as engine_module

    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def test_the_migration_keeps_every_need_and_minutes_record_in_no_project(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0016_people_records")
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None)  # as SQLite keeps it
        connection.execute(sa.text(
            "INSERT INTO needs (ref, category, title, description, urgency, reporter_name, reported_at, status, "
            "remarks, customer, created_at, updated_at, status_changed_at, sync_state, synced_fields, version) "
            "VALUES ('N-0001', 'billing', 'Old need', '', 'high', 'Li', :now, 'new', '', 'acme', :now, :now, "
            ":now, 'pending', '{}', 1)"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO minutes (customer, topic, meeting_date, place, attendees, key_points, decisions, "
            "open_questions, visibility, version, created_at, updated_at) VALUES ('acme', 'Old', '2026-01-01', "
            "'', '[]', '', '', '', 'internal', 1, :now, :now)"), {"now": now})
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "0020_projects")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT ref, project_id FROM needs")).all() == [("N-0001", None)]
        assert connection.execute(sa.text("SELECT topic, project_id FROM minutes")).all() == [("Old", None)]
        # the search index still follows the needs table (its triggers were not dropped with a rebuilt table)
        assert connection.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                          "AND tbl_name = 'needs'")).scalar() >= 3
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), "0016_people_records")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT ref FROM needs")).scalars().all() == ["N-0001"]
        assert "projects" not in sa.inspect(connection).get_table_names()
    engine.dispose()
