"""POST/GET /api/v1/projects and GET /api/v1/projects/<key>, and a need's ``project`` through POST/PATCH/GET
/api/v1/needs: created with criteria, read with its needs and criteria, bad input refused naming each field with
nothing stored. Every answer is checked against webhooks/openapi.json by the ``api`` fixture."""

from __future__ import annotations

from sync.ledger.projects import link_needs, set_criterion_state
from tests.factories import need_data

PROJECT = {"key": "erp-rollout", "customer": "acme", "name": "ERP rollout", "goal": "Invoices from the ERP",
           "go_live": "2027-01-15",
           "acceptance_criteria": [{"what": "Invoices printed", "target": "100%", "measured_by": "audit"},
                                   {"what": "Login time", "target": "< 2 s", "measured_by": "p95"}]}


def test_a_project_is_created_with_its_criteria_and_read_back(api):
    response = api.post("/api/v1/projects", PROJECT)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith("/api/v1/projects/erp-rollout")
    assert body["status"] == "planning" and body["go_live"] == "2027-01-15" and body["created_by"] == "api-user"
    assert [c["what"] for c in body["acceptance_criteria"]] == ["Invoices printed", "Login time"]
    assert [c["state"] for c in body["acceptance_criteria"]] == ["open", "open"]
    listed = api.get("/api/v1/projects").get_json()["items"]
    assert [item["key"] for item in listed] == ["erp-rollout"]


def test_a_need_is_filed_into_a_project_and_the_project_lists_it(api, runtime):
    api.post("/api/v1/projects", PROJECT)
    filed = api.post("/api/v1/needs", need_data(project="erp-rollout"))
    assert filed.status_code == 201, filed.get_json()
    ref = filed.get_json()["ref"]
    need = api.get(f"/api/v1/needs/{ref}")
    assert need.get_json()["project"] == "erp-rollout"
    project = api.get("/api/v1/projects/erp-rollout").get_json()
    criterion = project["acceptance_criteria"][0]["id"]
    link_needs(runtime, "erp-rollout", criterion, [ref])
    set_criterion_state(runtime, "erp-rollout", criterion, "cs1", "met", evidence_text="50/50", sign_off=True)
    project = api.get("/api/v1/projects/erp-rollout").get_json()
    assert project["needs"] == [{"ref": ref, "title": need_data()["title"], "status": "new", "urgency": "high",
                                 "stage": "rollout"}]
    first = project["acceptance_criteria"][0]
    assert (first["state"], first["needs"], first["signed_off_by"]) == ("met", [ref], "cs1")
    assert project["criteria_met"] == 1
    moved = api.patch(f"/api/v1/needs/{ref}", {"project": None}, etag=need.headers["ETag"])
    assert moved.status_code == 200 and moved.get_json()["project"] is None
    assert api.get("/api/v1/projects/erp-rollout").get_json()["needs"] == []


def test_an_unknown_project_is_refused_and_no_need_stored(api, need_count):
    response = api.post("/api/v1/needs", need_data(project="nope"))
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"project": ["No project nope."]}
    wrong_type = api.post("/api/v1/needs", need_data(project=7))
    assert wrong_type.status_code == 422 and "project" in wrong_type.get_json()["fields"]
    assert need_count() == 0


def test_a_need_stays_in_its_project_when_a_patch_leaves_it_out(api):
    api.post("/api/v1/projects", PROJECT)
    ref = api.post("/api/v1/needs", need_data(project="erp-rollout")).get_json()["ref"]
    etag = api.get(f"/api/v1/needs/{ref}").headers["ETag"]
    edited = api.patch(f"/api/v1/needs/{ref}", {"title": "Tax number on invoices"}, etag=etag)
    assert edited.get_json()["project"] == "erp-rollout"


def test_bad_projects_are_refused_naming_each_field(api):
    response = api.post("/api/v1/projects", {"key": "Bad Key", "customer": "nobody", "name": 5, "colour": "red",
                                             "acceptance_criteria": [{"what": ""}, "x", {"what": "ok", "size": 1}]})
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert set(fields) == {"colour", "name", "acceptance_criteria[2]", "acceptance_criteria[3].size"}
    response = api.post("/api/v1/projects", {"key": "Bad Key", "customer": "nobody", "name": "",
                                             "acceptance_criteria": [{"what": ""}]})
    assert set(response.get_json()["fields"]) == {"key", "customer", "name", "acceptance_criteria[1].what"}
    api.post("/api/v1/projects", PROJECT)
    again = api.post("/api/v1/projects", PROJECT)
    assert again.status_code == 422 and again.get_json()["fields"] == {
        "key": ["There is already a project erp-rollout."]}
    assert api.post("/api/v1/projects", "[]").status_code == 400


def test_an_unknown_project_is_404_and_a_token_is_needed(api, client):
    assert api.get("/api/v1/projects/nope").status_code == 404
    assert client.get("/api/v1/projects").status_code == 401
    assert client.post("/api/v1/projects", json=PROJECT).status_code == 401
