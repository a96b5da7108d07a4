"""The GitHub tracker adapter: Cocreate's ``TrackerAdapter`` contract on PyGithub, with write pacing."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import github
from github.GithubException import GithubException, RateLimitExceededException
from github.GithubObject import NonCompletableGithubObject
from github.PaginatedList import PaginatedList
from github.Requester import Requester

from plugin.base import Comment, IssueSpec, IssueState, Release, TrackerAdapter
from plugin.errors import (
    TRANSPORT_ERRORS,
    TrackerAuthError,
    TrackerError,
    TrackerInvalidField,
    TrackerNotFound,
    TrackerRateLimited,
    TrackerUnavailable,
    parse_retry_after,
)
from plugin.github import releases
from plugin.github.client import build_github
from plugin.text import markdown_text, plain_text
from plugin.tracker_settings import GitHubSettings

log = logging.getLogger(__name__)

_REPO = re.compile(r"^(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)$")
_KEY = re.compile(r"^(?P<project>[\w.-]+/[\w.-]+)#(?P<number>[1-9][0-9]*)$")
_KEY_OR_URL = re.compile(r"^(?:https?://[^/]+/)?([\w.-]+/[\w.-]+)(?:#|/issues/)(\d+)/?$")
_UPDATABLE = {"title", "body", "labels", "assignee"}
_IGNORED_ON_GITHUB = {"due_date", "priority", "custom_fields"}  # due date lives in the body, urgency in a label
SECONDARY_LIMIT_WAIT = 60.0
"""GitHub's advice when a secondary rate limit names no time: wait at least one minute."""


