"""Delivered means shipped: a released Jira fixVersion and a published GitHub release each reach every customer
of the needs they ship once (e-mail at a real SMTP server), in the customer's language, naming the version; a
repeated delivery and a reconcile after a lost one tell no one again."""

import datetime as dt

import pytest
import responses
from sqlalchemy import select

from sync.ledger.store import Job, NeedRelease, OutboxMessage
from sync.loop.reconcile import reconcile
from tests.e2e.loop import post_github, post_jira
from tests.factories import file_need
from tests.github.fake_releases import FakeGitHubReleases, check_github_calls
from tests.jira.fake_versions import FakeJiraVersions, check_jira_calls
from tests.notify.servers import smtp_server  # noqa: F401 - fixture
from tests.sync.trackers import tracker_runtime
from webhooks.app import create_app

GLOBEX = "- {key: globex, name: Globex, locale: zh-Hant}"
GLOBEX_BY_MAIL = "- {key: globex, name: Globex, locale: zh-Hant, channels: [{kind: email, to: [chen@globex.example]}]}"
SHIPPED = dt.date(2027, 1, 14)


def release_runtime(kind, tmp_path, smtp_server, delivered_on="both"):
    return tracker_runtime(
        kind, tmp_path, replace={GLOBEX: GLOBEX_BY_MAIL},
        extra_yaml=(f"notifications:\n  delivered_on: {delivered_on}\n"
                    f"  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, security: none, "
                    f"sender: 'Cocreate <cocreate@example.com>'}}\n"))


def mails_to(smtp_server, address):
    return [mail for mail in smtp_server.messages if address in mail.rcpt_tos]


def body_of(mail):
    return mail.message.get_body(("plain",)).get_content()


def shipped_rows(runtime):
    with runtime.Session() as session:
        return [(row.version_name, row.released_on, row.issue_key)
                for row in session.scalars(select(NeedRelease).order_by(NeedRelease.id))]


def release_notices(runtime):
    with runtime.Session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "release")).all()


def assert_told_once_each(smtp_server, version):
    """ACME (English) and Globex (Traditional Chinese) each got one release e-mail naming ``version``."""
    english = [mail for mail in mails_to(smtp_server, "lin@acme.example") if version in mail.message["Subject"]]
    chinese = [mail for mail in mails_to(smtp_server, "chen@globex.example") if version in mail.message["Subject"]]
    assert len(english) == 1 and len(chinese) == 1
    assert f"shipped in {version}" in english[0].message["Subject"]
    assert f"shipped in {version} on 2027-01-14" in body_of(english[0])
    assert f"已於 2027-01-14 在 {version} 中發布" in body_of(chinese[0])
    assert "N-0001" in body_of(english[0]) and "N-0002" in body_of(chinese[0])


