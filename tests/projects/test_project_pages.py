"""The project pages: list, form, page with its criteria (state, evidence, sign-off, linked needs), the figures
at a glance, the acceptance report (HTML in the customer's language; PDF by Chromium, 503 without it), login and
CSRF like every other form."""

from __future__ import annotations

import io
import re
import shutil

import pytest

from sync.ledger.projects import add_project, get_project, set_need_project
from tests.factories import DEFAULT_YAML, file_need
from tests.web.pages import csrf_token_of, log_in

ZH_CUSTOMER = DEFAULT_YAML.replace("customers:\n", "customers:\n  - key: globex\n    name: 環球公司\n    locale: "
                                                   "zh_Hant\n", 1)


@pytest.fixture
def settings():
    from plugin.loading import parse_settings

    return parse_settings(ZH_CUSTOMER, "test.yaml")


FORM = {"key": "erp", "customer": "acme", "name": "ERP rollout", "goal": "Invoices from the ERP",
        "status": "building", "go_live": "2027-01-15", "cadence": "weekly", "lead": "Wang Wei",
        "interface_name": "Li Na", "interface_role": "IT", "interface_contact": "li.na@acme.example",
        "contacts.1.side": "ours", "contacts.1.name": "Wang Wei", "contacts.1.channel": "email",
        "contacts.1.address": "wang.wei@example.com", "contacts.2.side": "theirs", "contacts.2.name": "",
        "criteria.1.what": "Invoices printed", "criteria.1.target": "100%", "criteria.1.measured_by": "audit",
        "criteria.2.what": "Login time", "criteria.2.target": "< 2 s", "criteria.2.measured_by": "p95",
        "criteria.3.what": "", "notes": "Internal: budget is tight"}


def test_a_project_is_created_from_the_form_and_listed(cs_client, runtime):
    response = cs_client.post("/projects/new", data=FORM)
    assert response.status_code == 302 and response.headers["Location"].endswith("/projects/erp")
    with runtime.Session() as session:
        project = get_project(session, "erp")
        assert [c.what for c in project.criteria] == ["Invoices printed", "Login time"]
        assert project.emergency_contacts == [{"side": "ours", "name": "Wang Wei", "role": "", "channel": "email",
                                               "address": "wang.wei@example.com"}]
    page = cs_client.get("/projects").get_data(as_text=True)
    assert "ERP rollout" in page and "0 / 2" in page
    detail = cs_client.get("/projects/erp").get_data(as_text=True)
    assert 'id="risk-flags"' in detail and 'id="open-action-items"' in detail
    assert "Internal: budget is tight" in detail


