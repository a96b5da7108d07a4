"""``cocreate install github``: the settings printed for an admin, and idempotent registration of repository hooks."""

from __future__ import annotations

import responses

from tests.contract import GITHUB
from tests.install.install_configs import GITHUB_SECRET, GITHUB_YAML
from tests.install.install_fakes import FakeRepoHooks

URL = "https://cocreate.example.com/webhooks/github"
WANTED_BODY = {
    "name": "web",
    "config": {"url": URL, "content_type": "json", "secret": GITHUB_SECRET, "insecure_ssl": "0"},
    "events": ["issues", "issue_comment", "release"],
    "active": True,
}


def github_config(write_config, text: str = GITHUB_YAML, secret: str = GITHUB_SECRET) -> str:
    return write_config(text, GITHUB_TOKEN="t", GITHUB_WEBHOOK_SECRET=secret)


def test_prints_what_to_set_in_each_repository_without_calling_github(cocreate, write_config):
    config = github_config(write_config)
    with responses.RequestsMock() as mock:
        result = cocreate("install", "github", "--config", config)
        assert len(mock.calls) == 0
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Repositories:      acme/app, acme/api\n" in out  # each repository once, in config order
    assert f"Payload URL:       {URL}\n" in out
    assert "Content type:      application/json\n" in out
    assert "Secret:            ******** (masked; --show-secret prints it)\n" in out
    assert f"webhooks.github_secret in {config}, from the environment variable GITHUB_WEBHOOK_SECRET" in out
    assert GITHUB_SECRET not in out
    assert "Issues, Issue comments, Releases (issues, issue_comment, release)" in out
    assert "Repository permissions: Issues: Read and write; Metadata: Read-only" in out
    assert "Subscribe to events:    Issues, Issue comment" in out
    assert "cocreate install github --register" in out


def test_show_secret_prints_it_and_a_secret_in_the_file_is_pointed_out(cocreate, write_config):
    config = write_config(GITHUB_YAML.replace("${GITHUB_WEBHOOK_SECRET}", "in-the-file"), GITHUB_TOKEN="t")
    result = cocreate("install", "github", "--config", config, "--show-secret")
    assert result.exit_code == 0, result.output
    assert "Secret:            in-the-file\n" in result.output
    assert "better keep it in the environment" in result.output