@pytest.fixture
def jira_site(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeJiraVersions(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        runtime = release_runtime("jira", tmp_path, smtp_server)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        file_need(runtime, customer="globex", title="Export the ledger as CSV")
        fake.add_issue(summary="Not from Cocreate")  # CS-3: in the version too, but no need asks for it
        version = fake.add_version("v5.2")
        for key in ("CS-1", "CS-2", "CS-3"):
            fake.fix(key, version)
        yield fake, runtime, client, version
        check_jira_calls(mock.calls)
        runtime.engine.dispose()


def test_jira_version_released_tells_each_customer_once_in_their_language(jira_site, smtp_server):
    fake, runtime, client, version = jira_site
    fake.release(version, SHIPPED)
    payload = fake.version_payload(version)

    answer = post_jira(client, payload, "jira-secret", delivery="v-1")

    assert answer.status_code == 202
    assert answer.json == {"result": "queued", "event": "jira:version_released", "issue_key": version}
    assert shipped_rows(runtime) == [("v5.2", SHIPPED, "CS-1"), ("v5.2", SHIPPED, "CS-2")]
    assert_told_once_each(smtp_server, "v5.2")
    # The same delivery again, a new delivery of the same release, and a reconcile: nothing more.
    assert post_jira(client, payload, "jira-secret", delivery="v-1").json["result"] == "duplicate"
    assert post_jira(client, payload, "jira-secret", delivery="v-2").status_code == 202
    assert reconcile(runtime)["shipped"] == 0
    assert len(release_notices(runtime)) == 2 and len(shipped_rows(runtime)) == 2
    assert_told_once_each(smtp_server, "v5.2")
    with runtime.Session() as session:
        assert {job.state for job in session.scalars(select(Job).where(Job.name == "apply_release"))} == {"done"}


def test_jira_lost_version_released_is_caught_by_reconcile_once(jira_site, smtp_server):
    fake, runtime, _client, version = jira_site
    fake.release(version, dt.date.today())  # no webhook arrives

    assert reconcile(runtime)["shipped"] == 2
    assert reconcile(runtime)["shipped"] == 0
    assert [row[0] for row in shipped_rows(runtime)] == ["v5.2", "v5.2"]
    assert len(mails_to(smtp_server, "lin@acme.example")) == 1
    assert len(mails_to(smtp_server, "chen@globex.example")) == 1
    assert "v5.2" in mails_to(smtp_server, "chen@globex.example")[0].message["Subject"]


def test_jira_version_not_released_after_all_ships_nothing(jira_site, smtp_server):
    fake, runtime, client, version = jira_site
    payload = fake.version_payload(version)
    payload["version"]["released"] = True  # the delivery says so, but Jira, read again, does not

    assert post_jira(client, payload, "jira-secret").status_code == 202
    assert shipped_rows(runtime) == [] and smtp_server.messages == []


@pytest.fixture
def github_site(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHubReleases(mock, repos=("acme/billing",))
        runtime = release_runtime("github", tmp_path, smtp_server)
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        file_need(runtime, customer="globex", title="Export the ledger as CSV")
        yield fake, runtime, client
        check_github_calls(mock.calls)
        runtime.engine.dispose()


def test_github_release_published_tells_each_customer_once_in_their_language(github_site, smtp_server):
    fake, runtime, client = github_site
    # N-0001's issue is in the generated notes; N-0002's is in the milestone named like the tag.
    milestone = fake.add_milestone("acme/billing", "v5.2")
    fake.set_milestone("acme/billing#2", milestone)
    fake.now = dt.datetime(2027, 1, 14, 10, 0, tzinfo=dt.UTC)
    release = fake.publish("acme/billing", "v5.2", name="v5.2",
                           body="## What's Changed\n* Tax number on invoices by @octocat in #1\n* Also other/repo#2")
    payload = fake.release_payload(release, "acme/billing")

    answer = post_github(client, "release", payload, "github-secret", delivery="r-1")

    assert answer.status_code == 202
    assert answer.json["issue_key"] == f"acme/billing:{release['id']}"
    assert shipped_rows(runtime) == [("v5.2", SHIPPED, "acme/billing#1"), ("v5.2", SHIPPED, "acme/billing#2")]
    assert_told_once_each(smtp_server, "v5.2")
    assert post_github(client, "release", payload, "github-secret", delivery="r-1").json["result"] == "duplicate"
    released = fake.release_payload(release, "acme/billing", action="released")
    assert post_github(client, "release", released, "github-secret", delivery="r-2").status_code == 202
    assert len(release_notices(runtime)) == 2
    assert_told_once_each(smtp_server, "v5.2")


def test_github_lost_release_is_caught_by_reconcile_once(github_site, smtp_server):
    fake, runtime, _client = github_site
    fake.now = dt.datetime.now(dt.UTC)
    fake.publish("acme/billing", "v5.3-rc1", body="#1 #2", prerelease=True)  # a pre-release ships nothing
    fake.publish("acme/billing", "v5.3", body="Fixes https://github.com/acme/billing/issues/1")  # no webhook

    assert reconcile(runtime)["shipped"] == 1
    assert reconcile(runtime)["shipped"] == 0
    assert [row[0] for row in shipped_rows(runtime)] == ["v5.3"]
    [mail] = mails_to(smtp_server, "lin@acme.example")
    assert "shipped in v5.3" in mail.message["Subject"]
    assert mails_to(smtp_server, "chen@globex.example") == []


def test_delivered_on_done_records_the_release_and_tells_no_one(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHubReleases(mock, repos=("acme/billing",))
        runtime = release_runtime("github", tmp_path, smtp_server, delivered_on="done")
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        file_need(runtime)
        release = fake.publish("acme/billing", "v6.0", body="#1")
        post_github(client, "release", fake.release_payload(release, "acme/billing"), "github-secret")
        assert [row[0] for row in shipped_rows(runtime)] == ["v6.0"]
        assert release_notices(runtime) == [] and smtp_server.messages == []
        assert "releases" not in reconcile(runtime)  # the default asks GitHub for no releases
        check_github_calls(mock.calls)
        runtime.engine.dispose()


def test_delivered_on_release_tells_customers_of_done_by_the_release_only(tmp_path, smtp_server):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHubReleases(mock, repos=("acme/billing",))
        runtime = release_runtime("github", tmp_path, smtp_server, delivered_on="release")
        client = create_app({"TESTING": True}, runtime=runtime).test_client()
        fake.now = dt.datetime.now(dt.UTC)  # reconcile looks back from the real time
        file_need(runtime)
        fake.close("acme/billing#1", "completed")
        reconcile(runtime)  # the issue is done: the owner hears of it, the customer does not
        assert mails_to(smtp_server, "lin@acme.example") == []
        assert len(mails_to(smtp_server, "wang.wei@example.com")) == 1
        release = fake.publish("acme/billing", "v6.1", body="#1")
        post_github(client, "release", fake.release_payload(release, "acme/billing"), "github-secret")
        [mail] = mails_to(smtp_server, "lin@acme.example")
        assert "shipped in v6.1" in mail.message["Subject"]
        check_github_calls(mock.calls)
        runtime.engine.dispose()


def test_a_version_gone_from_jira_ships_nothing_and_the_job_ends(jira_site, smtp_server):
    fake, runtime, client, version = jira_site
    fake.release(version, SHIPPED)
    payload = fake.version_payload(version)
    del fake.versions[version]  # deleted between the webhook and the job

    assert post_jira(client, payload, "jira-secret").status_code == 202
    assert shipped_rows(runtime) == [] and smtp_server.messages == []
    with runtime.Session() as session:
        assert [job.state for job in session.scalars(select(Job).where(Job.name == "apply_release"))] == ["done"]


def test_a_release_of_another_tracker_is_not_applied(github_site, smtp_server):
    from sync.loop.releases import apply_release

    _fake, runtime, _client = github_site
    assert apply_release(runtime, "jira", "10000") == 0
    assert shipped_rows(runtime) == [] and smtp_server.messages == []