def test_the_form_names_every_problem_and_keeps_what_was_typed(cs_client, runtime):
    response = cs_client.post("/projects/new", data=FORM | {"key": "Bad Key", "name": "",
                                                            "contacts.1.channel": "fax"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Lower-case letters" in page and "This field is required." in page and "the channel is one of" in page
    assert 'value="Invoices printed"' in page


def test_editing_a_project(cs_client, runtime):
    cs_client.post("/projects/new", data=FORM)
    form = {k: v for k, v in FORM.items() if not k.startswith("criteria.")} | {"status": "acceptance"}
    assert cs_client.post("/projects/erp/edit", data=form).status_code == 302
    with runtime.Session() as session:
        assert get_project(session, "erp").status == "acceptance"
    assert cs_client.post("/projects/erp/edit", data=form | {"go_live": "soon"}).status_code == 400
    assert cs_client.get("/projects/nope/edit").status_code == 404


def test_criteria_state_evidence_sign_off_and_needs(cs_client, runtime):
    cs_client.post("/projects/new", data=FORM)
    need = file_need(runtime)
    set_need_project(runtime, need.ref, "erp")
    with runtime.Session() as session:
        first = get_project(session, "erp").criteria[0].id
    assert cs_client.post(f"/projects/erp/criteria/{first}/needs", data={"refs": need.ref.lower()}).status_code == 302
    response = cs_client.post(f"/projects/erp/criteria/{first}/state", data={
        "state": "met", "evidence_text": "50/50 invoices printed", "evidence_url": "https://wiki.example/audit",
        "evidence_shared": "1", "sign_off": "1",
        "evidence_file": (io.BytesIO(b"%PDF-1.4 audit"), "audit.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    page = cs_client.get("/projects/erp").get_data(as_text=True)
    assert "Signed off by cs1" in page and "1 / 2" in page and need.ref in page
    download = cs_client.get(f"/projects/erp/criteria/{first}/evidence")
    assert download.data == b"%PDF-1.4 audit" and "attachment" in download.headers["Content-Disposition"]
    bad = cs_client.post(f"/projects/erp/criteria/{first}/state", data={"state": "done"})
    assert bad.status_code == 400 and "Open, met, not met or waived." in bad.get_data(as_text=True)
    assert cs_client.post(f"/projects/erp/criteria/{first}/needs", data={"refs": "N-9999"}).status_code == 400
    assert cs_client.post("/projects/erp/criteria/999/state", data={"state": "met"}).status_code == 404
    added = cs_client.post("/projects/erp/criteria", data={"what": "Reports export", "target": "xlsx"})
    assert added.status_code == 302
    assert cs_client.post("/projects/erp/criteria", data={"what": ""}).status_code == 400


def test_the_page_shows_progress_at_a_glance(cs_client, runtime):
    cs_client.post("/projects/new", data=FORM)
    for urgency in ("high", "low"):
        set_need_project(runtime, file_need(runtime, urgency=urgency).ref, "erp")
    page = cs_client.get("/projects/erp").get_data(as_text=True)
    by_urgency = re.search(r'id="needs-by-urgency">(.*?)</ul>', page, re.DOTALL).group(1)
    assert "High: 1" in by_urgency and "Low: 1" in by_urgency
    assert re.search(r'id="criteria-met">\s*0 / 2', page)


def test_pages_need_a_login_and_forms_a_csrf_token(client, app, make_user, runtime):
    assert client.get("/projects").status_code == 302
    assert client.get("/projects/new").status_code == 302
    make_user("cs1", "password1", "cs")
    log_in(client, csrf_token=csrf_token_of(client.get("/login").get_data(as_text=True)))
    assert client.post("/projects/new", data=FORM).status_code == 400
    token = csrf_token_of(client.get("/projects/new").get_data(as_text=True))
    assert client.post("/projects/new", data=FORM | {"csrf_token": token}).status_code == 302
    with runtime.Session() as session:
        from sync.ledger.project_tables import Project

        assert session.query(Project).count() == 1


def test_the_acceptance_report_is_in_the_customers_language(cs_client, runtime):
    add_project(runtime, {"key": "bi", "customer": "globex", "name": "報表平台", "go_live": "2027-02-01",
                          "interface_name": "陳大文", "lead": "Wang Wei"},
                criteria=[{"what": "月報準時產出", "target": "每月 1 日", "measured_by": "排程紀錄"}])
    page = cs_client.get("/projects/bi/acceptance").get_data(as_text=True)
    assert 'lang="zh-Hant"' in page and "驗收報告" in page and "月報準時產出" in page and "陳大文" in page
    assert cs_client.get("/projects/nope/acceptance").status_code == 404


def test_without_chromium_the_pdf_answers_503_saying_why(cs_client, runtime, monkeypatch):
    add_project(runtime, {"key": "bi", "customer": "acme", "name": "BI"})
    monkeypatch.setenv("COCREATE_CHROMIUM", "/nonexistent/chromium")
    response = cs_client.get("/projects/bi/acceptance.pdf")
    assert response.status_code == 503 and "needs Chromium" in response.get_data(as_text=True)


@pytest.mark.skipif(shutil.which("chromium") is None and shutil.which("pdftotext") is None,
                    reason="Chromium is not installed")
def test_the_pdf_is_printed_by_chromium(cs_client, runtime):
    add_project(runtime, {"key": "bi", "customer": "acme", "name": "BI rollout"},
                criteria=[{"what": "Dashboards load", "target": "< 3 s"}])
    response = cs_client.get("/projects/bi/acceptance.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Type"] == "application/pdf"


def test_the_status_page_shows_the_project_without_internal_notes(client, runtime):
    from sync.ledger.customers import issue_status_token

    project = add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout", "goal": "Invoices",
                                    "go_live": "2027-01-15", "notes": "Internal: budget is tight"},
                          criteria=[{"what": "Invoices printed", "target": "100%", "notes": "Internal: risky"},
                                    {"what": "Login time", "target": "< 2 s"}])
    first, second = (criterion.id for criterion in project.criteria)
    from sync.ledger.projects import set_criterion_state

    set_criterion_state(runtime, "erp", first, "cs1", "met", evidence_text="50 of 50 printed", evidence_shared=True)
    set_criterion_state(runtime, "erp", second, "cs1", "not_met", evidence_text="Internal: p95 was 4 s")
    token = issue_status_token(runtime, "acme")
    page = client.get(f"/s/{token}").get_data(as_text=True)
    section = re.search(r'<section class="card project-section" id="project-erp">(.*?)</section>', page,
                        re.DOTALL).group(1)
    assert "ERP rollout" in section and "Invoices printed" in section and "2027-01-15" in section
    assert "50 of 50 printed" in section and "1 / 2" in section
    assert "Internal" not in page


def test_the_need_form_files_into_a_project_and_the_edit_moves_it(cs_client, runtime):
    from tests.factories import need_data

    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout"})
    add_project(runtime, {"key": "bi", "customer": "globex", "name": "報表平台"})
    form = need_data(reported_at="2026-11-20T09:30")
    assert 'value="erp" selected' in cs_client.get("/needs/new?project=erp").get_data(as_text=True)
    wrong = cs_client.post("/needs/new", data=form | {"project": "bi"})
    assert wrong.status_code == 400 and "Project bi is globex" in wrong.get_data(as_text=True)
    unknown = cs_client.post("/needs/new", data=form | {"project": "nope"})
    assert unknown.status_code == 400 and "No project nope." in unknown.get_data(as_text=True)
    filed = cs_client.post("/needs/new", data=form | {"project": "erp"})
    assert filed.status_code == 302
    ref = filed.headers["Location"].rsplit("/", 1)[1]
    page = cs_client.get(f"/needs/{ref}").get_data(as_text=True)
    assert 'href="/projects/erp">ERP rollout</a>' in page
    edit = cs_client.get(f"/needs/{ref}/edit").get_data(as_text=True)
    assert 'value="erp" selected' in edit
    version = re.search(r'name="version"[^>]*value="(\d+)"', edit).group(1)
    moved = cs_client.post(f"/needs/{ref}/edit", data=form | {"project": "", "version": version})
    assert moved.status_code == 302
    history = cs_client.get(f"/needs/{ref}").get_data(as_text=True)
    assert "ERP rollout (erp)" in history
    with runtime.Session() as session:
        from sync.ledger.store import Need

        assert session.query(Need).filter_by(ref=ref).one().project_id is None


def test_the_minutes_form_puts_minutes_in_a_project(cs_client, runtime):
    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout"})
    form = {"topic": "Weekly", "customer": "acme", "date": "2026-11-20", "open_questions": "Which branches?",
            "action_items.1.text": "Send the list", "action_items.1.owner": "Wang Wei", "project": "erp"}
    assert 'value="erp" selected' in cs_client.get("/minutes/new?project=erp&customer=acme").get_data(as_text=True)
    bad = cs_client.post("/minutes/new", data=form | {"project": "nope"})
    assert bad.status_code == 400 and "No project nope." in bad.get_data(as_text=True)
    saved = cs_client.post("/minutes/new", data=form)
    assert saved.status_code == 302
    assert 'href="/projects/erp">ERP rollout</a>' in cs_client.get(saved.headers["Location"]).get_data(as_text=True)
    page = cs_client.get("/projects/erp").get_data(as_text=True)
    items = re.search(r'id="open-action-items">(.*?)</section>', page, re.DOTALL).group(1)
    assert "Send the list" in items


def test_new_minutes_of_a_project_start_from_the_last_meeting(cs_client, runtime):
    import datetime as dt

    add_project(runtime, {"key": "erp", "customer": "acme", "name": "ERP rollout"})
    assert "Started from the minutes" not in cs_client.get("/minutes/new?project=erp").get_data(as_text=True)
    due = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    first = {"topic": "Weekly 1", "customer": "acme", "date": "2026-11-20", "project": "erp",
             "attendees": "Li Na\nWang Wei", "open_questions": "Which branches?",
             "action_items.1.text": "Send the list", "action_items.1.owner": "Wang Wei",
             "action_items.1.due_date": due,
             "action_items.2.text": "Book the room", "action_items.2.owner": "Li Na"}
    saved = cs_client.post("/minutes/new", data=first)
    assert saved.status_code == 302
    minutes_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    with runtime.Session() as session:
        from sync.ledger.store import ActionItem

        booked = session.query(ActionItem).filter_by(minutes_id=minutes_id, text="Book the room").one().id
    cs_client.post(f"/minutes/{minutes_id}/action-items/{booked}/done", data={"done": "1"})
    page = cs_client.get("/minutes/new?project=erp&customer=acme").get_data(as_text=True)
    assert "Started from the minutes of 2026-11-20 (Weekly 1)" in page
    assert "Which branches?</textarea>" in page and "Li Na\nWang Wei</textarea>" in page
    assert 'value="Send the list"' in page and f'value="{due}"' in page and "Book the room" not in page
    carried = {"topic": "Weekly 2", "customer": "acme", "date": "2026-11-27", "project": "erp",
               "open_questions": "Which branches?", "action_items.1.text": "Send the list",
               "action_items.1.owner": "Wang Wei", "action_items.1.due_date": due}
    assert cs_client.post("/minutes/new", data=carried).status_code == 302
    items = re.search(r'id="open-action-items">(.*?)</section>', cs_client.get("/projects/erp").get_data(as_text=True),
                      re.DOTALL).group(1)
    assert items.count("Send the list") == 1
