"""Fake webhook-registration endpoints for ``cocreate install``: GitHub repository hooks and Jira admin webhooks.

FakeGitHub and FakeJira cannot serve these: each registers one catch-all route for its whole API, and ``responses``
pops the first of two routes that match the same request, so an extra route for the hooks paths would break them.
The install commands call nothing else, so these two small servers stand alone.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import itertools
import json
import re
from typing import Any
from urllib.parse import urlsplit

import responses

from tests.contract import CONTRACTS, SUBSETS

GITHUB_API = "https://api.github.com"
JIRA_SITE = "https://cocreate-test.atlassian.net"


def _github_hook_example() -> dict[str, Any]:
    """GitHub's own example of a repository hook, from the official description Cocreate's contract uses."""
    spec = json.loads((SUBSETS / "github-rest-issues-subset.json").read_text(encoding="utf-8"))
    return spec["components"]["examples"]["hook"]["value"]


def _jira_webhook_recording() -> dict[str, Any]:
    """One admin webhook as a real Jira Server listed it (jira-ruby's recording, see its SOURCES.md)."""
    path = CONTRACTS / "recorded" / "jira-ruby" / "spec" / "mock_responses" / "webhook.json"
    return json.loads(path.read_text(encoding="utf-8"))[0]


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeRepoHooks:
    """``GET``/``POST /repos/{o}/{r}/hooks`` and ``PATCH /repos/{o}/{r}/hooks/{id}`` as GitHub answers them.

    Answers are GitHub's example hook with this hook's values, so they fit the official description (check the
    traffic with ``GITHUB.check_calls``). Like GitHub, a stored secret is listed as ``********`` (``secrets``
    keeps what was really sent, by hook id); unknown repositories answer 404, a wrong token 401.
    ``writes`` counts POST/PATCH calls; ``bodies`` lists ``(method, path, json)`` of every write.
    """

    def __init__(self, mock: responses.RequestsMock, repos: tuple[str, ...] = ("acme/app",), *, token: str = "t"):
        self.token = token
        self.hooks: dict[str, list[dict[str, Any]]] = {repo: [] for repo in repos}
        self.secrets: dict[int, str] = {}
        self.writes = 0
        self.bodies: list[tuple[str, str, Any]] = []
        self._ids = itertools.count(12345678)
        self._now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
        pattern = re.compile(re.escape(GITHUB_API) + r"(?::443)?/repos/[^/]+/[^/]+/hooks(?:/\d+)?(?:\?.*)?$")
        for method in ("GET", "POST", "PATCH"):
            mock.add_callback(method, pattern, callback=self._answer, content_type="application/json; charset=utf-8")
        mock.assert_all_requests_are_fired = False

    def add_hook(self, repo: str, *, url: str, events: list[str], secret: str | None = None,
                 content_type: str = "json", active: bool = True) -> dict[str, Any]:
        """A hook someone made earlier on github.com (not counted in ``writes``); returns it as listed."""
        hook = self._new(repo, {"url": url, "content_type": content_type, "insecure_ssl": "0",
                                **({"secret": secret} if secret else {})}, events, active)
        return self._listed(hook)

    def _new(self, repo: str, config: dict[str, Any], events: list[str], active: bool) -> dict[str, Any]:
        hook_id = next(self._ids)
        self._now += dt.timedelta(seconds=1)
        api = f"{GITHUB_API}/repos/{repo}/hooks/{hook_id}"
        hook = copy.deepcopy(_github_hook_example())
        hook.update(id=hook_id, name="web", active=active, events=list(events), url=api, test_url=f"{api}/test",
                    ping_url=f"{api}/pings", deliveries_url=f"{api}/deliveries",
                    created_at=_iso(self._now), updated_at=_iso(self._now))
        hook["config"] = {key: value for key, value in config.items() if key != "secret"}
        if config.get("secret"):
            self.secrets[hook_id] = config["secret"]
        self.hooks[repo].append(hook)
        return hook

    def _listed(self, hook: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(hook)
        if hook["id"] in self.secrets:
            shown["config"]["secret"] = "********"
        return shown

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
        return status, headers or {}, json.dumps(body)

    def _error(self, status: int, message: str) -> tuple[int, dict, str]:
        return self._json(status, {"message": message, "status": str(status),
                                   "documentation_url": "https://docs.github.com/rest/repos/webhooks"})

    def _answer(self, request) -> tuple[int, dict, str]:
        if request.headers.get("Authorization") != f"token {self.token}":
            return self._error(401, "Bad credentials")
        path = urlsplit(request.url).path
        match = re.fullmatch(r"/repos/(?P<repo>[^/]+/[^/]+)/hooks(?:/(?P<id>\d+))?", path)
        assert match, path
        repo = match["repo"]
        if repo not in self.hooks:
            return self._error(404, "Not Found")
        body = json.loads(request.body) if request.body else None
        if request.method == "GET" and match["id"] is None:
            return self._json(200, [self._listed(hook) for hook in self.hooks[repo]])
        if request.method == "POST" and match["id"] is None:
            self.writes += 1
            self.bodies.append(("POST", path, body))
            hook = self._new(repo, body["config"], body.get("events", ["push"]), body.get("active", True))
            return self._json(201, self._listed(hook), {"Location": hook["url"]})
        if request.method == "PATCH" and match["id"] is not None:
            hook = next((hook for hook in self.hooks[repo] if hook["id"] == int(match["id"])), None)
            if hook is None:
                return self._error(404, "Not Found")
            self.writes += 1
            self.bodies.append(("PATCH", path, body))
            if "config" in body:
                config = dict(body["config"])
                if config.get("secret"):
                    self.secrets[hook["id"]] = config.pop("secret")
                hook["config"] = {**hook["config"], **config}
            for name in ("events", "active"):
                if name in body:
                    hook[name] = body[name]
            self._now += dt.timedelta(seconds=1)
            hook["updated_at"] = _iso(self._now)
            return self._json(200, self._listed(hook))
        raise NotImplementedError(f"FakeRepoHooks does not emulate {request.method} {path}")


class FakeJiraAdminWebhooks:
    """Jira's admin webhooks REST API (``/rest/webhooks/1.0/webhook``): list, register (201), update by id (PUT).

    Webhooks are shaped like jira-ruby's recording of a real Jira (``name``, ``url``, ``excludeBody``,
    ``filters``, ``events``, ``enabled``, ``self``, ``lastUpdated*``); a secret is kept in ``secrets`` and never
    listed. A wrong e-mail/token answers 401; ``fail_next(status, message)`` answers the next call with Jira's
    ErrorCollection. ``bearer`` expects a Data Center personal access token instead. ``writes`` lists
    ``(method, path, json body)`` of every POST/PUT; ``calls`` every ``(method, path)`` received.
    """

    BASE = "/rest/webhooks/1.0/webhook"

    def __init__(self, mock: responses.RequestsMock, *, site: str = JIRA_SITE,
                 email: str = "cocreate@example.com", api_token: str = "fake-token",
                 bearer: str | None = None):
        self.site = site
        # Cloud: e-mail and API token over basic auth; Data Center: a personal access token as bearer.
        basic = "Basic " + base64.b64encode(f"{email}:{api_token}".encode()).decode()
        self.credentials = f"Bearer {bearer}" if bearer else basic
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.secrets: dict[int, str] = {}
        self.writes: list[tuple[str, str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self._failures: list[tuple[int, str]] = []
        self._ids = itertools.count(2)
        self._clock = itertools.count(1_764_000_000_000, 1000)
        pattern = re.compile(re.escape(site) + re.escape(self.BASE) + r"(?:/\d+)?$")
        for method in ("GET", "POST", "PUT"):
            mock.add_callback(method, pattern, callback=self._answer, content_type="application/json;charset=UTF-8")
        mock.assert_all_requests_are_fired = False

    def add_webhook(self, *, url: str, events: list[str], jql: str = "", name: str = "from API",
                    self_url: str | None = None, enabled: bool = True) -> int:
        """A webhook an admin made earlier in Jira (not a write); ``self_url`` as Jira would build it."""
        webhook_id = next(self._ids)
        hook = copy.deepcopy(_jira_webhook_recording())
        hook.update(name=name, url=url, events=list(events), filters={"issue-related-events-section": jql},
                    enabled=enabled, excludeBody=False,
                    self=self_url or f"{self.site}{self.BASE}/{webhook_id}", lastUpdated=next(self._clock))
        self.webhooks[webhook_id] = hook
        return webhook_id

    def fail_next(self, status: int, message: str) -> None:
        self._failures.append((status, message))

    def _json(self, status: int, body: Any) -> tuple[int, dict, str]:
        return status, {}, json.dumps(body)

    def _answer(self, request) -> tuple[int, dict, str]:
        path = urlsplit(request.url).path
        self.calls.append((request.method, path))
        if self._failures:
            status, message = self._failures.pop(0)
            return self._json(status, {"errorMessages": [message], "errors": {}})
        if request.headers.get("Authorization") != self.credentials:
            return self._json(401, {"errorMessages": ["You are not authenticated. Authentication required to "
                                                      "perform this operation."], "errors": {}})
        body = json.loads(request.body) if request.body else None
        if request.method == "GET" and path == self.BASE:
            return self._json(200, list(self.webhooks.values()))
        if request.method == "POST" and path == self.BASE:
            self.writes.append(("POST", path, body))
            webhook_id = self.add_webhook(url=body["url"], events=body["events"],
                                          jql=body["filters"]["issue-related-events-section"], name=body["name"])
            self._store_secret(webhook_id, body)
            return self._json(201, self.webhooks[webhook_id])
        if request.method == "PUT" and path.startswith(self.BASE + "/"):
            webhook_id = int(path.rsplit("/", 1)[-1])
            if webhook_id not in self.webhooks:
                return self._json(404, {"errorMessages": [f"No webhook with id {webhook_id}"], "errors": {}})
            self.writes.append(("PUT", path, body))
            self.webhooks[webhook_id].update(name=body["name"], url=body["url"], events=body["events"],
                                             filters=body["filters"], excludeBody=body["excludeBody"],
                                             lastUpdated=next(self._clock))
            self._store_secret(webhook_id, body)
            return self._json(200, self.webhooks[webhook_id])
        raise NotImplementedError(f"FakeJiraAdminWebhooks does not emulate {request.method} {path}")

    def _store_secret(self, webhook_id: int, body: dict[str, Any]) -> None:
        if body.get("secret"):
            self.secrets[webhook_id] = body["secret"]
