"""``cocreate install jira``: the admin webhook settings printed, and idempotent registration through Jira's API.

The admin webhooks API (``/rest/webhooks/1.0/webhook``) is not in Atlassian's REST v3 description that
``tests.contract.JIRA_CLOUD`` checks against (it is a separate API; v3's ``/rest/api/3/webhook`` is for Connect and
OAuth apps), so these tests assert the exact requests instead; list answers are shaped like a real Jira's recording.
"""

from __future__ import annotations

import responses

from tests.install.install_configs import (
    JIRA_CLOUD_YAML,
    JIRA_DATACENTER_YAML,
    JIRA_SECRET,
    JIRA_TOKEN,
)
from tests.install.install_fakes import JIRA_SITE, FakeJiraAdminWebhooks

URL = "https://cocreate.example.com/webhooks/jira"
TOKEN_URL = f"{URL}?token=url%20token%2Fwith%2Bchars"
EVENTS = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
          "comment_created", "comment_updated", "comment_deleted", "jira:version_released"]
JQL = 'project in ("BILL", "REP")'
WANTED_BODY = {
    "name": "Cocreate",
    "url": URL,
    "events": EVENTS,
    "filters": {"issue-related-events-section": JQL},
    "excludeBody": False,
    "secret": JIRA_SECRET,
}
API = "/rest/webhooks/1.0/webhook"


def cloud_config(write_config, secret: str = JIRA_SECRET) -> str:
    return write_config(JIRA_CLOUD_YAML, JIRA_API_TOKEN="fake-token", JIRA_WEBHOOK_SECRET=secret)


def datacenter_config(write_config) -> str:
    return write_config(JIRA_DATACENTER_YAML, JIRA_PAT="pat", JIRA_URL_TOKEN=JIRA_TOKEN)


def test_prints_the_admin_webhook_without_calling_jira(cocreate, write_config):
    config = cloud_config(write_config)
    with responses.RequestsMock() as mock:
        result = cocreate("install", "jira", "--config", config)
        assert len(mock.calls) == 0
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Settings > System > WebHooks > Create a WebHook" in out
    assert "Name:          Cocreate\n" in out
    assert f"URL:           {URL}\n" in out
    assert "Secret:        ******** (masked; --show-secret prints it)\n" in out
    assert f"webhooks.jira_secret in {config}, from the environment variable JIRA_WEBHOOK_SECRET" in out
    assert JIRA_SECRET not in out
    assert ("Events:        Issue: created, updated, deleted; Comment: created, updated, deleted; "
            "Version: released\n") in out
    assert f"({', '.join(EVENTS)})" in out
    assert f"JQL:           {JQL}\n" in out
    assert "Exclude body:  no" in out

    shown = cocreate("install", "jira", "--config", config, "--show-secret")
    assert f"Secret:        {JIRA_SECRET}\n" in shown.output


def test_data_center_without_secrets_gets_a_token_in_the_url(cocreate, write_config):
    config = datacenter_config(write_config)
    result = cocreate("install", "jira", "--config", config)
    assert result.exit_code == 0, result.output
    assert f"URL:           {URL}?token=********\n" in result.output
    assert "the token is webhooks.jira_url_token" in result.output and "JIRA_URL_TOKEN" in result.output
    assert "Secret:        leave empty" in result.output
    assert 'JQL:           project in ("BILL")' in result.output
    assert JIRA_TOKEN not in result.output

    shown = cocreate("install", "jira", "--config", config, "--show-secret")
    assert f"URL:           {TOKEN_URL}\n" in shown.output


def test_data_center_with_both_names_the_token_url_for_older_versions(cocreate, write_config):
    both = "  jira_url_token: ${JIRA_URL_TOKEN}\n      jira_secret: ${JIRA_WEBHOOK_SECRET}"
    text = JIRA_DATACENTER_YAML.replace("  jira_url_token: ${JIRA_URL_TOKEN}", both)
    config = write_config(text, JIRA_PAT="pat", JIRA_URL_TOKEN=JIRA_TOKEN, JIRA_WEBHOOK_SECRET=JIRA_SECRET)
    result = cocreate("install", "jira", "--config", config)
    assert result.exit_code == 0, result.output
    assert f"URL:           {URL}\n" in result.output
    assert "has no Secret field (older Data Center), it cannot sign deliveries" in result.output
    assert f"URL:           {URL}?token=********\n" in result.output