class Pacer:
    """Spaces writes so Cocreate stays under GitHub's secondary limits on creating content.

    At most ``per_minute`` writes start in any 60 seconds, and two writes start at least ``min_interval``
    seconds apart. Thread-safe: each caller reserves its start time under a lock, then sleeps outside it,
    so concurrent callers queue up instead of bursting. ``clock`` and ``sleep`` are injectable for tests.
    The pace holds within one process; several worker processes sharing a token each keep their own.
    """

    def __init__(self, per_minute: int = 80, min_interval: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if per_minute < 1 or min_interval < 0:
            raise ValueError("per_minute must be at least 1 and min_interval not negative")
        self.per_minute = per_minute
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._starts: collections.deque[float] = collections.deque(maxlen=per_minute)
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next write may start; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = now
            if self._starts:
                start = max(start, self._starts[-1] + self.min_interval)
            if len(self._starts) == self.per_minute:
                start = max(start, self._starts[0] + 60.0)
            self._starts.append(start)
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


class _Listed(NonCompletableGithubObject):
    """One item of a GitHub listing, kept as its JSON.

    PyGithub's ``Issue`` objects from a listing are incomplete: reading an attribute GitHub left out (such
    as ``pull_request`` on a plain issue) makes PyGithub fetch that issue again, one request per item.
    """

    def _initAttributes(self) -> None:
        pass

    def _useAttributes(self, attributes: dict[str, Any]) -> None:
        pass


class GitHubAdapter(TrackerAdapter):
    """Cocreate's tracker adapter for GitHub issues (github.com or GitHub Enterprise Server).

    Keys are ``owner/repo#123``; projects are ``owner/repo``. Built from :class:`GitHubSettings`, or from a
    ready ``github.Github`` (tests). Writes go through ``pacer``; reads are not paced. One call each:

    - ``whoami``: ``GET /user`` once, unless ``settings.login`` is set (a GitHub App's settings must set it);
    - ``find_by_marker``: ``GET /repos/{o}/{r}/issues?labels=<marker>&state=all`` (not the search API, which lags);
    - ``create_issue``: ``POST /repos/{o}/{r}/issues``; ``get_issue``: ``GET /repos/{o}/{r}/issues/{n}``;
    - ``update_issue``: one ``PATCH /repos/{o}/{r}/issues/{n}`` with the changed fields, none if nothing to write;
    - ``add_comment`` / ``list_comments``: ``POST`` / ``GET /repos/{o}/{r}/issues/{n}/comments``;
    - ``updated_since``: ``GET /repos/{o}/{r}/issues?since=…&state=all&sort=updated&direction=asc`` per project.

    Listings follow GitHub's ``Link`` pages (100 a page) and leave pull requests out.
    """

    kind = "github"
    links_in_body = True

    def __init__(self, settings: GitHubSettings, *, client: github.Github | None = None,
                 pacer: Pacer | None = None, wall_clock: Callable[[], float] = time.time):
        self.settings = settings
        self.client = client if client is not None else build_github(settings)
        self.pacer = pacer if pacer is not None else Pacer()
        self._wall_clock = wall_clock
        self._login: str | None = settings.login

    # The contract ----------------------------------------------------------------------------------

    def whoami(self) -> str:
        if self._login is None:  # a token's own user; an app has its login in the settings (GitHubSettings)
            with self._translated():
                self._login = self.client.get_user().login
        return self._login

    def find_account(self, email: str) -> str | None:
        # GitHub finds a user by e-mail only when the address is public on their profile.
        with self._translated():
            found = self.client.search_users(f"{email} in:email")
            # Iterated, not sliced: PyGithub's slice of an empty result raises IndexError; one page is read.
            first = next(iter(found), None)
        return first.login if first is not None else None

    def parse_issue_reference(self, text: str) -> str | None:
        """``owner/repo#12`` or an issue URL (``https://github.com/owner/repo/issues/12``) -> ``owner/repo#12``."""
        match = _KEY_OR_URL.match(text.strip())
        return f"{match.group(1)}#{match.group(2)}" if match else None

    def find_by_marker(self, project: str, marker: str) -> IssueState | None:
        wanted = marker.casefold()
        found = []
        with self._translated():
            for item in self._list_issues(project, {"labels": marker, "state": "all"}):
                if wanted in {label.casefold() for label in _label_names(item)}:
                    found.append(item)
        if not found:
            return None
        # A marker is unique to one need; should two issues carry it, the first one created is the need's.
        return issue_state(project, min(found, key=lambda item: item["number"]))

    def create_issue(self, spec: IssueSpec) -> IssueState:
        if spec.body is not None and not isinstance(spec.body, str):
            raise TypeError("a GitHub issue body is a Markdown string")
        labels = sorted(set(spec.labels) | {spec.marker})
        arguments: dict[str, Any] = {"title": spec.title, "labels": labels}
        if spec.body is not None:
            arguments["body"] = spec.body
        if spec.assignee:
            arguments["assignees"] = [spec.assignee]
        repository = self._repository(spec.project)
        if spec.milestone is not None:
            arguments["milestone"] = repository.get_milestone(spec.milestone)  # lazy: no request
        self.pacer.wait()
        with self._translated():
            issue = repository.create_issue(**arguments)
            state = issue_state(spec.project, issue.raw_data)
        kept = {label.casefold() for label in state.labels}
        dropped = [label for label in labels if label.casefold() not in kept]
        if dropped:
            # GitHub silently drops labels set by an account without push (triage/write) access.
            log.warning("GitHub dropped labels %s on %s: Cocreate's GitHub account needs triage or write "
                        "access to %s, or retries cannot find this issue by its marker",
                        ", ".join(dropped), state.key, spec.project)
        return state

    def milestone_due(self, project: str, due: dt.date) -> int | None:
        """GET /repos/{o}/{r}/milestones?state=open: the first open milestone whose due date is ``due``.

        GitHub keeps ``due_on`` as a time on the due day in the repository owner's zone; the day is compared."""
        with self._translated():
            for milestone in self._repository(project).get_milestones(state="open"):
                if milestone.due_on is not None and milestone.due_on.date() == due:
                    return milestone.number
        return None

    def get_issue(self, key: str) -> IssueState:
        project, number = parse_key(key)
        with self._translated():
            data = self._repository(project).get_issue(number).raw_data
        return issue_state(project, data)

    def update_issue(self, key: str, changes: dict[str, Any]) -> None:
        unknown = set(changes) - _UPDATABLE - _IGNORED_ON_GITHUB
        if unknown:
            raise ValueError(f"update_issue cannot change {', '.join(sorted(unknown))} on GitHub")
        edit: dict[str, Any] = {}
        if "title" in changes:
            edit["title"] = changes["title"]
        if "body" in changes:
            if not isinstance(changes["body"], str):
                raise TypeError("a GitHub issue body is a Markdown string")
            edit["body"] = changes["body"]
        if "labels" in changes:
            edit["labels"] = sorted(changes["labels"])
        if "assignee" in changes:
            edit["assignees"] = [changes["assignee"]] if changes["assignee"] else []
        if not edit:
            return
        project, number = parse_key(key)
        issue = self._repository(project).get_issue(number)
        self.pacer.wait()
        with self._translated():
            issue.edit(**edit)

    def add_comment(self, key: str, text: str) -> Comment:
        project, number = parse_key(key)
        issue = self._repository(project).get_issue(number)
        self.pacer.wait()
        with self._translated():
            comment = issue.create_comment(markdown_text(text))
            return _comment(comment)

    def list_comments(self, key: str) -> list[Comment]:
        project, number = parse_key(key)
        with self._translated():
            return [_comment(comment) for comment in self._repository(project).get_issue(number).get_comments()]

    def set_link(self, key: str, global_id: str, url: str, title: str) -> None:
        """GitHub keeps links in the Cocreate section of the issue body; nothing to do here."""

    def add_attachment(self, key: str, filename: str, data: bytes, content_type: str) -> str | None:
        """GitHub has no attachment API; the body links Cocreate's own signed copy instead."""
        return None

    def updated_since(self, projects: list[str], since: dt.datetime) -> list[IssueState]:
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)  # Cocreate stores naive UTC times
        parameters = {"state": "all", "sort": "updated", "direction": "asc",
                      "since": since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        states = []
        with self._translated():
            for project in projects:
                states.extend(issue_state(project, item) for item in self._list_issues(project, parameters))
        return states

    def get_release(self, ref: str) -> Release:
        """``GET /repos/{o}/{r}/releases/{id}``."""
        project, number = releases.parse_release_ref(ref)
        with self._translated():
            data = self._repository(project).get_release(number).raw_data
        return _release(project, data)

    def release_issues(self, release: Release) -> frozenset[str]:
        """The rule of ``plugin.github.releases``: the issues the notes mention, and the issues of the milestones
        titled like the release (``GET /repos/{o}/{r}/milestones?state=all``, then ``.../issues?milestone=N``)."""
        project = release.project
        numbers = releases.mentioned_numbers(project, release.notes)
        with self._translated():
            for milestone in self._repository(project).get_milestones(state="all"):
                if releases.milestone_matches(milestone.title, release.tag, release.name):
                    parameters = {"milestone": str(milestone.number), "state": "all"}
                    numbers |= {item["number"] for item in self._list_issues(project, parameters)}
        return frozenset(f"{project}#{number}" for number in numbers)

    def released_since(self, projects: list[str], since: dt.datetime) -> list[Release]:
        """``GET /repos/{o}/{r}/releases`` per project, every page: GitHub lists by creation, and a release created
        long ago may have been published only now."""
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        found = []
        with self._translated():
            for project in projects:
                url = f"{self._repository(project).url}/releases"
                for item in PaginatedList(_Listed, self.client.requester, url, {}):
                    published = _timestamp(item.raw_data.get("published_at"))
                    if releases.shipped(item.raw_data) and published is not None and published >= since:
                        found.append(_release(project, item.raw_data))
        return found

    # Helpers ---------------------------------------------------------------------------------------

    def _repository(self, project: str) -> github.Repository.Repository:
        if not _REPO.match(project):
            raise ValueError(f"{project!r} is not a GitHub repository such as owner/repo")
        return self.client.get_repo(project)

    def _list_issues(self, project: str, parameters: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Issues of ``project`` as GitHub's JSON, page after page, without pull requests."""
        url = f"{self._repository(project).url}/issues"
        for item in PaginatedList(_Listed, self.client.requester, url, dict(parameters)):
            if not is_pull_request(item.raw_data):
                yield item.raw_data

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn PyGithub's and requests' errors into Cocreate's ``Tracker*`` errors."""
        try:
            yield
        except GithubException as exc:
            raise tracker_error(exc, self._wall_clock()) from exc
        except TRANSPORT_ERRORS as exc:
            raise TrackerUnavailable(f"GitHub did not answer: {exc}") from exc

    # Webhook registration (``cocreate install github --register``) --------------------------------

    def register_webhook(self, url: str, secret: str | None, projects: list[str], *,
                         resend_secret: bool = False) -> list[str]:
        """One repository webhook per project sending :data:`WEBHOOK_EVENTS` to ``url`` as JSON, signed with
        ``secret`` (``X-Hub-Signature-256``), TLS verified.

        Per project: ``GET /repos/{o}/{r}/hooks``; then ``POST /repos/{o}/{r}/hooks`` when no hook has this URL,
        or ``PATCH /repos/{o}/{r}/hooks/{id}`` when its events, content type, TLS check or active flag differ or it
        has no secret. GitHub shows a stored secret as ``********`` only, so an update always re-sends it and a
        changed secret alone is written only with ``resend_secret``. Needs admin access to each repository
        (classic token scope ``admin:repo_hook``, or fine-grained "Webhooks: read and write").
        """
        if not secret:
            raise ValueError("a GitHub webhook needs a secret (webhooks.github_secret)")
        config = {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"}
        lines = []
        for project in projects:
            repository = self._repository(project)
            with self._translated():
                hooks = [hook for hook in repository.get_hooks() if (hook.config or {}).get("url") == url]
            if not hooks:
                self.pacer.wait()
                with self._translated():
                    created = repository.create_hook("web", config, list(WEBHOOK_EVENTS), active=True)
                lines.append(f"{project}: created (hook {created.id})")
                continue
            hook, others = hooks[0], hooks[1:]
            extra = f"; {len(others)} more hook(s) also send to this URL: delete them" if others else ""
            differences = _hook_differences(hook)
            if resend_secret:
                differences.append("secret re-sent as asked")
            if not differences:
                lines.append(f"{project}: unchanged (hook {hook.id}; GitHub hides the secret, so a changed "
                             f"secret is written only with --resend-secret{extra})")
                continue
            self.pacer.wait()
            with self._translated():
                hook.edit("web", config, events=list(WEBHOOK_EVENTS), active=True)
            lines.append(f"{project}: updated (hook {hook.id}: {', '.join(differences)}; secret re-sent{extra})")
        return lines


# Reading GitHub's JSON -----------------------------------------------------------------------------


def parse_key(key: str) -> tuple[str, int]:
    """``owner/repo#12`` -> ``("owner/repo", 12)``."""
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"{key!r} is not a GitHub issue key such as owner/repo#12")
    return match["project"], int(match["number"])


def is_pull_request(data: dict[str, Any]) -> bool:
    """Whether an item of ``GET /repos/{owner}/{repo}/issues`` is a pull request."""
    # Before 2013 GitHub gave every issue a ``pull_request`` object, with null URLs for plain issues.
    return bool((data.get("pull_request") or {}).get("html_url"))


def _label_names(data: dict[str, Any]) -> list[str]:
    return [label if isinstance(label, str) else label["name"] for label in data.get("labels") or []]


def _timestamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _project_of(data: dict[str, Any], asked: str) -> str:
    # A transferred issue or a renamed repository answers through a 301 that PyGithub follows, so the
    # issue may now live in another repository than the one asked for.
    repository_url = data.get("repository_url")
    if repository_url:
        owner, repo = repository_url.rstrip("/").split("/")[-2:]
        return f"{owner}/{repo}"
    return asked


def issue_state(project: str, data: dict[str, Any]) -> IssueState:
    """An :class:`IssueState` from GitHub's JSON for one issue."""
    state = data.get("state") or "open"
    assignees = data.get("assignees") or []
    assignee = assignees[0] if assignees else data.get("assignee")
    return IssueState(
        key=f"{_project_of(data, project)}#{data['number']}",
        url=data.get("html_url") or "",
        title=data.get("title") or "",
        labels=frozenset(_label_names(data)),
        status_name=state,
        status_category="done" if state == "closed" else "new",
        state_reason=data.get("state_reason"),
        assignee=assignee["login"] if assignee else None,
        body=data.get("body"),
        updated_at=_timestamp(data.get("updated_at")),
        raw_id=data.get("node_id"),
    )


def _release(project: str, data: dict[str, Any]) -> Release:
    """A :class:`Release` from GitHub's JSON for one release of ``project``."""
    return Release(ref=releases.release_ref(project, data["id"]), project=project,
                   name=data.get("name") or data.get("tag_name") or "", released=releases.shipped(data),
                   released_on=releases.published_on(data), notes=data.get("body") or "", tag=data.get("tag_name"))


def _comment(comment: github.IssueComment.IssueComment) -> Comment:
    login = comment.user.login if comment.user else None
    # Read from the answer itself: PyGithub's ``author_association`` fetches the comment again when the field is
    # absent (older GitHub Enterprise answers), and an absent field means no membership anyway.
    association = comment._rawData.get("author_association")
    return Comment(id=str(comment.id), author=login, text=plain_text(comment.body or ""),
                   created_at=comment.created_at, author_name=login,
                   author_identities=(login,) if login else (), author_association=association)


# Errors -------------------------------------------------------------------------------------------------


def github_message(exc: GithubException) -> str:
    """GitHub's own words for a failed call, with the per-field details of a 422."""
    data = exc.data
    message = ""
    if isinstance(data, dict):
        message = str(data.get("message") or "").strip()
        if not message and isinstance(data.get("data"), str):
            message = data["data"].strip()[:200]  # PyGithub's wrapping of a body that is not JSON
        details = [detail for detail in map(_error_detail, data.get("errors") or []) if detail]
        if details:
            message = f"{message}: {'; '.join(details)}" if message else "; ".join(details)
    return message or exc.message or f"GitHub answered HTTP {exc.status}"


def _error_detail(item: Any) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    field = item.get("field")
    text = item.get("message") or item.get("code") or ""
    if "value" in item and not item.get("message"):
        text = f"{text} {item['value']!r}".strip()
    return f"{field}: {text}" if field else text


def retry_after(headers: dict[str, str], now: float, secondary: bool) -> float | None:
    """Seconds to wait before trying again, from ``Retry-After`` or ``x-ratelimit-reset`` (epoch seconds)."""
    seconds = parse_retry_after(headers.get("retry-after"), now)
    if seconds is not None:
        return seconds  # else neither seconds nor an HTTP date: fall back to the rate-limit headers
    reset = headers.get("x-ratelimit-reset")
    if headers.get("x-ratelimit-remaining") == "0" and reset:
        return max(float(reset) - now, 0.0)
    return SECONDARY_LIMIT_WAIT if secondary else None


def tracker_error(exc: GithubException, now: float) -> TrackerError:
    """The ``Tracker*`` error for a PyGithub exception; ``now`` is the wall clock in epoch seconds."""
    status = exc.status
    headers = {str(name).lower(): str(value) for name, value in (exc.headers or {}).items()}
    message = github_message(exc)
    secondary = status == 429 or Requester.isSecondaryRateLimitError(message)
    out_of_quota = headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers
    if status == 429 or isinstance(exc, RateLimitExceededException) or (status == 403 and out_of_quota):
        return TrackerRateLimited(message, status, retry_after(headers, now, secondary))
    documentation = exc.data.get("documentation_url") if isinstance(exc.data, dict) else None
    if status < 500 and "installation-access-token" in str(documentation or ""):
        # A wrong installation id answers 404 while Cocreate fetches the App's token, before the real call:
        # that is a credentials problem, not a missing issue.
        return TrackerAuthError(f"GitHub App installation token: {message}", status)
    if status in (401, 403):
        return TrackerAuthError(message, status)
    if status in (404, 410):
        return TrackerNotFound(message, status)
    if status in (400, 422):
        return TrackerInvalidField(message, status)
    if status >= 500:
        return TrackerUnavailable(message, status)
    return TrackerError(message, status)


# Webhook registration -----------------------------------------------------------------------------------

WEBHOOK_EVENTS = ("issues", "issue_comment", "release")
"""The repository webhook events Cocreate handles ("Issues", "Issue comments" and "Releases" in GitHub's settings)."""


def _hook_differences(hook: github.Hook.Hook) -> list[str]:
    """What differs between a repository hook and the one Cocreate registers (the secret aside, which GitHub
    masks), in words for the admin."""
    config = hook.config or {}
    differences = []
    if set(hook.events or ()) != set(WEBHOOK_EVENTS):
        differences.append(f"events {', '.join(sorted(hook.events or ())) or 'none'} -> "
                           f"{', '.join(sorted(WEBHOOK_EVENTS))}")
    if config.get("content_type") != "json":
        differences.append(f"content type {config.get('content_type') or 'form'} -> json")
    if str(config.get("insecure_ssl", "0")) != "0":
        differences.append("SSL verification off -> on")
    if not hook.active:
        differences.append("inactive -> active")
    if not config.get("secret"):
        differences.append("no secret -> secret")
    return differences
