"""The PyGithub client Cocreate builds: token or GitHub App installation auth, no retries, no sleeps of its own."""

from __future__ import annotations

from urllib.parse import urlsplit

import github
import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.errors import ConfigError, TrackerAuthError, TrackerUnavailable
from plugin.github import GitHubAdapter, Pacer, build_github
from plugin.loading import parse_settings
from plugin.tracker_settings import GitHubSettings
from tests.contract import GITHUB
from tests.github.fake_github import FakeGitHub


@pytest.fixture
def app_key(tmp_path):
    """A throwaway RSA key for a GitHub App, written where the settings point; returns (path, public key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "app.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path, key.public_key()


def test_client_leaves_retrying_and_pacing_to_cocreate():
    client = build_github(GitHubSettings(token="ghp_test"))
    settings = client.requester.kwargs
    assert settings["retry"] is None
    assert settings["seconds_between_requests"] == 0 and settings["seconds_between_writes"] == 0
    assert settings["base_url"] == "https://api.github.com" and settings["lazy"] is True


def test_client_never_sleeps_between_writes(monkeypatch):
    def no_sleep(seconds):
        raise AssertionError(f"PyGithub slept {seconds}s")

    monkeypatch.setattr(github.Requester.time, "sleep", no_sleep)
    adapter = GitHubAdapter(GitHubSettings(token="ghp_test"), pacer=Pacer(sleep=lambda _: None))
    with responses.RequestsMock() as mock:
        fake = FakeGitHub(mock)
        fake.open_issue("acme/app", "Existing")
        for text in ("one", "two", "three"):
            adapter.add_comment("acme/app#1", text)
        assert fake.writes == 3
        assert GITHUB.check_calls(mock.calls) == 3


def test_a_5xx_is_not_retried_by_pygithub():
    adapter = GitHubAdapter(GitHubSettings(token="ghp_test"), pacer=Pacer(sleep=lambda _: None))
    with responses.RequestsMock() as mock:
        fake = FakeGitHub(mock)
        fake.open_issue("acme/app", "Existing")
        fake.fail_next(502, "Server Error", times=3)
        with pytest.raises(TrackerUnavailable):
            adapter.get_issue("acme/app#1")
        assert len(mock.calls) == 1
        assert GITHUB.check_calls(mock.calls) == 1


def test_token_auth_sends_the_token():
    adapter = GitHubAdapter(GitHubSettings(token="ghp_secret"))
    with responses.RequestsMock() as mock:
        FakeGitHub(mock, token="ghp_secret")
        assert adapter.whoami() == "cocreate-bot"
        assert mock.calls[0].request.headers["Authorization"] == "token ghp_secret"
        GITHUB.check_calls(mock.calls)


def test_a_wrong_token_is_an_auth_error():
    adapter = GitHubAdapter(GitHubSettings(token="ghp_revoked"))
    with responses.RequestsMock() as mock:
        FakeGitHub(mock, token="ghp_secret")
        with pytest.raises(TrackerAuthError, match="Bad credentials"):
            adapter.get_issue("acme/app#1")
        GITHUB.check_calls(mock.calls)


def test_enterprise_server_base_url_comes_from_api_url():
    settings = GitHubSettings(token="ghp_test", api_url="https://ghe.example.com/api/v3")
    adapter = GitHubAdapter(settings)
    with responses.RequestsMock() as mock:
        fake = FakeGitHub(mock, base_url="https://ghe.example.com/api/v3")
        fake.open_issue("acme/app", "On the company's server")
        state = adapter.get_issue("acme/app#1")
        assert urlsplit(mock.calls[0].request.url).path == "/api/v3/repos/acme/app/issues/1"
    assert state.title == "On the company's server"


def test_github_app_fetches_one_installation_token_and_uses_it(app_key):
    path, public_key = app_key
    settings = GitHubSettings(app_id=123456, private_key_path=str(path), installation_id=987,
                              login="cocreate-app[bot]")
    adapter = GitHubAdapter(settings, pacer=Pacer(sleep=lambda _: None))
    with responses.RequestsMock() as mock:
        fake = FakeGitHub(mock, token="no-personal-token-accepted")
        fake.open_issue("acme/app", "Needs an app")
        assert adapter.whoami() == "cocreate-app[bot]"
        adapter.get_issue("acme/app#1")
        adapter.add_comment("acme/app#1", "From the app")

        token_call, *api_calls = mock.calls
        assert (token_call.request.method, urlsplit(token_call.request.url).path) == (
            "POST", "/app/installations/987/access_tokens")
        scheme, _, signed = token_call.request.headers["Authorization"].partition(" ")
        claims = jwt.decode(signed, public_key, algorithms=["RS256"])
        assert scheme == "Bearer" and claims["iss"] == "123456"
        assert len(api_calls) == 2
        assert all(call.request.headers["Authorization"].startswith("token ghs_fake") for call in api_calls)
        assert GITHUB.check_calls(mock.calls) == 3
    assert fake.comments("acme/app#1")[0]["user"]["login"] == "cocreate-bot"


def test_github_app_with_a_wrong_installation_is_an_auth_error_not_a_missing_issue(app_key):
    path, _ = app_key
    settings = GitHubSettings(app_id=123456, private_key_path=str(path), installation_id=1, login="cocreate-app[bot]")
    adapter = GitHubAdapter(settings)
    with responses.RequestsMock() as mock:
        mock.add("POST", "https://api.github.com:443/app/installations/1/access_tokens", status=404, json={
            "message": "Not Found", "status": "404",
            "documentation_url": "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"})
        with pytest.raises(TrackerAuthError, match="GitHub App installation token: Not Found"):
            adapter.get_issue("acme/app#1")
        assert GITHUB.check_calls(mock.calls) == 1


def test_a_github_app_without_installation_id_or_login_is_a_config_problem(app_key):
    path, _ = app_key
    text = (f"tracker:\n  kind: github\n  github:\n    app_id: 123456\n    private_key_path: {path}\n"
            "categories:\n  - {key: app, name: App, github_repo: acme/app}\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "c.yaml", {})
    found = [str(problem) for problem in caught.value.problems]
    assert len(found) == 2 and all(line.startswith("c.yaml:3: tracker.github: a GitHub App needs ")
                                   for line in found)
    assert "installation_id" in found[0] and "login" in found[1]


def test_github_app_key_that_cannot_be_read_is_an_auth_error(tmp_path):
    settings = GitHubSettings(app_id=123456, private_key_path=str(tmp_path / "missing.pem"), installation_id=1,
                              login="cocreate-app[bot]")
    with pytest.raises(TrackerAuthError, match="missing.pem"):
        build_github(settings)
