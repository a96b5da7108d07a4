"""Config loading: defaults, ${VAR} substitution, and every problem reported as FILE:LINE: key: message."""

from pathlib import Path

import pytest

from plugin.errors import ConfigError
from plugin.loading import load_settings, parse_settings
from plugin.people import PersonRecord, people_of
from plugin.settings import parse_duration

CONFIG = Path(__file__).resolve().parents[1] / "config"
EXAMPLE_ENV = {
    "COCREATE_SECRET_KEY": "s", "JIRA_API_TOKEN": "t", "ACME_WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/x",
    "JIRA_WEBHOOK_SECRET": "w", "GITHUB_TOKEN": "g", "GLOBEX_SLACK_WEBHOOK": "https://hooks.slack.com/x",
    "GITHUB_WEBHOOK_SECRET": "w", "SMTP_USER": "u", "SMTP_PASSWORD": "p",
}


def problems(text: str, environ=None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "c.yaml", environ or {})
    return [str(problem) for problem in caught.value.problems]


def test_no_file_means_no_tracker_and_default_tables(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.tracker is None
    assert [urgency.name.get("zh_Hans") for urgency in settings.urgencies] == ["紧急", "高", "中", "低"]
    assert settings.initial_status == "new"
    assert settings.status("done").name.get("zh-Hant") == "已完成"


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "absent.yaml", environ={})


@pytest.mark.parametrize("name", sorted(path.name for path in CONFIG.glob("*.yaml")))
def test_examples_are_valid(name):
    settings = load_settings(CONFIG / name, environ=EXAMPLE_ENV)
    assert settings.tracker is not None
    assert settings.customers and settings.people and settings.categories


def test_env_substitution():
    settings = parse_settings("secret_key: pre-${KEY}-post\n", "c.yaml", {"KEY": "abc"})
    assert settings.secret_key == "pre-abc-post"


def test_missing_env_var_names_line_and_key():
    found = problems("locale: en\nwebhooks:\n  github_secret: ${GH_SECRET}\n")
    assert found == ["c.yaml:3: webhooks.github_secret: environment variable GH_SECRET is not set"]


def test_malformed_yaml_names_line():
    found = problems("locale: en\ncategories:\n  - key: a\n   name: broken\n")
    assert len(found) == 1 and found[0].startswith("c.yaml:4: (yaml): not valid YAML")


def test_unknown_key_and_wrong_type_all_reported():
    found = problems("locale: en\nlocal: zh\nqueue:\n  workers: many\nupload_max_bytes: -1\n")
    assert "c.yaml:2: local: unknown key" in found
    assert any(line.startswith("c.yaml:4: queue.workers: ") for line in found)
    assert any(line.startswith("c.yaml:5: upload_max_bytes: ") for line in found)
    assert len(found) == 3


def test_tracker_section_must_match_kind_and_categories_need_projects():
    found = problems(
        "tracker:\n  kind: jira\n  jira:\n    url: https://x.atlassian.net\n    email: a@b.c\n    api_token: t\n"
        "categories:\n  - key: billing\n    name: Billing\n"
    )
    assert found == ["c.yaml:8: categories.0: tracker is jira, so jira_project is required"]
    found = problems("tracker:\n  kind: github\n")
    assert found == ["c.yaml:1: tracker: tracker.kind is 'github' but there is no tracker.github section"]


def test_wrong_enum_and_duplicate_keys():
    found = problems("customers:\n  - {key: a, name: A, locale: fr}\n")
    assert found == ["c.yaml:2: customers.0.locale: unknown locale 'fr'; use one of zh-Hans, zh-Hant, en"]
    found = problems("customers:\n  - {key: a, name: A}\n  - {key: a, name: B}\n")
    assert found == ["c.yaml:1: customers: duplicate key a"]


def test_every_whole_file_problem_is_reported_at_once():
    found = problems(
        "tracker:\n  kind: github\n  github: {token: t}\n"
        "categories:\n  - {key: billing, name: Billing}\n  - {key: billing, name: Invoices}\n"
        "urgencies:\n  - {key: p1, name: P1}\n  - {key: p1, name: Urgent}\n"
    )
    assert found == [
        "c.yaml:4: categories: duplicate key billing",
        "c.yaml:5: categories.0: tracker is github, so github_repo is required",
        "c.yaml:6: categories.1: tracker is github, so github_repo is required",
        "c.yaml:7: urgencies: duplicate key p1",
    ]


def test_a_missing_variable_hides_only_what_follows_from_it():
    # The token is missing (reported once, as the cause); the category without its repository and the
    # duplicate urgency are problems of their own and reported beside it.
    found = problems(
        "tracker:\n  kind: github\n  github: {token: t}\n"
        "webhooks:\n  github_secret: ${GH_SECRET}\n"
        "categories:\n  - {key: billing, name: Billing}\n"
        "urgencies:\n  - {key: p1, name: P1}\n  - {key: p1, name: Urgent}\n"
    )
    assert found == [
        "c.yaml:5: webhooks.github_secret: environment variable GH_SECRET is not set",
        "c.yaml:7: categories.0: tracker is github, so github_repo is required",
        "c.yaml:8: urgencies: duplicate key p1",
    ]


def test_smtp_problems_are_config_problems():
    found = problems("notifications:\n  smtp:\n    host: mail.example.com\n    sender: Cocreate\n")
    assert found == ["c.yaml:4: notifications.smtp.sender: 'Cocreate' is not an e-mail address (for example "
                     "'Cocreate <noreply@example.com>')"]
    found = problems("notifications:\n  smtp:\n    host: mail.example.com\n    sender: noreply@example.com\n"
                     "    username: cocreate\n")
    assert found == ["c.yaml:2: notifications.smtp: give both username and password, or neither"]
    settings = parse_settings("notifications:\n  smtp: {host: mail.example.com, sender: noreply@example.com, "
                              "security: ssl}\n", "c.yaml", {})
    assert settings.notifications.smtp.port == 465 and settings.notifications.smtp.sender_domain == "example.com"


def test_channel_needs_its_target():
    found = problems("customers:\n  - key: a\n    name: A\n    channels:\n      - kind: dingtalk\n")
    assert found == ["c.yaml:5: customers.0.channels.0: a dingtalk channel needs a url"]


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("4h", 14400), ("3d", 259200), ("1w", 604800), (90, 90)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_duration_is_reported():
    found = problems("urgencies:\n  - key: a\n    name: A\n    sla: {first_response: soon}\n")
    assert found == ["c.yaml:4: urgencies.0.sla.first_response: 'soon' is not a duration such as 30m, 4h, 3d or 1w"]


def test_a_person_is_found_by_name_or_email_in_any_case():
    settings = parse_settings("people:\n  - {name: Wang Wei, email: wang.wei@example.com}\n  - {name: Li Na}\n",
                              "c.yaml", {})
    people = people_of(PersonRecord(**person.model_dump()) for person in settings.people)
    assert people.person(" wang WEI ").name == "Wang Wei"
    assert people.person("Wang.Wei@Example.com").name == "Wang Wei"
    assert people.person("li na").email is None
    assert people.person("Chen Jie") is None and people.person("") is None and people.person(None) is None
