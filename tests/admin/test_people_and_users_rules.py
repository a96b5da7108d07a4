"""/admin/people and /admin/users: CSRF, 403 for CS users on every route, the tracker lookup by e-mail against
the fake Jira and GitHub sites, file-vs-store, password reset, API tokens and deactivation."""

from __future__ import annotations

import pytest
import responses

from sync.ledger.accounts import user_id_of
from tests.contract import GITHUB, JIRA_CLOUD
from tests.github.fake_github import FakeGitHub
from tests.jira.fake_jira import FakeJira
from tests.sync.trackers import tracker_runtime
from tests.web.pages import csrf_token_of, log_in
from webhooks.app import create_app


def user_id(runtime, name):
    with runtime.Session() as session:
        return user_id_of(session, name)


def first_person_id(runtime, name):
    return next(person.id for person in runtime.people().records if person.name == name)


POSTS = ["/admin/people", "/admin/people/{person}", "/admin/people/{person}/remove", "/admin/users",
         "/admin/users/{user}/role", "/admin/users/{user}/password", "/admin/users/{user}/deactivate",
         "/admin/users/{user}/reactivate", "/admin/users/{user}/tokens", "/admin/users/{user}/tokens/1/revoke"]


def test_every_post_without_a_csrf_token_is_refused(app, runtime, make_user):
    make_user("boss", "password1", "admin")
    client = app.test_client()
    log_in(client, "boss", "password1", csrf_token=csrf_token_of(client.get("/login").text))
    ids = {"person": 1, "user": user_id(runtime, "boss")}
    before = runtime.people().records
    for path in POSTS:
        answer = client.post(path.format(**ids), data={"name": "Zhao Min", "role": "cs", "password": "password9"})
        assert answer.status_code == 400, path
    assert runtime.people().records == before


@pytest.mark.parametrize("method, path", [("get", "/admin/people"), ("get", "/admin/people/{person}"),
                                          ("get", "/admin/users"), ("get", "/admin/users/{user}")]
                         + [("post", path) for path in POSTS])
def test_a_cs_user_gets_403_on_every_people_and_users_route(cs_client, runtime, method, path):
    from sync.ledger.people import add_person

    person = add_person(runtime, {"name": "Zhao Min", "email": "zhao.min@example.com"})
    before = runtime.people().records
    answer = getattr(cs_client, method)(path.format(person=person.id, user=user_id(runtime, "cs1")),
                                        data={"name": "Evil", "role": "admin", "password": "password9"})
    assert answer.status_code == 403
    assert runtime.people().records == before
    assert cs_client.get("/admin/users").status_code == 403  # still CS


def tracker_client(kind, tmp_path):
    runtime = tracker_runtime(kind, tmp_path)
    with runtime.Session.begin() as session:
        from sync.ledger import accounts

        accounts.add_user(session, "boss", "password1", "admin")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(client, "boss", "password1")
    return runtime, client