def test_register_creates_then_a_second_run_changes_nothing(cocreate, write_config):
    config = cloud_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeJiraAdminWebhooks(mock)
        other = fake.add_webhook(url="http://localhost:3000/webhooks/1", events=[])  # someone else's, untouched

        first = cocreate("install", "jira", "--config", config, "--register")
        assert first.exit_code == 0, first.output
        assert fake.writes == [("POST", API, WANTED_BODY)]
        created = max(fake.webhooks)
        assert fake.secrets == {created: JIRA_SECRET}
        assert first.output.splitlines() == [
            "Registering Jira's admin webhook for REP, BILL:",
            f"  Jira webhook Cocreate -> {URL}: created (webhook {created})",
        ]

        second = cocreate("install", "jira", "--config", config, "--register")
        assert second.exit_code == 0, second.output
        assert len(fake.writes) == 1  # nothing written the second time
        assert f"  Jira webhook Cocreate -> {URL}: unchanged (webhook {created}; Jira hides the secret" in second.output
        assert fake.calls == [("GET", API), ("POST", API), ("GET", API)]
        assert fake.webhooks[other]["url"] == "http://localhost:3000/webhooks/1"
    assert JIRA_SECRET not in first.output + second.output


def test_register_updates_by_id_under_the_configured_site(cocreate, write_config):
    config = cloud_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeJiraAdminWebhooks(mock)
        # Jira builds ``self`` from its own base URL setting, which may differ from the address Cocreate uses
        # (as in the recording this fake is shaped after).
        stale = fake.add_webhook(url=URL + "/", events=["jira:issue_updated"], jql="project = BILL",
                                 name="Cocreate (old)",
                                 self_url="http://localhost:2990/jira/rest/webhooks/1.0/webhook/2")
        assert stale == 2

        result = cocreate("install", "jira", "--config", config, "--register")
        assert result.exit_code == 0, result.output
        assert fake.writes == [("PUT", f"{API}/{stale}", WANTED_BODY)]
        assert all(call.request.url.startswith(JIRA_SITE) for call in mock.calls)
        assert (f"Jira webhook Cocreate (old) -> {URL}: updated (webhook {stale}: name 'Cocreate (old)' -> "
                f"'Cocreate', URL, events, JQL 'project = BILL' -> '{JQL}'; secret re-sent)") in result.output

        again = cocreate("install", "jira", "--config", config, "--register", "--resend-secret")
        assert again.exit_code == 0, again.output
        assert fake.writes[1:] == [("PUT", f"{API}/{stale}", WANTED_BODY)]
        assert "secret re-sent as asked" in again.output


def test_data_center_registers_the_token_url_without_a_secret(cocreate, write_config):
    config = datacenter_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeJiraAdminWebhooks(mock, bearer="pat")
        old = fake.add_webhook(url=f"{URL}?token=old", events=EVENTS, jql='project in ("BILL")', name="Cocreate")

        result = cocreate("install", "jira", "--config", config, "--register")
        assert result.exit_code == 0, result.output
        body = {key: value for key, value in WANTED_BODY.items() if key != "secret"}
        body.update(url=TOKEN_URL, filters={"issue-related-events-section": 'project in ("BILL")'})
        assert fake.writes == [("PUT", f"{API}/{old}", body)]
        assert fake.secrets == {}
        assert f"Jira webhook Cocreate -> {URL}: updated (webhook {old}: URL)" in result.output
        assert "token" not in result.output.replace("authenticated by the token in its URL", "")

        again = cocreate("install", "jira", "--config", config, "--register")
        assert len(fake.writes) == 1 and ": unchanged (webhook " in again.output


def test_jira_refusals_exit_1_with_what_to_do(cocreate, write_config):
    config = cloud_config(write_config)
    with responses.RequestsMock() as mock:
        FakeJiraAdminWebhooks(mock, api_token="another-token")
        result = cocreate("install", "jira", "--config", config, "--register")
    assert result.exit_code == 1
    assert "Error: list Jira's admin webhooks: You are not authenticated." in result.stderr

    with responses.RequestsMock() as mock:
        fake = FakeJiraAdminWebhooks(mock)
        fake.fail_next(403, "You do not have permission to perform this operation.")
        result = cocreate("install", "jira", "--config", config, "--register")
        assert fake.writes == []
    assert result.exit_code == 1
    assert "needs the Jira Administrators global permission" in result.stderr

    with responses.RequestsMock() as mock:
        fake = FakeJiraAdminWebhooks(mock)
        fake.fail_next(404, "Not found")
        result = cocreate("install", "jira", "--config", config, "--register")
    assert result.exit_code == 1
    assert "Jira Data Center 10 moved it to /rest/jira-webhook/1.0/webhooks" in result.stderr


def test_no_secret_and_no_token_exits_2(cocreate, write_config):
    config = write_config(JIRA_CLOUD_YAML.replace("  jira_secret: ${JIRA_WEBHOOK_SECRET}", "  max_body_bytes: 1000"),
                          JIRA_API_TOKEN="fake-token")
    with responses.RequestsMock() as mock:
        result = cocreate("install", "jira", "--config", config, "--register")
        assert len(mock.calls) == 0
    assert result.exit_code == 2
    assert "neither webhooks.jira_secret nor webhooks.jira_url_token is set" in result.stderr
