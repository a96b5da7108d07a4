"""The ``cocreate`` command: config checks with exit codes, users, tokens and the failed-jobs list."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sync.ledger.store import ApiToken, Job, User
from webhooks.cli import main


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run ``cocreate`` with a fresh data folder and no config file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COCREATE_HOME", str(tmp_path / "data"))
    # Messages follow the locale environment first: C leaves them to the config, whatever the developer's LANG.
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


def test_check_config_ok_and_problems(cli, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("locale: zh-Hant\n")
    result = cli("check-config", str(good))
    assert result.exit_code == 0 and "OK (no tracker" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("locale: en\nqueue:\n  workers: lots\n  wrokers: 2\nsecret_key: ${NOT_SET_ANYWHERE}\n")
    result = cli("check-config", str(bad))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{bad}:3: queue.workers: ")
    assert lines[1] == f"{bad}:4: queue.wrokers: unknown key"
    assert lines[2] == f"{bad}:5: secret_key: environment variable NOT_SET_ANYWHERE is not set"


def test_check_config_malformed_yaml(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("locale: [en\n")
    result = cli("check-config", str(bad))
    assert result.exit_code == 2 and f"{bad}:2: (yaml): not valid YAML" in result.output


def test_every_command_refuses_a_bad_config(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("nonsense: 1\n")
    result = cli("jobs", "--config", str(bad))
    assert result.exit_code == 2 and "nonsense: unknown key" in result.output


def test_user_add_reads_password_from_stdin_and_token_create(cli, tmp_path):
    result = cli("user", "add", "alice", "--role", "admin", input="correct horse\n")
    assert result.exit_code == 0, result.output
    token = cli("token", "create", "alice").output.strip()
    assert token.startswith("cct_") and len(token) > 40
    from plugin.settings import Settings
    from sync.runtime import build_runtime

    runtime = build_runtime(Settings(), {"COCREATE_HOME": str(tmp_path / "data")})
    with runtime.Session() as session:
        user = session.scalars(select(User)).one()
        assert (user.name, user.role) == ("alice", "admin")
        assert "correct horse" not in user.password_hash
        assert session.scalars(select(ApiToken)).one().token_hash != token


def test_user_add_refuses_short_password_and_duplicates(cli):
    assert "at least 8" in cli("user", "add", "bob", input="short\n").output
    assert cli("user", "add", "bob", input="long enough\n").exit_code == 0
    result = cli("user", "add", "bob", input="long enough\n")
    assert result.exit_code == 1 and "exists already" in result.output
    result = cli("token", "create", "nobody")
    assert result.exit_code == 1 and "no user nobody" in result.output


def test_user_passwd_disable_enable_and_token_list_revoke(cli, tmp_path):
    from plugin.settings import Settings
    from sync.ledger.accounts import authenticate, user_for_token
    from sync.runtime import build_runtime

    runtime = build_runtime(Settings(), {"COCREATE_HOME": str(tmp_path / "data")})
    assert cli("user", "add", "alice", input="correct horse\n").exit_code == 0
    token = cli("token", "create", "alice").output.strip()

    result = cli("user", "passwd", "alice", input="battery staple\n")
    assert result.exit_code == 0 and "their sessions have ended" in result.output
    with runtime.Session.begin() as session:
        assert authenticate(session, "alice", "correct horse") is None
        assert authenticate(session, "alice", "battery staple").session_epoch == 1
    assert "at least 8" in cli("user", "passwd", "alice", input="short\n").output

    assert cli("user", "disable", "alice").exit_code == 0
    with runtime.Session.begin() as session:
        assert authenticate(session, "alice", "battery staple") is None
        assert user_for_token(session, token) is None
    assert cli("user", "enable", "alice").exit_code == 0
    with runtime.Session.begin() as session:
        assert authenticate(session, "alice", "battery staple") is not None

    listing = cli("token", "list").output.strip().splitlines()
    assert len(listing) == 1 and listing[0].startswith("1\talice\t") and listing[0].endswith("\tactive")
    assert cli("token", "revoke", "1").output.strip() == "API token 1 revoked"
    assert cli("token", "revoke", "1").output.strip() == "API token 1 was revoked already"
    assert "\trevoked " in cli("token", "list", "alice").output
    with runtime.Session.begin() as session:
        assert user_for_token(session, token) is None
    result = cli("token", "revoke", "9")
    assert result.exit_code == 1 and "no API token with id 9" in result.output
    result = cli("user", "disable", "nobody")
    assert result.exit_code == 1 and "no user nobody" in result.output


def test_jobs_lists_failed_and_retries(cli, tmp_path, monkeypatch):
    from plugin.settings import Settings
    from sync.runtime import build_runtime

    monkeypatch.setenv("LANG", "en_US.UTF-8")  # without a config file the language is zh-Hans
    runtime = build_runtime(Settings(), {"COCREATE_HOME": str(tmp_path / "data")})
    with runtime.Session.begin() as session:
        session.add(Job(id="j1", name="sync_need", args=["N-0001"], ref="N-0001", state="failed", attempts=6,
                        last_error="Service Unavailable (HTTP 503)"))
    result = cli("jobs")
    assert "j1  failed   sync_need(N-0001)  attempts=6" in result.output and "HTTP 503" in result.output
    assert cli("jobs", "retry").exit_code == 2
    assert "no failed job nope" in cli("jobs", "retry", "nope").output
    result = cli("jobs", "retry", "--all")
    assert result.output.strip() == "1 job(s) queued again"
    assert cli("jobs").output.strip() == "no failed jobs"


def test_jobs_speaks_the_language_of_lang(cli, tmp_path, monkeypatch):
    from plugin.settings import Settings
    from sync.runtime import build_runtime

    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    assert cli("jobs").output.strip() == "沒有失敗的工作"
    assert cli("jobs", "--state", "all").output.strip() == "沒有工作"
    runtime = build_runtime(Settings(), {"COCREATE_HOME": str(tmp_path / "data")})
    with runtime.Session.begin() as session:
        session.add(Job(id="j1", name="sync_need", args=["N-0001"], ref="N-0001", state="failed", attempts=6,
                        last_error="Service Unavailable (HTTP 503)"))
    listing = cli("jobs").output
    assert listing.startswith("j1  失敗    sync_need(N-0001)  嘗試 6 次  ") and "HTTP 503" in listing
    result = cli("jobs", "retry")
    assert result.exit_code == 2 and "請給出工作 ID 或 --all" in result.output
    assert "沒有失敗的工作 nope" in cli("jobs", "retry", "nope").output
    assert cli("jobs", "retry", "--all").output.strip() == "已重新排入 1 項工作"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli("jobs", "--state", "queued").output.startswith("j1  排队中  sync_need(N-0001)  尝试 0 次  ")


def test_check_config_without_a_file_says_what_runs_instead(cli):
    result = cli("check-config")
    assert result.exit_code == 0
    assert "no config file found (cocreate.yaml)" in result.output
    assert "embedded defaults (no tracker, 1 category, 4 urgency levels, 6 statuses" in result.output


def test_jobs_retry_all_queues_the_needs_that_wait_for_a_tracker(cli, tmp_path, monkeypatch):
    from plugin.settings import Settings
    from sync.ledger.store import Need
    from sync.runtime import build_runtime
    from tests.factories import file_need

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    runtime = build_runtime(Settings(), {"COCREATE_HOME": str(tmp_path / "data")}, immediate=True)
    for _ in range(2):
        file_need(runtime, category="general")
    with runtime.Session() as session:
        assert set(session.scalars(select(Need.sync_state))) == {"waiting_for_tracker"}
    result = cli("jobs", "retry", "--all")
    assert result.output.splitlines() == [
        "0 job(s) queued again", "2 need(s) wait for a tracker: configure one and they are synced"]

    (tmp_path / "cocreate.yaml").write_text(
        "tracker:\n  kind: github\n  github:\n    token: t\n"
        "categories:\n  - {key: general, name: General, github_repo: acme/app}\n")
    result = cli("jobs", "retry", "--all")
    assert result.output.splitlines() == [
        "0 job(s) queued again", "2 need(s) whose sync never started queued for sync"]
    with runtime.Session() as session:
        assert session.scalars(select(Job.name).where(Job.state == "queued")).all() == ["resume_syncs"]


@pytest.mark.parametrize(("environ", "locale"), [
    ({"LANG": "zh_TW.UTF-8"}, "zh_Hant"), ({"LANG": "zh_HK.UTF-8"}, "zh_Hant"), ({"LANG": "zh_CN.UTF-8"}, "zh_Hans"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh_Hant"),
    ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "de_DE.UTF-8"}, "en"), ({}, "en"),
])
def test_the_cli_language_comes_from_the_environment_else_the_config(environ, locale):
    from plugin.settings import Settings
    from webhooks.cli.common import cli_locale

    assert cli_locale(Settings(locale="en"), environ) == locale


def test_cli_with_lang_zh_tw_speaks_traditional_chinese(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_TW.UTF-8")
    result = cli("export", str(tmp_path / "needs.csv"))
    assert result.exit_code == 0 and result.output.strip() == f"已將 0 個需求寫入 {tmp_path / 'needs.csv'}"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert cli("export", str(tmp_path / "needs.csv")).output.strip() == f"0 needs written to {tmp_path / 'needs.csv'}"