def test_the_jira_account_is_found_by_e_mail_or_the_page_says_no_one_has_it(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        jira = FakeJira(mock, users={"acc-zhao": "Zhao Min"})
        jira.emails["acc-zhao"] = "zhao.min@example.com"
        runtime, client = tracker_client("jira", tmp_path)
        found = client.post("/admin/people", data={"name": "Zhao Min", "email": "zhao.min@example.com",
                                                   "lookup": "1"})
        assert found.status_code == 200 and 'value="acc-zhao"' in found.text
        assert runtime.people().person("Zhao Min") is None  # the lookup writes nothing
        none = client.post("/admin/people", data={"name": "Qian", "email": "qian@example.com", "lookup": "1"})
        assert "knows no one with the e-mail address qian@example.com" in none.text
        jira.fail("GET", r"/user/search", 503)
        failed = client.post("/admin/people", data={"name": "Zhao Min", "email": "zhao.min@example.com",
                                                    "lookup": "1"})
        assert failed.status_code == 502 and "could not be asked" in failed.text
        assert JIRA_CLOUD.check_calls(mock.calls) >= 3
        runtime.close()


def test_the_github_login_is_found_by_public_e_mail_or_the_page_says_no_one_has_it(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        github = FakeGitHub(mock, ["acme/billing"])
        github.public_emails["zhao.min@example.com"] = "zhaomin"
        runtime, client = tracker_client("github", tmp_path)
        found = client.post("/admin/people", data={"name": "Zhao Min", "email": "zhao.min@example.com",
                                                   "lookup": "1"})
        assert found.status_code == 200 and 'value="zhaomin"' in found.text
        none = client.post("/admin/people", data={"name": "Qian", "email": "qian@example.com", "lookup": "1"})
        assert "knows no one with the e-mail address qian@example.com" in none.text
        github.fail_next(503, "Service unavailable", method="GET")
        failed = client.post("/admin/people", data={"name": "Zhao Min", "email": "zhao.min@example.com",
                                                    "lookup": "1"})
        assert failed.status_code == 502 and "could not be asked" in failed.text
        assert runtime.people().person("Zhao Min") is None
        # The contract's GitHub subset does not describe GET /search/users; every other exchange is checked.
        searches = [call for call in mock.calls if "/search/users" in call.request.url]
        assert len(searches) == 3
        GITHUB.check_calls([call for call in mock.calls if call not in searches])
        runtime.close()


def test_the_file_wins_for_the_fields_it_sets_and_a_person_it_names_stays(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeJira(mock)
        runtime, client = tracker_client("jira", tmp_path)
        wang = first_person_id(runtime, "Wang Wei")
        page = client.get(f"/admin/people/{wang}").text
        assert "from the config file" in page
        client.post(f"/admin/people/{wang}", data={"name": "Wang Wei", "email": "other@example.com",
                                                   "jira_account_id": "acc-other"})
        assert runtime.people().person("Wang Wei").email == "wang.wei@example.com"
        removed = client.post(f"/admin/people/{wang}/remove", follow_redirects=True)
        assert "Named in the config file" in removed.text
        assert runtime.people().person("Wang Wei") is not None
        runtime.close()


def test_a_reset_password_is_the_only_one_that_logs_in(admin_client, web_app, runtime, make_user):
    make_user("li", "password1", "cs")
    li = web_app.test_client()
    log_in(li, "li", "password1")
    answer = admin_client.post(f"/admin/users/{user_id(runtime, 'li')}/password", data={"password": "newpass99"},
                               follow_redirects=True)
    assert "sessions have ended" in answer.text
    assert li.get("/needs").status_code == 302  # the old session ended
    assert web_app.test_client().post("/login", data={"name": "li", "password": "password1"}).status_code != 302
    log_in(web_app.test_client(), "li", "newpass99")


def test_a_token_made_on_the_page_works_until_revoked(admin_client, web_app, runtime, make_user):
    make_user("li", "password1", "cs")
    li = user_id(runtime, "li")
    made = admin_client.post(f"/admin/users/{li}/tokens")
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    token = made.text.split('<code class="token">')[1].split("</code>")[0]
    api = web_app.test_client()
    assert api.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert token not in admin_client.get(f"/admin/users/{li}").text  # shown once
    with runtime.Session() as session:
        from sync.ledger.accounts import list_tokens

        token_id = list_tokens(session, li)[0].id
    admin_client.post(f"/admin/users/{li}/tokens/{token_id}/revoke")
    assert api.get("/api/v1/needs", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_deactivated_user_cannot_log_in_until_reactivated(admin_client, web_app, runtime, make_user):
    make_user("li", "password1", "cs")
    li = user_id(runtime, "li")
    admin_client.post(f"/admin/users/{li}/deactivate")
    assert web_app.test_client().post("/login", data={"name": "li", "password": "password1"}).status_code != 302
    admin_client.post(f"/admin/users/{li}/reactivate")
    log_in(web_app.test_client(), "li", "password1")