def test_a_github_app_is_told_to_use_its_own_webhook(cocreate, write_config, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text("not read when only printing")
    app = GITHUB_YAML.replace("token: ${GITHUB_TOKEN}",
                              f"app_id: 1\n        private_key_path: {key}\n        installation_id: 2\n"
                              "        login: cocreate-app[bot]")
    config = github_config(write_config, app)
    result = cocreate("install", "github", "--config", config)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("tracker.github uses a GitHub App: set the webhook in the App's settings")
    assert "--register" not in result.output
    with responses.RequestsMock() as mock:
        result = cocreate("install", "github", "--config", config, "--register")
        assert len(mock.calls) == 0
    assert result.exit_code == 2
    assert "receives events through the App's own webhook" in result.stderr


def test_register_creates_then_a_second_run_changes_nothing(cocreate, write_config):
    config = github_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeRepoHooks(mock, repos=("acme/app", "acme/api"))
        fake.add_hook("acme/app", url="https://ci.example.com/hook", events=["push"], secret="ci")

        first = cocreate("install", "github", "--config", config, "--register")
        assert first.exit_code == 0, first.output
        assert fake.bodies == [("POST", "/repos/acme/app/hooks", WANTED_BODY),
                               ("POST", "/repos/acme/api/hooks", WANTED_BODY)]
        created = [hook for hook in fake.hooks["acme/app"] if hook["config"]["url"] == URL]
        assert len(created) == 1 and fake.secrets[created[0]["id"]] == GITHUB_SECRET
        assert len(fake.hooks["acme/app"]) == 2  # the CI hook is left alone
        assert first.output.splitlines() == [
            f"Registering {URL} in 2 repositories:",
            f"  acme/app: created (hook {created[0]['id']})",
            f"  acme/api: created (hook {fake.hooks['acme/api'][0]['id']})",
        ]

        second = cocreate("install", "github", "--config", config, "--register")
        assert second.exit_code == 0, second.output
        assert fake.writes == 2  # nothing written the second time
        assert second.output.count(": unchanged (hook ") == 2
        assert "a changed secret is written only with --resend-secret" in second.output
        assert [call.request.method for call in mock.calls] == ["GET", "POST", "GET", "POST", "GET", "GET"]
        assert GITHUB.check_calls(mock.calls) == 6
    assert GITHUB_SECRET not in first.output + second.output


def test_register_updates_a_hook_whose_events_or_secret_differ(cocreate, write_config):
    config = github_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeRepoHooks(mock, repos=("acme/app", "acme/api"))
        stale = fake.add_hook("acme/app", url=URL, events=["push", "issues"], secret="old-secret")
        unsigned = fake.add_hook("acme/api", url=URL, events=["issues", "issue_comment"], content_type="form")

        result = cocreate("install", "github", "--config", config, "--register")
        assert result.exit_code == 0, result.output
        # PyGithub's Hook.edit sends the name too; GitHub's PATCH accepts it.
        assert fake.bodies == [("PATCH", f"/repos/acme/app/hooks/{stale['id']}", WANTED_BODY),
                               ("PATCH", f"/repos/acme/api/hooks/{unsigned['id']}", WANTED_BODY)]
        assert fake.secrets == {stale["id"]: GITHUB_SECRET, unsigned["id"]: GITHUB_SECRET}
        assert (f"acme/app: updated (hook {stale['id']}: events issues, push -> issue_comment, issues, release; "
                "secret re-sent)") in result.output
        assert (f"acme/api: updated (hook {unsigned['id']}: events issue_comment, issues -> issue_comment, issues, "
                "release, content type form -> json, no secret -> secret; secret re-sent)") in result.output

        again = cocreate("install", "github", "--config", config, "--register")
        assert again.exit_code == 0 and fake.writes == 2
        assert GITHUB.check_calls(mock.calls) == 6


def test_resend_secret_writes_a_rotated_secret(cocreate, write_config):
    config = github_config(write_config, secret="rotated-secret")
    with responses.RequestsMock() as mock:
        fake = FakeRepoHooks(mock, repos=("acme/app", "acme/api"))
        hooks = [fake.add_hook(repo, url=URL, events=["issue_comment", "issues"], secret=GITHUB_SECRET)
                 for repo in ("acme/app", "acme/api")]

        result = cocreate("install", "github", "--config", config, "--register", "--resend-secret")
        assert result.exit_code == 0, result.output
        assert fake.writes == 2
        assert fake.secrets == {hook["id"]: "rotated-secret" for hook in hooks}
        assert "updated (hook " in result.output and "secret re-sent as asked" in result.output
        assert GITHUB.check_calls(mock.calls) == 4


def test_bad_credentials_stop_at_the_first_repository(cocreate, write_config):
    config = write_config(GITHUB_YAML, GITHUB_TOKEN="wrong", GITHUB_WEBHOOK_SECRET=GITHUB_SECRET)
    with responses.RequestsMock() as mock:
        fake = FakeRepoHooks(mock, repos=("acme/app", "acme/api"), token="t")
        result = cocreate("install", "github", "--config", config, "--register")
        assert len(mock.calls) == 1 and fake.writes == 0
        assert GITHUB.check_calls(mock.calls) == 1
    assert result.exit_code == 1
    assert "Error: acme/app: Bad credentials (HTTP 401)" in result.stderr


def test_a_missing_repository_fails_alone(cocreate, write_config):
    config = github_config(write_config)
    with responses.RequestsMock() as mock:
        fake = FakeRepoHooks(mock, repos=("acme/api",))
        result = cocreate("install", "github", "--config", config, "--register")
        assert [body[1] for body in fake.bodies] == ["/repos/acme/api/hooks"]
        assert GITHUB.check_calls(mock.calls) == 3
    assert result.exit_code == 1
    assert "  acme/app: failed: Not Found (HTTP 404)" in result.stderr
    assert "  acme/api: created (hook " in result.stdout
    assert "Error: 1 of 2 repositories could not be set up" in result.stderr


def test_config_that_cannot_work_exits_2(cocreate, write_config):
    no_tracker = write_config("base_url: https://cocreate.example.com\n")
    result = cocreate("install", "github", "--config", no_tracker)
    assert result.exit_code == 2
    assert "no tracker is configured: add a 'tracker:' section with 'kind: github'" in result.stderr

    result = cocreate("install", "jira", "--config", no_tracker, "--register")
    assert result.exit_code == 2 and "with 'kind: jira'" in result.stderr

    github = github_config(write_config)
    result = cocreate("install", "jira", "--config", github)
    assert result.exit_code == 2
    assert "the configured tracker is github, not jira: run 'cocreate install github'" in result.stderr

    no_secret = write_config(GITHUB_YAML.replace("  github_secret: ${GITHUB_WEBHOOK_SECRET}", "  max_body_bytes: 1000"),
                             GITHUB_TOKEN="t")
    with responses.RequestsMock() as mock:
        result = cocreate("install", "github", "--config", no_secret, "--register")
        assert len(mock.calls) == 0
    assert result.exit_code == 2 and "webhooks.github_secret is not set" in result.stderr

    result = cocreate("install", "github", "--config", github, "--resend-secret")
    assert result.exit_code == 2 and "--resend-secret goes with --register" in result.stderr


def test_a_local_base_url_is_warned_about(cocreate, write_config):
    config = github_config(write_config, GITHUB_YAML.replace("https://cocreate.example.com", "http://localhost:8080"))
    result = cocreate("install", "github", "--config", config)
    assert result.exit_code == 0
    assert "Warning: base_url is http://localhost:8080, which GitHub cannot reach" in result.stderr
    assert "Payload URL:       http://localhost:8080/webhooks/github" in result.stdout
