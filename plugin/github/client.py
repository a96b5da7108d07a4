"""Build the PyGithub client from Cocreate's GitHub settings, with PyGithub's own retries and throttling off."""

from __future__ import annotations

from pathlib import Path

import github

from plugin.errors import TrackerAuthError
from plugin.tracker_settings import GitHubSettings

DEFAULT_TIMEOUT = 15
"""Seconds to wait for GitHub to answer one request before the job counts it as unavailable."""


def build_auth(settings: GitHubSettings) -> github.Auth.Auth:
    """A personal/fine-grained token when ``token`` is set, else the GitHub App's installation auth."""
    if settings.token:
        return github.Auth.Token(settings.token)
    if settings.app_id is None or not settings.private_key_path or settings.installation_id is None:
        # GitHubSettings refuses such a config; settings built in code may still lack one.
        raise TrackerAuthError("a GitHub App needs app_id, private_key_path and installation_id")
    key_file = Path(settings.private_key_path)
    try:
        private_key = key_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrackerAuthError(f"cannot read the GitHub App private key {key_file}: {exc.strerror}") from exc
    return github.Auth.AppAuth(settings.app_id, private_key).get_installation_auth(settings.installation_id)


def build_github(settings: GitHubSettings, *, timeout: int = DEFAULT_TIMEOUT) -> github.Github:
    """A ``github.Github`` for ``settings.api_url`` that never retries or sleeps on its own.

    Retrying is the job queue's business (so that a failure is recorded), and writes are paced by the
    adapter's :class:`plugin.github.adapter.Pacer`; PyGithub's defaults would otherwise retry 5xx and rate
    limits with sleeps of its own and hold every write one second. ``lazy=True`` makes ``get_repo`` and
    ``get_issue`` cost no request until data is read.
    """
    return github.Github(
        auth=build_auth(settings),
        base_url=settings.api_url,
        timeout=timeout,
        user_agent="Cocreate",
        per_page=100,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
        lazy=True,
    )
