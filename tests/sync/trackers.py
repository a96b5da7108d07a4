"""Runtimes wired to the fake Jira and GitHub sites, for sync tests that drive the real client libraries."""

from __future__ import annotations

import re

from sqlalchemy import select

from plugin.github import GitHubAdapter, Pacer
from plugin.loading import parse_settings
from sync.ledger.store import Need
from sync.runtime import build_runtime

JIRA_YAML = """
locale: en
base_url: https://cocreate.example
secret_key: test-secret
tracker:
  kind: jira
  jira: {url: "https://cocreate-test.atlassian.net", email: cocreate@example.com, api_token: fake-token,
         account_id: 5b10ac8d82e05b22cc7d4ef5}
categories:
  - {key: billing, name: Billing, jira_project: CS, github_repo: acme/billing}
people:
  - {name: Wang Wei, email: wang.wei@example.com, jira_account_id: acc-wang, github_login: wangwei}
customers:
  - key: acme
    name: ACME Corp
    locale: en
    channels: [{kind: email, to: [lin@acme.example]}]
  - {key: globex, name: Globex, locale: zh-Hant}
webhooks: {jira_secret: jira-secret, github_secret: github-secret}
"""
GITHUB_YAML = JIRA_YAML.replace(
    """  kind: jira
  jira: {url: "https://cocreate-test.atlassian.net", email: cocreate@example.com, api_token: fake-token,
         account_id: 5b10ac8d82e05b22cc7d4ef5}""",
    """  kind: github
  github: {token: fake-token, login: cocreate-bot}""")


def unpaced_github(settings):
    """The real GitHub adapter with its write pacing counted but not slept, so tests run at full speed."""
    return GitHubAdapter(settings.tracker.github, pacer=Pacer(sleep=lambda _seconds: None))


def tracker_runtime(kind: str, home, *, immediate: bool = True, replace: dict[str, str] | None = None,
                    extra_yaml: str = "", tracker: bool = True):
    """A runtime on a fresh SQLite home whose tracker is the fake ``jira`` or ``github`` site.

    ``replace`` maps text of the site's YAML (which must be there) to what stands in its place; ``extra_yaml`` is
    appended after that. ``tracker=False``: the same config with no tracker yet (the home can later be opened
    with one).
    """
    text = JIRA_YAML if kind == "jira" else GITHUB_YAML
    if not tracker:
        text = re.sub(r"^tracker:\n(?: {2,}.*\n)+", "", text, count=1, flags=re.MULTILINE)
    for old, new in (replace or {}).items():
        assert old in text
        text = text.replace(old, new)
    text += extra_yaml
    settings = parse_settings(text, f"{kind}.yaml")
    runtime = build_runtime(settings, {"COCREATE_HOME": str(home)}, immediate=immediate)
    if kind == "github":
        runtime.adapter_factory = unpaced_github
    return runtime


def stored(rt, ref):
    """The need ``ref`` as the store holds it now."""
    with rt.Session() as session:
        return session.scalars(select(Need).where(Need.ref == ref)).one()
