"""What the status-sync comment claims and what the need page shows per recipient, when a notice cannot go out."""

import responses

from sync.ledger import accounts
from tests.e2e.loop import github_issues_event, jira_issue_updated, post_github, post_jira
from tests.factories import file_need
from tests.github.fake_github import FakeGitHub
from tests.jira.fake_jira import FakeJira
from tests.sync.trackers import tracker_runtime
from tests.web.pages import log_in
from webhooks.app import create_app


def test_comment_says_who_is_being_told_and_the_page_shows_each_failed_delivery_in_its_language(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = tracker_runtime("github", tmp_path)  # no notifications.smtp: no e-mail can go out
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
        file_need(runtime)
        issue = fake.close("acme/billing#1", "completed")
        post_github(client, "issues", github_issues_event("closed", issue, "acme/billing"), "github-secret")
        comment = fake.comments("acme/billing#1")[0]["body"]
        assert "Being told: ACME Corp (e-mail); owner Wang Wei" in comment and "Told:" not in comment

        with runtime.Session.begin() as session:
            accounts.add_user(session, "cs1", "password1", "cs")
        log_in(client)
        page = client.get("/needs/N-0001", headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
        assert "alert-error" not in page  # no English job error in the tracker card
        deliveries = page[page.index('id="deliveries"'):]
        assert deliveries.count("無法傳送") == 2  # the customer's e-mail and the owner's
        assert "owner Wang Wei" not in deliveries and "ACME Corp (電子郵件)" in deliveries
        # The technical detail stays beside it for the admin, marked as English.
        assert 'lang="en">email: notifications.smtp is not configured' in deliveries
        assert "已傳送" in deliveries  # the status-sync comment itself reached GitHub
        runtime.engine.dispose()


def _history(client, lang):
    page = client.get("/needs/N-0001", headers={"Accept-Language": lang}).get_data(as_text=True)
    return page[page.index("<table class=\"history\">"):page.index('id="field-history"')]


def test_history_says_in_words_what_r_and_d_did_in_github(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = tracker_runtime("github", tmp_path)
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
        file_need(runtime)
        issue = fake.close("acme/billing#1", "completed")
        post_github(client, "issues", github_issues_event("closed", issue, "acme/billing"), "github-secret")
        with runtime.Session.begin() as session:
            accounts.add_user(session, "cs1", "password1", "cs")
        log_in(client)
        history = _history(client, "en")
        assert "R&amp;D closed the issue in GitHub (completed)" in history and ">closed<" not in history
        assert "<td>GitHub</td>" in history and "<td>github</td>" not in history
        assert "研发在 GitHub 中关闭了该问题（已完成）" in _history(client, "zh-CN")
        assert "研發在 GitHub 中關閉了該議題（已完成）" in _history(client, "zh-TW")
        runtime.engine.dispose()


def test_history_says_in_words_what_r_and_d_did_in_jira(tmp_path):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        runtime = tracker_runtime("jira", tmp_path)
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
        file_need(runtime)
        fake.set_status("CS-1", "In Progress", "indeterminate")
        post_jira(client, jira_issue_updated(fake.issue_json("CS-1")), "jira-secret")
        with runtime.Session.begin() as session:
            accounts.add_user(session, "cs1", "password1", "cs")
        log_in(client)
        assert "R&amp;D moved the issue to “In Progress” in Jira" in _history(client, "en")
        assert "研發在 Jira 中將議題移至「In Progress」" in _history(client, "zh-TW")
        runtime.engine.dispose()
