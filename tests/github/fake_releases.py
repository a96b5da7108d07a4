"""FakeGitHub with releases: ``GET /repos/{o}/{r}/releases[/{id}]`` and issues listed by milestone, checked against
GitHub's description (the releases subset in tests/fixtures/github, beside the shared issues subset)."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import responses

from tests.contract import GITHUB, Contract
from tests.github.fake_github import FakeGitHub

WEBHOOK_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "github"
GITHUB_RELEASES = Contract(
    Path(__file__).resolve().parents[1] / "fixtures" / "github" / "github-rest-releases-subset.json",
    "https://api.github.com", undocumented_errors=GITHUB.undocumented_errors)
"""GitHub's release and milestone listings, which the shared issues subset lacks (tests/fixtures/github/SOURCES.md)."""
_RELEASE_PATH = re.compile(r"/repos/[^/]+/[^/]+/(releases(/\d+)?|milestones)")


def check_github_calls(calls) -> int:
    """Every recorded call to the fake: release and milestone ones against the releases subset, the rest against
    the shared issues subset. Returns how many were checked."""
    checked = 0
    for call in calls:
        parts = urlsplit(call.request.url)
        if parts.hostname != "api.github.com":
            continue
        contract = GITHUB_RELEASES if _RELEASE_PATH.fullmatch(parts.path) else GITHUB
        contract.check_exchange(call.request, call.response)
        checked += 1
    return checked


class FakeGitHubReleases(FakeGitHub):
    """A :class:`FakeGitHub` whose repositories also have releases.

    - ``publish(repo, tag, name="", body="", prerelease=False, draft=False)``: a release as GitHub's documented
      ``release`` (the ``release`` of the octokit ``release.published`` example), published now; its JSON;
    - ``set_milestone(key, number)``: put an issue in a milestone (as an engineer does on github.com);
    - ``release_payload(release, repo)``: the ``release`` ``published`` webhook body about it.
    """

    def __init__(self, mock: responses.RequestsMock, repos=("acme/billing",), **options: Any):
        super().__init__(mock, repos=repos, **options)
        self._example = json.loads((WEBHOOK_FIXTURES / "release__published.json").read_text(encoding="utf-8"))
        self.releases: dict[str, list[dict[str, Any]]] = {}

    def publish(self, repo: str, tag: str, *, name: str = "", body: str = "", prerelease: bool = False,
                draft: bool = False) -> dict[str, Any]:
        stored = self._repo(repo)["name"]
        release_id = self._new_id()
        now = self._advance()
        api = f"{self.base_url}/repos/{stored}/releases/{release_id}"
        release = copy.deepcopy(self._example["release"])
        release.update(
            url=api, assets_url=f"{api}/assets", html_url=f"{self.web_url}/{stored}/releases/tag/{tag}",
            upload_url=f"https://uploads.github.com/repos/{stored}/releases/{release_id}/assets{{?name,label}}",
            tarball_url=f"{self.base_url}/repos/{stored}/tarball/{tag}",
            zipball_url=f"{self.base_url}/repos/{stored}/zipball/{tag}", id=release_id,
            node_id=f"RE_fake{release_id}", tag_name=tag, name=name, body=body, draft=draft, prerelease=prerelease,
            created_at=now, published_at=None if draft else now, author=self._user(self.actor),
        )
        self.releases.setdefault(repo.lower(), []).insert(0, release)  # GitHub lists the newest first
        return copy.deepcopy(release)

    def set_milestone(self, key: str, number: int) -> None:
        repo, issue = self._split(key)
        self._repo(repo)["issues"][issue]["json"]["milestone"] = copy.deepcopy(self._repo(repo)["milestones"][number])

    def release_payload(self, release: dict[str, Any], repo: str, action: str = "published") -> dict[str, Any]:
        payload = copy.deepcopy(self._example)
        payload["action"] = action
        payload["release"] = copy.deepcopy(release)
        payload["repository"] = {**payload["repository"], "full_name": repo, "name": repo.split("/")[1]}
        return payload

    def _answer(self, request):
        parts = urlsplit(request.url)
        path = parts.path.removeprefix(urlsplit(self.base_url).path)
        query = dict(parse_qsl(parts.query))
        match = re.fullmatch(r"/repos/(?P<repo>[^/]+/[^/]+)/releases(?:/(?P<id>\d+))?", path)
        if match and request.method == "GET" and self._authorised(request):
            if match["repo"].lower() not in self._repos:
                return self._error(404, "Not Found", "releases/releases")
            listed = self.releases.get(match["repo"].lower(), [])
            if match["id"] is None:
                return self._page(listed, query, path)
            found = [release for release in listed if release["id"] == int(match["id"])]
            return self._json(200, found[0]) if found else self._error(404, "Not Found", "releases/releases")
        issues = re.fullmatch(r"/repos/(?P<repo>[^/]+/[^/]+)/issues", path)
        if issues and request.method == "GET" and "milestone" in query and self._authorised(request):
            number = int(query["milestone"])
            state = query.get("state", "open")
            items = [stored["json"] for _n, stored in sorted(self._repo(issues["repo"])["issues"].items())
                     if (stored["json"].get("milestone") or {}).get("number") == number
                     and (state == "all" or stored["json"]["state"] == state)]
            return self._page(items, query, path)
        return super()._answer(request)


@contextlib.contextmanager
def checked_release_site(repos: tuple[str, ...] = ("acme/billing",), **options: Any) -> Iterator[FakeGitHubReleases]:
    """A :class:`FakeGitHubReleases` on a mock of its own, every exchange checked when the block ends."""
    with responses.RequestsMock() as mock:
        fake = FakeGitHubReleases(mock, repos=repos, **options)
        yield fake
        check_github_calls(mock.calls)
