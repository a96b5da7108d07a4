"""The duplicates' pages: ``GET /needs/similar`` (login, JSON), the intake form's suggestions box and script,
the merge confirm step (nothing merges without the POST), the need page's merges and the undo, CSRF."""

from __future__ import annotations

from sqlalchemy import select

from sync.ledger.store import Need, NeedMerge
from tests.web.pages import csrf_token_of, log_in
from tests.web.test_needs_intake import form_data
from webhooks.app import create_app


def test_similar_needs_as_json_for_a_logged_in_user(cs_client, make_need):
    make_need(title="導出的Excel報表中文亂碼", description="月報匯出後用Excel打開顯示亂碼")
    make_need(title="報表增加按季統計")
    answer = cs_client.get("/needs/similar", query_string={"title": "报表导出Excel中文乱码", "category": "billing"})
    assert answer.status_code == 200 and answer.is_json
    data = answer.get_json()
    assert data["threshold"] > 0
    [item] = data["suggestions"]
    assert item["ref"] == "N-0001" and item["customers"] == ["ACME Corp"] and item["status_name"] == "Received"
    assert item["url"] == "/needs/N-0001" and item["issue_key"] is None and 0 < item["score"] <= 1
    assert cs_client.get("/needs/similar").get_json()["suggestions"] == []
    assert cs_client.get("/needs/similar", query_string={"title": "x" * 5000}).status_code == 200


def test_similar_needs_need_a_login(client, make_need):
    make_need()
    answer = client.get("/needs/similar?title=invoice")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_intake_form_has_the_suggestions_box_and_files_an_attached_need(cs_client, make_need):
    make_need(title="Tax number missing on PDF invoices")
    html = cs_client.get("/needs/new").text
    assert 'id="similar"' in html and "similar.js" in html and 'data-attach="Attach to this one"' in html
    assert cs_client.get("/static/similar.js").status_code == 200
    answer = cs_client.post("/needs/new", data=form_data(linked_to="N-0001", customer="acme"))
    assert answer.status_code == 302
    with cs_client.application.extensions["cocreate"].Session() as session:
        need = session.scalars(select(Need).where(Need.ref == "N-0002")).one()
    assert need.linked_to == "N-0001" and need.customer == "acme"


def test_merge_shows_both_needs_and_merges_only_on_the_confirm_post(cs_client, make_need, runtime):
    make_need(title="Invoices should show the tax number")
    make_need(title="Tax number missing on PDF invoices")
    choose = cs_client.get("/needs/N-0002/merge").text
    assert 'id="merge-suggestions"' in choose and "/needs/N-0002/merge?into=N-0001" in choose
    confirm = cs_client.get("/needs/N-0002/merge?into=n-0001")
    assert confirm.status_code == 200
    assert "Invoices should show the tax number" in confirm.text and "Tax number missing on PDF invoices" in confirm.text
    assert 'id="confirm-merge"' in confirm.text
    with runtime.Session() as session:
        assert session.scalars(select(NeedMerge)).all() == []  # seeing both merges nothing

    done = cs_client.post("/needs/N-0002/merge", data={"into": "N-0001"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/needs/N-0002")
    page = cs_client.get("/needs/N-0002").text
    assert "N-0002 merged into N-0001." in page and 'id="merges"' in page and "Merged into" in page
    assert "Merged: this need follows N-0001, its tracker issue and status." in page
    assert "was merged into this need" in cs_client.get("/needs/N-0001").text
    with runtime.Session() as session:
        merge = session.scalars(select(NeedMerge)).one()
        assert merge.merged_by == "cs1"

    undone = cs_client.post(f"/needs/merges/{merge.id}/undo")
    assert undone.status_code == 302
    page = cs_client.get("/needs/N-0002").text
    assert "The merge of N-0002 was undone." in page and "undone by cs1" in page
    assert 'id="merged-note"' not in page
    again = cs_client.post(f"/needs/merges/{merge.id}/undo")
    assert "This merge was undone already." in cs_client.get(again.headers["Location"]).text


def test_refused_merges_say_why(cs_client, make_need):
    make_need()
    assert cs_client.get("/needs/N-0404/merge").status_code == 404
    self_merge = cs_client.post("/needs/N-0001/merge", data={"into": "N-0001"})
    assert self_merge.status_code == 400 and "cannot be merged into itself" in self_merge.text
    unknown = cs_client.get("/needs/N-0001/merge?into=N-0999")
    assert unknown.status_code == 400 and "No need has the ref N-0999." in unknown.text
    assert cs_client.post("/needs/merges/404/undo").status_code == 404


def test_merge_and_undo_check_the_csrf_token(runtime, make_need, make_user):
    make_need(title="Invoices should show the tax number")
    make_need(title="Tax number missing on PDF invoices")
    make_user("cs1", "password1", "cs")
    client = create_app(runtime=runtime).test_client()
    log_in(client, csrf_token=csrf_token_of(client.get("/login").text))
    assert client.post("/needs/N-0002/merge", data={"into": "N-0001"}).status_code == 400
    page = client.get("/needs/N-0002/merge?into=N-0001").text
    assert client.post("/needs/N-0002/merge", data={"into": "N-0001", "csrf_token": csrf_token_of(page)}
                       ).status_code == 302
    with runtime.Session() as session:
        merge = session.scalars(select(NeedMerge)).one()
    assert client.post(f"/needs/merges/{merge.id}/undo").status_code == 400
    assert merge.undone_at is None
