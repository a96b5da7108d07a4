"""FakeGitHub: a stateful GitHub issues API behind ``responses``, for adapter, sync and webhook tests."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import responses

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
_DOCS = "https://docs.github.com/rest"


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _AnyMethod(responses.CallbackResponse):
    """A callback route for every HTTP method, so that a call the fake does not emulate fails loudly in
    ``FakeGitHub._answer`` instead of becoming a refused connection (which the adapter reports as an outage)."""

    def matches(self, request) -> tuple[bool, str]:
        if not self._url_matches(self.url, str(request.url)):
            return False, "URL does not match"
        return True, ""


class FakeGitHub:
    """GitHub's issue REST API for one or more repositories, held in memory and served through ``responses``.

    Every answer is built from a real recorded GitHub response (``tests/fixtures/github``, see SOURCES.md)
    and fits GitHub's official description, so drive the real PyGithub client (through
    ``plugin.github.GitHubAdapter``) and check the traffic inside the ``with`` block. The fake turns off the
    mock's ``assert_all_requests_are_fired`` (a server need not be called)::

        with responses.RequestsMock() as mock:
            fake = FakeGitHub(mock, repos=["acme/app"])
            adapter = GitHubAdapter(GitHubSettings(token="t"), pacer=Pacer(sleep=lambda _: None))
            state = adapter.create_issue(spec)
            fake.close(state.key, "not_planned")            # an engineer closes it as not planned
            assert adapter.get_issue(state.key).state_reason == "not_planned"
            assert fake.writes == 1
            GITHUB.check_calls(mock.calls)                   # leaving the block clears mock.calls

    Served: ``GET /user``; ``GET /repos/{o}/{r}/issues`` (``state``, ``labels``, ``since``, ``sort``,
    ``direction``, ``per_page``/``page`` with a ``Link`` header; pull requests included, as on GitHub);
    ``POST /repos/{o}/{r}/issues``; ``GET``/``PATCH /repos/{o}/{r}/issues/{n}`` (``state`` and
    ``state_reason`` too); ``GET``/``POST /repos/{o}/{r}/issues/{n}/comments``;
    ``POST /app/installations/{id}/access_tokens``. Anything else raises ``NotImplementedError`` so that a
    test never passes on a request nobody emulated.

    Behaves as GitHub does where Cocreate cares: unknown repositories and issues answer 404; labels unknown to
    the repository are created on first use (colour ``ededed``); label filters match case-insensitively;
    an assignee outside ``assignable`` (when given) answers 422; commenting bumps the issue's
    ``updated_at``; closing sets ``closed_at``, ``closed_by`` and ``state_reason`` (default ``completed``),
    reopening sets ``state_reason`` to ``reopened``. With ``token`` set, other credentials answer 401
    ``Bad credentials`` (installation tokens the fake issued are accepted too).

    State and helpers for the test:

    - ``writes``: successful POST/PATCH calls on issues and comments made through the API;
    - ``now``: the fake clock (UTC), moved on by ``tick`` before every change, API or helper;
    - ``issue(key)``: the issue's JSON as GitHub would return it; ``comments(key)``: its comments;
    - ``open_issue(repo, title, **fields)``, ``close(key, reason)``, ``reopen(key)``, ``edit(key, **fields)``,
      ``comment(key, body)``: what an engineer does on github.com (acting as ``actor``), not counted in
      ``writes``;
    - ``add_pull_request(repo, title)``: a pull request, which shares issue numbers and listings;
    - ``add_milestone(repo, title, due_on)``: a milestone, listed by ``GET /repos/{o}/{r}/milestones`` (which the
      trimmed description lacks: ``GITHUB`` checks each listed milestone against its ``nullable-milestone``
      schema) and settable on a new issue by number;
    - ``fail_next(status, message, headers=..., method=..., times=1)``: the next matching API calls answer
      this error instead (for example 503, or 403 "You have exceeded a secondary rate limit").
    """

    def __init__(self, mock: responses.RequestsMock, repos: list[str] | tuple[str, ...] = ("acme/app",), *,
                 base_url: str = "https://api.github.com", login: str = "cocreate-bot", actor: str = "octocat",
                 token: str | None = None, assignable: set[str] | None = None,
                 start: dt.datetime = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.timezone.utc),
                 tick: dt.timedelta = dt.timedelta(seconds=1)):
        self.base_url = base_url.rstrip("/")
        self.web_url = "https://github.com"
        self.login = login
        self.actor = actor
        self.token = token
        self.assignable = assignable
        self.now = start
        self.tick = tick
        self.writes = 0
        self._issue_template = _fixture("issue.json")
        self._milestone_template = _fixture("milestone.json")
        self._comment_template = _fixture("issue_comment.json")
        self._user_template = _fixture("user.json")
        self._token_template = _fixture("installation_token.json")
        self._repos: dict[str, dict[str, Any]] = {}
        self._user_ids: dict[str, int] = {}
        self._next_id = 1000
        self._issued_tokens: set[str] = set()
        self._failures: list[dict[str, Any]] = []
        self.public_emails: dict[str, str] = {}  # address -> login, the profiles GET /search/users finds by e-mail
        for repo in repos:
            self.add_repo(repo)
        parts = urlsplit(self.base_url)
        default_port = {"https": 443, "http": 80}[parts.scheme]
        prefix = re.escape(f"{parts.scheme}://{parts.hostname}") + f"(?::{parts.port or default_port})?"
        prefix += re.escape(parts.path)
        pattern = re.compile(prefix + r"(?P<path>/(?:user|repos/|app/installations/|search/users)[^?]*)(?:\?.*)?$")
        mock.add(_AnyMethod("GET", pattern, callback=self._answer, content_type="application/json; charset=utf-8"))
        # A fake server is no expectation: a test that never reaches it has not failed.
        mock.assert_all_requests_are_fired = False

    # Setting up and acting as an engineer -------------------------------------------------------------

    def add_repo(self, repo: str, labels: tuple[str, ...] = ()) -> None:
        """Make ``owner/repo`` exist, optionally with labels already defined."""
        self._repos[repo.lower()] = {"name": repo, "issues": {}, "labels": {}, "next_number": 1, "milestones": {}}
        for name in labels:
            self._label(repo, name)

    def add_milestone(self, repo: str, title: str, due_on: dt.date | None = None, state: str = "open") -> int:
        """A milestone in ``repo`` (shaped like GitHub's documented one), due at the end of ``due_on``
        as GitHub stores it (07:00 UTC of that day for a repository in UTC-7, here 00:00 UTC); its number."""
        stored = self._repo(repo)
        number = len(stored["milestones"]) + 1
        milestone = copy.deepcopy(self._milestone_template)
        api = f"{self.base_url}/repos/{stored['name']}/milestones/{number}"
        milestone.update(
            url=api, html_url=f"{self.web_url}/{stored['name']}/milestone/{number}", labels_url=f"{api}/labels",
            id=self._new_id(), number=number, title=title, state=state, open_issues=0, closed_issues=0,
            due_on=f"{due_on.isoformat()}T07:00:00Z" if due_on else None, creator=self._user(self.actor),
        )
        stored["milestones"][number] = milestone
        return number

    def issue(self, key: str) -> dict[str, Any]:
        """The issue ``owner/repo#n`` as GitHub's JSON (a copy)."""
        return copy.deepcopy(self._issue(key)["json"])

    def issues_in(self, repo: str) -> list[dict[str, Any]]:
        """Every issue of ``repo`` as GitHub's JSON, by number (copies)."""
        issues = self._repo(repo)["issues"]
        return [copy.deepcopy(issues[number]["json"]) for number in sorted(issues)]

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The comments on ``owner/repo#n`` as GitHub's JSON, oldest first (copies)."""
        return copy.deepcopy(self._issue(key)["comments"])

    def open_issue(self, repo: str, title: str, **fields: Any) -> dict[str, Any]:
        """An issue an engineer opened on github.com (``body``, ``labels``, ``assignees``); returns its JSON."""
        return copy.deepcopy(self._create(repo, {**fields, "title": title}, self.actor))

    def close(self, key: str, reason: str = "completed") -> dict[str, Any]:
        """Close the issue as ``actor`` would, with ``reason`` ``completed``, ``not_planned`` or ``duplicate``."""
        return self.edit(key, state="closed", state_reason=reason)

    def reopen(self, key: str) -> dict[str, Any]:
        """Reopen the issue as ``actor`` would."""
        return self.edit(key, state="open")

    def edit(self, key: str, **fields: Any) -> dict[str, Any]:
        """Change the issue as ``actor`` would on github.com (``title``, ``body``, ``labels``,
        ``assignees``, ``state``, ``state_reason``); returns the new JSON."""
        repo, number = self._split(key)
        return copy.deepcopy(self._edit(repo, number, fields, self.actor))

    def comment(self, key: str, body: str, login: str | None = None, association: str = "MEMBER") -> dict[str, Any]:
        """Post a comment as ``login`` (default ``actor``), whose ``author_association`` with the repository is
        ``association`` (``NONE`` for a stranger on a public repository); returns its JSON."""
        repo, number = self._split(key)
        return copy.deepcopy(self._comment(repo, number, body, login or self.actor, association))

    def add_pull_request(self, repo: str, title: str = "A pull request") -> dict[str, Any]:
        """A pull request in ``repo``: GitHub lists it among the issues, with a ``pull_request`` object."""
        issue = self._create(repo, {"title": title}, self.actor)
        number = issue["number"]
        api = f"{self.base_url}/repos/{self._repo(repo)['name']}/pulls/{number}"
        web = f"{self.web_url}/{self._repo(repo)['name']}/pull/{number}"
        issue["html_url"] = web
        issue["pull_request"] = {"url": api, "html_url": web, "diff_url": f"{web}.diff",
                                 "patch_url": f"{web}.patch", "merged_at": None}
        return copy.deepcopy(issue)

    def fail_next(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                  method: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` API calls (of ``method``, if given) with this error instead."""
        for _ in range(times):
            self._failures.append({"status": status, "message": message, "headers": headers or {},
                                   "method": method})

    # Building GitHub's JSON ---------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _advance(self) -> str:
        self.now += self.tick
        return _iso(self.now)

    def _user(self, login: str) -> dict[str, Any]:
        user_id = self._user_ids.setdefault(login, 5000 + len(self._user_ids))
        template = self._issue_template["user"]
        user = {key: value.replace("jacquev6", login) if isinstance(value, str) else value
                for key, value in template.items()}
        user.update(login=login, id=user_id, node_id=f"U_fake{user_id}",
                    avatar_url=f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
                    type="Bot" if login.endswith("[bot]") else "User")
        return user

    def _repo(self, repo: str) -> dict[str, Any]:
        return self._repos[repo.lower()]

    def _label(self, repo: str, name: str) -> dict[str, Any]:
        labels = self._repo(repo)["labels"]
        if name.casefold() not in labels:
            label_id = self._new_id()
            template = self._issue_template["labels"][0]
            labels[name.casefold()] = {
                **template, "id": label_id, "node_id": f"LA_fake{label_id}", "name": name,
                "url": f"{self.base_url}/repos/{self._repo(repo)['name']}/labels/{name.replace(' ', '%20')}",
                "color": "ededed", "default": False, "description": None,
            }
        return copy.deepcopy(labels[name.casefold()])

    def _reactions(self, url: str) -> dict[str, Any]:
        reactions = dict(self._issue_template["reactions"])
        reactions.update({key: 0 for key in reactions if key != "url"}, url=url)
        return reactions

    def _create(self, repo: str, fields: dict[str, Any], login: str) -> dict[str, Any]:
        stored = self._repo(repo)
        name, number = stored["name"], stored["next_number"]
        stored["next_number"] += 1
        issue_id = self._new_id()
        now = self._advance()
        api = f"{self.base_url}/repos/{name}/issues/{number}"
        issue = copy.deepcopy(self._issue_template)
        issue.update(
            url=api, repository_url=f"{self.base_url}/repos/{name}", labels_url=f"{api}/labels{{/name}}",
            comments_url=f"{api}/comments", events_url=f"{api}/events", timeline_url=f"{api}/timeline",
            html_url=f"{self.web_url}/{name}/issues/{number}", id=issue_id, node_id=f"I_fake{issue_id}",
            number=number, title=fields["title"], body=fields.get("body"), user=self._user(login), labels=[],
            state="open", state_reason=None, locked=False, assignee=None, assignees=[], milestone=None,
            comments=0, created_at=now, updated_at=now, closed_at=None, closed_by=None,
            author_association="MEMBER", type=None, active_lock_reason=None,
            sub_issues_summary={"total": 0, "completed": 0, "percent_completed": 0},
            issue_dependencies_summary={"blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                                        "total_blocking": 0},
            reactions=self._reactions(f"{api}/reactions"), performed_via_github_app=None,
        )
        self._apply(repo, issue, fields)
        stored["issues"][number] = {"json": issue, "comments": []}
        return issue

    def _apply(self, repo: str, issue: dict[str, Any], fields: dict[str, Any]) -> None:
        for name in ("title", "body"):
            if name in fields:
                issue[name] = fields[name]
        if "labels" in fields:
            names = [label if isinstance(label, str) else label["name"] for label in fields["labels"]]
            issue["labels"] = [self._label(repo, name) for name in dict.fromkeys(names)]
        logins = fields.get("assignees")
        if logins is None and fields.get("assignee") is not None:
            logins = [fields["assignee"]]
        if logins is not None:
            issue["assignees"] = [self._user(login) for login in dict.fromkeys(logins)]
            issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None

    def _edit(self, repo: str, number: int, fields: dict[str, Any], login: str) -> dict[str, Any]:
        issue = self._repo(repo)["issues"][number]["json"]
        now = self._advance()
        self._apply(repo, issue, fields)
        state = fields.get("state", issue["state"])
        if state == "closed" and issue["state"] != "closed":
            issue.update(state="closed", closed_at=now, closed_by=self._user(login),
                         state_reason=fields.get("state_reason") or "completed")
        elif state == "closed" and fields.get("state_reason"):
            issue["state_reason"] = fields["state_reason"]
        elif state == "open" and issue["state"] == "closed":
            issue.update(state="open", closed_at=None, closed_by=None, state_reason="reopened")
        issue["updated_at"] = now
        return issue

    def _comment(self, repo: str, number: int, body: str, login: str,
                 association: str = "MEMBER") -> dict[str, Any]:
        stored = self._repo(repo)["issues"][number]
        comment_id = self._new_id()
        now = self._advance()
        api = f"{self.base_url}/repos/{self._repo(repo)['name']}/issues/comments/{comment_id}"
        comment = copy.deepcopy(self._comment_template)
        comment.update(
            url=api, html_url=f"{stored['json']['html_url']}#issuecomment-{comment_id}",
            issue_url=stored["json"]["url"], id=comment_id, node_id=f"IC_fake{comment_id}",
            user=self._user(login), created_at=now, updated_at=now, author_association=association, body=body,
            reactions=self._reactions(f"{api}/reactions"), performed_via_github_app=None,
        )
        stored["comments"].append(comment)
        stored["json"]["comments"] = len(stored["comments"])
        stored["json"]["updated_at"] = now
        return comment

    def _split(self, key: str) -> tuple[str, int]:
        repo, number = key.rsplit("#", 1)
        return repo, int(number)

    def _issue(self, key: str) -> dict[str, Any]:
        repo, number = self._split(key)
        return self._repo(repo)["issues"][number]

    # Answering requests --------------------------------------------------------------------------------

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
        return status, dict(headers or {}), json.dumps(body)

    def _error(self, status: int, message: str, doc: str, headers: dict[str, str] | None = None,
               errors: list[dict[str, Any]] | None = None) -> tuple[int, dict, str]:
        body: dict[str, Any] = {"message": message, "documentation_url": f"{_DOCS}/{doc}", "status": str(status)}
        if errors is not None:
            body["errors"] = errors
        return self._json(status, body, headers)

    def _authorised(self, request) -> bool:
        if self.token is None:
            return True
        scheme, _, credential = (request.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() in ("token", "bearer") and (
            credential == self.token or credential in self._issued_tokens)

    def _answer(self, request) -> tuple[int, dict, str]:
        parts = urlsplit(request.url)
        path = parts.path.removeprefix(urlsplit(self.base_url).path)
        query = dict(parse_qsl(parts.query))
        method = request.method
        body = json.loads(request.body) if request.body else {}
        if path.startswith("/app/installations/"):
            return self._installation_token(request, path)
        for index, failure in enumerate(self._failures):
            if failure["method"] in (None, method):
                del self._failures[index]
                return self._error(failure["status"], failure["message"],
                                   "using-the-rest-api/rate-limits-for-the-rest-api", failure["headers"])
        if not self._authorised(request):
            return self._error(401, "Bad credentials", "rest")
        if path == "/user" and method == "GET":
            user = copy.deepcopy(self._user_template)
            # GitHub's example for GET /user predates ``user_view_type``, which the description now uses to
            # tell private from public profiles and which real answers carry (see issue.json's users).
            user.update(self._user(self.login))
            return self._json(200, user)
        if path == "/search/users" and method == "GET":
            return self._search_users(query.get("q", ""))
        listing = re.fullmatch(r"/repos/(?P<repo>[^/]+/[^/]+)/milestones", path)
        if listing and method == "GET":
            if listing["repo"].lower() not in self._repos:
                return self._error(404, "Not Found", "issues/milestones")
            state = query.get("state", "open")
            items = [m for m in self._repo(listing["repo"])["milestones"].values()
                     if state == "all" or m["state"] == state]
            return self._page(items, query, path)
        match = re.fullmatch(r"/repos/(?P<repo>[^/]+/[^/]+)/issues(?:/(?P<number>\d+))?(?P<comments>/comments)?",
                             path)
        if not match:
            raise NotImplementedError(f"FakeGitHub does not emulate {method} {path}")
        repo, number = match["repo"], match["number"]
        if repo.lower() not in self._repos:
            return self._error(404, "Not Found", "issues/issues")
        if number is None:
            if method == "GET":
                return self._list_issues(repo, query)
            if method == "POST":
                return self._create_issue(repo, body)
        else:
            issues = self._repo(repo)["issues"]
            if int(number) not in issues:
                return self._error(404, "Not Found", "issues/issues#get-an-issue")
            if match["comments"] and method == "GET":
                return self._page(issues[int(number)]["comments"], query, path)
            if match["comments"] and method == "POST":
                if not isinstance(body.get("body"), str):
                    return self._error(422, "Validation Failed", "issues/comments#create-an-issue-comment",
                                       errors=[{"resource": "IssueComment", "code": "missing_field",
                                                "field": "body"}])
                self.writes += 1
                return self._json(201, self._comment(repo, int(number), body["body"], self.login))
            if not match["comments"] and method == "GET":
                return self._json(200, issues[int(number)]["json"])
            if not match["comments"] and method == "PATCH":
                invalid = self._invalid_assignees(body)
                if invalid:
                    return invalid
                self.writes += 1
                return self._json(200, self._edit(repo, int(number), body, self.login))
        raise NotImplementedError(f"FakeGitHub does not emulate {method} {path}")

    def _search_users(self, q: str) -> tuple[int, dict, str]:
        # Only ``<address> in:email`` is emulated: what Cocreate sends to find a person's login.
        match = re.fullmatch(r"(?P<email>\S+) in:email", q.strip())
        if not match:
            raise NotImplementedError(f"FakeGitHub does not emulate the user search {q!r}")
        login = self.public_emails.get(match["email"].casefold())
        items = [{**self._user(login), "score": 1.0}] if login else []
        return self._json(200, {"total_count": len(items), "incomplete_results": False, "items": items})

    def _invalid_assignees(self, body: dict[str, Any]) -> tuple[int, dict, str] | None:
        logins = body.get("assignees") or ([body["assignee"]] if body.get("assignee") else [])
        unknown = [login for login in logins if self.assignable is not None and login not in self.assignable]
        if not unknown:
            return None
        return self._error(422, "Validation Failed", "issues/issues",
                           errors=[{"value": login, "resource": "Issue", "field": "assignees", "code": "invalid"}
                                   for login in unknown])

    def _create_issue(self, repo: str, body: dict[str, Any]) -> tuple[int, dict, str]:
        if not isinstance(body.get("title"), (str, int)) or body.get("title") == "":
            return self._error(422, "Validation Failed", "issues/issues#create-an-issue",
                               errors=[{"resource": "Issue", "code": "missing_field", "field": "title"}])
        invalid = self._invalid_assignees(body)
        if invalid:
            return invalid
        milestone = body.get("milestone")
        if milestone is not None and milestone not in self._repo(repo)["milestones"]:
            return self._error(422, "Validation Failed", "issues/issues#create-an-issue",
                               errors=[{"resource": "Issue", "code": "invalid", "field": "milestone"}])
        self.writes += 1
        issue = self._create(repo, {**body, "title": str(body["title"])}, self.login)
        if milestone is not None:
            issue["milestone"] = copy.deepcopy(self._repo(repo)["milestones"][milestone])
        return self._json(201, issue, {"Location": issue["url"]})

    def _list_issues(self, repo: str, query: dict[str, str]) -> tuple[int, dict, str]:
        state = query.get("state", "open")
        wanted = {name.strip().casefold() for name in query["labels"].split(",")} if query.get("labels") else set()
        since = dt.datetime.fromisoformat(query["since"]) if query.get("since") else None
        items = []
        for stored in self._repo(repo)["issues"].values():
            issue = stored["json"]
            if state != "all" and issue["state"] != state:
                continue
            if not wanted <= {label["name"].casefold() for label in issue["labels"]}:
                continue
            if since is not None and dt.datetime.fromisoformat(issue["updated_at"]) < since:
                continue
            items.append(issue)
        sort = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[query.get("sort", "created")]
        items.sort(key=lambda issue: (issue[sort], issue["number"]), reverse=query.get("direction", "desc") == "desc")
        return self._page(items, query, f"/repos/{self._repo(repo)['name']}/issues")

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> tuple[int, dict, str]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        last = max((len(items) + per_page - 1) // per_page, 1)
        headers = {}
        links = []
        for rel, target in (("next", page + 1), ("last", last)):
            if page < last:
                links.append(f'<{self.base_url}{path}?{urlencode({**query, "page": target})}>; rel="{rel}"')
        if links:
            headers["Link"] = ", ".join(links)
        return self._json(200, items[(page - 1) * per_page: page * per_page], headers)

    def _installation_token(self, request, path: str) -> tuple[int, dict, str]:
        if not (request.headers.get("Authorization") or "").startswith("Bearer "):
            return self._error(401, "A JSON web token could not be decoded", "apps/apps")
        if request.method != "POST" or not re.fullmatch(r"/app/installations/\d+/access_tokens", path):
            raise NotImplementedError(f"FakeGitHub does not emulate {request.method} {path}")
        token = copy.deepcopy(self._token_template)
        token["token"] = f"ghs_fake{self._new_id()}"
        # PyGithub compares the expiry with the real clock, not the fake one, before reusing a token.
        token["expires_at"] = _iso(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
        self._issued_tokens.add(token["token"])
        return self._json(201, token)


@contextlib.contextmanager
def checked_site(repos: tuple[str, ...] = ("acme/billing",), **options: Any) -> Iterator[FakeGitHub]:
    """A :class:`FakeGitHub` on a mock of its own whose every exchange is checked against GitHub's official
    description when the block ends (a fixture's ``with checked_site() as fake: yield fake``)."""
    from tests.contract import GITHUB

    with responses.RequestsMock() as mock:
        fake = FakeGitHub(mock, repos=list(repos), **options)
        yield fake
        GITHUB.check_calls(mock.calls)
