"""/admin/people and /admin/users: held for admins, and a person added on the page is read by another process
without a restart; the last active admin is never deactivated or demoted."""

from __future__ import annotations

import pytest

from sync.runtime import build_runtime

ROUTES = ["/admin/people", "/admin/users"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_cs_user_is_refused_and_a_stranger_sent_to_log_in(cs_client, web_app, path):
    assert cs_client.get(path).status_code == 403
    answer = web_app.test_client().get(path)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_a_person_added_on_the_page_is_read_by_another_process(admin_client, runtime, settings):
    other = build_runtime(settings, {"COCREATE_HOME": str(runtime.home)}, immediate=True, migrate=False)
    try:
        assert other.people().person("Zhao Min") is None
        answer = admin_client.post("/admin/people", data={"name": "Zhao Min", "email": "zhao.min@example.com"})
        assert answer.status_code == 302
        assert other.people().person("zhao.min@example.com").name == "Zhao Min"
    finally:
        other.close()


def test_bad_input_writes_nothing(admin_client, runtime):
    before = runtime.people().records
    answer = admin_client.post("/admin/people", data={"name": "", "email": "not-an-address"})
    assert answer.status_code == 400
    assert runtime.people().records == before


def test_the_last_active_admin_is_kept(admin_client, runtime):
    page = admin_client.get("/admin/users")
    assert "root" in page.text
    with runtime.Session() as session:
        from sync.ledger.accounts import user_id_of

        root = user_id_of(session, "root")
    answer = admin_client.post(f"/admin/users/{root}/deactivate", follow_redirects=True)
    assert "last active admin" in answer.text
    answer = admin_client.post(f"/admin/users/{root}/role", data={"role": "cs"}, follow_redirects=True)
    assert "last active admin" in answer.text
    assert admin_client.get("/admin/users").status_code == 200  # still an admin
