"""A stateful fake Jira Cloud site for tests: ``responses`` callbacks that answer REST v3 as Jira does."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import responses
from openapi_core.contrib.requests import (
    RequestsOpenAPIRequest,
    RequestsOpenAPIResponse,
)
from requests_toolbelt.multipart.decoder import MultipartDecoder

from plugin.tracker_settings import JiraSettings
from tests.contract import JIRA_CLOUD, Contract

BASE_URL = "https://cocreate-test.atlassian.net"
API = "/rest/api/3"
COCREATE_ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"

# POST /issue/bulk is missing from the shared subset; this one is cut from the same official description.
JIRA_CLOUD_BULK = Contract(
    Path(__file__).resolve().parents[1] / "fixtures" / "jira" / "jira-v3-issue-bulk-subset.json", BASE_URL,
    format_validators=JIRA_CLOUD.format_validators, undocumented_errors=JIRA_CLOUD.undocumented_errors,
)


def check_cloud_calls(calls, base_url: str = BASE_URL) -> int:
    """Validate every recorded call to the Jira Cloud test site against Atlassian's description.

    ``JIRA_CLOUD.check_calls`` plus two routes around gaps in the description: bulk create is checked
    against the bulk subset, and an attachment upload's response alone (the description's multipart
    request schema, an array of Spring ``MultipartFile`` objects, fits no real upload). Call it inside the
    ``RequestsMock`` block. Returns how many calls were checked.
    """
    host = urlsplit(base_url).netloc
    checked = 0
    for call in calls:
        parts = urlsplit(call.request.url)
        if parts.netloc != host:
            continue
        if parts.path == f"{API}/issue/bulk":
            JIRA_CLOUD_BULK.check_exchange(call.request, call.response)
        elif call.request.method == "POST" and parts.path.endswith("/attachments"):
            if not isinstance(call.response, BaseException):
                JIRA_CLOUD.openapi.validate_response(
                    RequestsOpenAPIRequest(call.request), RequestsOpenAPIResponse(call.response))
        else:
            JIRA_CLOUD.check_exchange(call.request, call.response)
        checked += 1
    return checked


def fake_settings(base_url: str = BASE_URL) -> JiraSettings:
    """Cloud settings pointing at the fake site."""
    return JiraSettings(url=base_url, deployment="cloud", email="cocreate@example.com", api_token="fake-token")


_CATEGORIES = {
    "undefined": (1, "medium-gray", "No Category"),
    "new": (2, "blue-gray", "To Do"),
    "done": (3, "green", "Done"),
    "indeterminate": (4, "yellow", "In Progress"),
}
_PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
_ISSUE_TYPES = {"Epic": "10000", "Task": "10001", "Story": "10002", "Subtask": "10003", "Bug": "10004"}
_NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."
_JSON = {"Content-Type": "application/json;charset=UTF-8"}


@dataclass
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


class FakeJira:
    """A small Jira Cloud site held in memory and served through a ``responses.RequestsMock``.

    Drive the real adapter (and so the real jira client) against it::

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:  # one callback per verb
            fake = FakeJira(mock)                         # registers the site's endpoints
            adapter = JiraAdapter(fake_settings())        # Cloud settings for BASE_URL
            state = adapter.create_issue(spec)
            fake.set_status(state.key, "Done", "done")   # what an engineer does in Jira
            assert fake.writes == 1
            check_cloud_calls(mock.calls)                # every exchange fits Atlassian's description

    Emulated under ``/rest/api/3`` (answers shaped like real Jira's, timestamps in the account's time zone):
    ``GET myself``; ``POST issue`` and ``POST issue/bulk`` (per-issue errors for an unknown project,
    issue type or priority, a label with a space, a non-ADF description, an unknown field);
    ``GET``/``PUT issue/{key}`` (``fields`` filter; PUT answers 204); ``POST search/jql`` understanding
    ``project = / in``, ``labels =``, ``key = / in``, ``updated >= "yyyy/MM/dd HH:mm"`` joined by AND, with
    ORDER BY and ``nextPageToken`` pages; ``GET``/``POST issue/{key}/comment`` (ADF bodies only);
    ``GET issue/{key}/remotelink?globalId=`` (404 when absent), ``POST`` (creates, or updates the link
    with that globalId) and ``DELETE ...?globalId=``; ``POST issue/{key}/attachments`` (needs ``X-Atlassian-Token: no-check``).
    Anything else raises NotImplementedError, so a test never passes against an endpoint nobody emulated.

    State and helpers: ``issues`` (key -> issue JSON with every field), ``comments``, ``remote_links``,
    ``attachments`` (key -> list); ``add_issue(...)`` seeds an issue without counting a write;
    ``set_status(key, name, category)`` moves an issue as a workflow transition would; ``fail(...)`` makes
    the next matching calls answer an error (429, 503 ...); ``issue_json(key)`` gives the issue as a webhook
    carries it; ``now`` is the site clock (the real time at start unless given), advanced one second by
    every change (``advance`` moves it).
    ``writes`` counts the POST/PUT/DELETE calls received (searches excluded, refused ones included) and
    ``write_log`` lists them as ``(method, "/rest/api/3/...")``. ``fake_settings()`` gives matching Cloud
    settings; ``check_cloud_calls`` validates what was exchanged.
    """

    def __init__(
        self,
        mock: responses.RequestsMock,
        *,
        base_url: str = BASE_URL,
        projects: tuple[str, ...] = ("CS",),
        account_id: str = COCREATE_ACCOUNT,
        time_zone: str = "UTC",
        users: dict[str, str] | None = None,
        now: dt.datetime | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.api = self.base_url + API
        self.projects = {key: str(10000 + index) for index, key in enumerate(projects)}
        self.account_id = account_id
        self.time_zone = time_zone
        self.users = {account_id: "Cocreate", **(users or {})}
        self.any_user = users is None
        # The site clock starts at the real time unless given: Cocreate compares the site's timestamps with its
        # own clock (reconcile looks back a week from now), as it does against a real site.
        self.now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.remote_links: dict[str, list[dict[str, Any]]] = {}
        self.attachments: dict[str, list[dict[str, Any]]] = {}
        self.writes = 0
        self.write_log: list[tuple[str, str]] = []
        self._failures: list[_Failure] = []
        self._issue_ids = itertools.count(10001)
        self._numbers = {key: itertools.count(1) for key in self.projects}
        self._comment_ids = itertools.count(10000)
        self._link_ids = itertools.count(10000)
        self._attachment_ids = itertools.count(10000)
        self._routes = [
            ("GET", r"/myself", self._myself),
            ("POST", r"/issue", self._create),
            ("POST", r"/issue/bulk", self._create_bulk),
            ("GET", r"/issue/(?P<ref>[^/]+)", self._get),
            ("PUT", r"/issue/(?P<ref>[^/]+)", self._edit),
            ("GET", r"/issue/(?P<ref>[^/]+)/comment", self._list_comments),
            ("POST", r"/issue/(?P<ref>[^/]+)/comment", self._add_comment),
            ("GET", r"/issue/(?P<ref>[^/]+)/remotelink", self._get_remote_link),
            ("POST", r"/issue/(?P<ref>[^/]+)/remotelink", self._set_remote_link),
            ("DELETE", r"/issue/(?P<ref>[^/]+)/remotelink", self._delete_remote_link),
            ("POST", r"/issue/(?P<ref>[^/]+)/attachments", self._attach),
            ("POST", r"/search/jql", self._search),
        ]
        for method in ("GET", "POST", "PUT", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(self.base_url) + r"/.*"), callback=self._dispatch)

    # Helpers for tests --------------------------------------------------------------------------

    def add_issue(self, project: str = "CS", summary: str = "Seeded issue", **fields: Any) -> str:
        """Put an issue on the site as if someone made it in Jira (not a write); returns its key."""
        created = self._store({"project": {"key": project}, "summary": summary,
                               "issuetype": {"name": "Task"}, **fields})
        return created["key"]

    def set_status(self, key: str, name: str, category: str) -> None:
        """Move ``key`` to status ``name`` of category ``new``/``indeterminate``/``done``, as a transition would."""
        fields = self.issues[key]["fields"]
        fields["status"] = self._status(name, category)
        fields["statuscategorychangedate"] = self._timestamp(self.now)
        self._touch(key)

    def fail(self, method: str, path: str, status: int, body: Any = None,
             headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` whose path under /rest/api/3 matches the regular
        expression ``path`` with ``status`` (body: an ErrorCollection unless given)."""
        if body is None:
            body = {"errorMessages": [f"Fake failure {status}"], "errors": {}}
        self._failures.append(_Failure(method.upper(), re.compile(path), status, body, headers or {}, times))

    def issue_json(self, key: str) -> dict[str, Any]:
        """The issue as Jira sends it in a webhook's ``issue`` (every field)."""
        return copy.deepcopy(self.issues[key])

    def advance(self, seconds: float = 60) -> None:
        """Move the site clock forward."""
        self.now += dt.timedelta(seconds=seconds)

    # Dispatch ----------------------------------------------------------------------------------

    def _dispatch(self, request):
        parts = urlsplit(request.url)
        if not parts.path.startswith(API + "/"):
            raise NotImplementedError(f"FakeJira does not emulate {request.method} {parts.path}")
        path = parts.path[len(API):]
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        if request.method in ("POST", "PUT", "DELETE") and path != "/search/jql":
            self.writes += 1
            self.write_log.append((request.method, parts.path))
        for failure in self._failures:
            if failure.method == request.method and failure.times > 0 and failure.path.fullmatch(path):
                failure.times -= 1
                return failure.status, {**_JSON, **failure.headers}, json.dumps(failure.body)
        for method, pattern, handler in self._routes:
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                return handler(request, query, **{name: unquote(value) for name, value in match.groupdict().items()})
        raise NotImplementedError(f"FakeJira does not emulate {request.method} {parts.path}")

    @staticmethod
    def _body(request) -> Any:
        raw = request.body
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        return json.loads(raw) if raw else {}

    @staticmethod
    def _answer(status: int, payload: Any = None):
        return status, dict(_JSON), "" if payload is None else json.dumps(payload)

    def _error(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None):
        return self._answer(status, {"errorMessages": messages or [], "errors": errors or {}})

    def _issue(self, ref: str) -> dict[str, Any] | None:
        if ref in self.issues:
            return self.issues[ref]
        return next((issue for issue in self.issues.values() if issue["id"] == ref), None)

    # Endpoints ---------------------------------------------------------------------------------

    def _myself(self, request, query):
        return self._answer(200, {
            **self._user(self.account_id),
            "emailAddress": "cocreate@example.com",
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        })

    def _create(self, request, query):
        fields = self._body(request).get("fields") or {}
        errors = self._field_errors(fields, creating=True)
        if errors:
            return self._error(400, errors=errors)
        created = self._store(fields)
        return self._answer(201, {"id": created["id"], "key": created["key"], "self": created["self"]})

    def _create_bulk(self, request, query):
        issues, failures = [], []
        for number, update in enumerate(self._body(request).get("issueUpdates") or []):
            fields = update.get("fields") or {}
            errors = self._field_errors(fields, creating=True)
            if errors:
                failures.append({"status": 400, "elementErrors": {"errorMessages": [], "errors": errors},
                                 "failedElementNumber": number})
                continue
            created = self._store(fields)
            issues.append({"id": created["id"], "key": created["key"], "self": created["self"]})
        return self._answer(201 if issues else 400, {"issues": issues, "errors": failures})

    def _get(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        return self._answer(200, self._render(issue, query.get("fields")))

    def _edit(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        body = self._body(request)
        fields = body.get("fields") or {}
        if not fields and not body.get("update"):
            return self._error(400, ["one of 'fields' or 'update' required"])
        errors = self._field_errors(fields, creating=False)
        if errors:
            return self._error(400, errors=errors)
        issue["fields"].update(self._stored_fields(fields))
        self._touch(issue["key"])
        return self._answer(204)

    def _list_comments(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        comments = list(self.comments.get(issue["key"], []))
        if query.get("orderBy") == "-created":
            comments.reverse()
        start = int(query.get("startAt", 0))
        size = min(int(query.get("maxResults", 100)), 100)
        return self._answer(200, {"startAt": start, "maxResults": size, "total": len(comments),
                                  "comments": comments[start:start + size]})

    def _add_comment(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        body = self._body(request).get("body")
        if not _is_adf(body):
            return self._error(400, errors={"comment": _NOT_ADF})
        comment_id = str(next(self._comment_ids))
        stamp = self._timestamp(self.now)
        comment = {
            "self": f"{self.api}/issue/{issue['id']}/comment/{comment_id}",
            "id": comment_id,
            "author": self._user(self.account_id),
            "body": body,
            "updateAuthor": self._user(self.account_id),
            "created": stamp,
            "updated": stamp,
            "jsdPublic": True,
        }
        self.comments.setdefault(issue["key"], []).append(comment)
        self._touch(issue["key"])
        return self._answer(201, comment)

    def _get_remote_link(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        links = self.remote_links.get(issue["key"], [])
        if "globalId" not in query:
            # Real Jira answers a list here, though its description says one link; Cocreate never asks.
            raise NotImplementedError("FakeJira answers GET remotelink only with ?globalId=")
        link = next((link for link in links if link.get("globalId") == query["globalId"]), None)
        if link is None:
            return self._error(404, ["No remote link with the given globalId exists."])
        return self._answer(200, link)

    def _delete_remote_link(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        links = self.remote_links.get(issue["key"], [])
        kept = [link for link in links if link.get("globalId") != query.get("globalId")]
        if len(kept) == len(links):
            return self._error(404, ["No remote link with the given globalId exists."])
        self.remote_links[issue["key"]] = kept
        self._touch(issue["key"])
        return self._answer(204)

    def _set_remote_link(self, request, query, ref):
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        body = self._body(request)
        target = body.get("object") or {}
        if not target.get("url") or not target.get("title"):
            return self._error(400, errors={"title": "Title is required.", "url": "URL is required."})
        links = self.remote_links.setdefault(issue["key"], [])
        global_id = body.get("globalId")
        link = next((link for link in links if global_id and link.get("globalId") == global_id), None)
        status = 200
        if link is None:
            link_id = next(self._link_ids)
            link = {"id": link_id, "self": f"{self.api}/issue/{issue['key']}/remotelink/{link_id}"}
            links.append(link)
            status = 201
        for name in ("globalId", "application", "relationship"):
            link.pop(name, None)
            if body.get(name) is not None:
                link[name] = body[name]
        link["object"] = target
        self._touch(issue["key"])
        return self._answer(status, {"id": link["id"], "self": link["self"]})

    def _attach(self, request, query, ref):
        if request.headers.get("X-Atlassian-Token") != "no-check":
            return self._error(403, ["XSRF check failed"])
        issue = self._issue(ref)
        if issue is None:
            return self._error(404, [_NO_ISSUE])
        body = request.body if isinstance(request.body, bytes) else request.body.encode("utf-8")
        saved = []
        for part in MultipartDecoder(body, request.headers["Content-Type"]).parts:
            disposition = part.headers.get(b"Content-Disposition", b"").decode()
            filename = re.search(r'filename="([^"]*)"', disposition)
            attachment_id = str(next(self._attachment_ids))
            name = filename.group(1) if filename else "file"
            attachment = {
                "self": f"{self.api}/attachment/{attachment_id}",
                "id": attachment_id,
                "filename": name,
                "author": self._user(self.account_id),
                "created": self._timestamp(self.now),
                "size": len(part.content),
                "mimeType": part.headers.get(b"Content-Type", b"application/octet-stream").decode(),
                "content": f"{self.api}/attachment/content/{attachment_id}",
            }
            self.attachments.setdefault(issue["key"], []).append({**attachment, "data": part.content})
            saved.append(attachment)
        self._touch(issue["key"])
        return self._answer(200, saved)

    def _search(self, request, query):
        body = self._body(request)
        matches, order = self._jql(body.get("jql") or "")
        found = [issue for issue in self.issues.values() if all(match(issue) for match in matches)]
        found.sort(key=order[0], reverse=order[1])
        start = int(body["nextPageToken"].removeprefix("fake-page-")) if body.get("nextPageToken") else 0
        size = min(int(body.get("maxResults", 50)), 100)
        page = found[start:start + size]
        answer: dict[str, Any] = {"issues": [self._render(issue, body.get("fields") or ["id"]) for issue in page],
                                  "isLast": start + size >= len(found)}
        if not answer["isLast"]:
            answer["nextPageToken"] = f"fake-page-{start + size}"
        return self._answer(200, answer)

    # JQL ---------------------------------------------------------------------------------------

    _VALUE = r'"(?:[^"\\]|\\.)*"|[\w.-]+'

    def _jql(self, jql: str):
        where, *order_by = re.split(r"\s+ORDER\s+BY\s+", jql.strip(), maxsplit=1, flags=re.I)
        matches = [self._clause(clause.strip()) for clause in re.split(r"\s+AND\s+", where, flags=re.I) if clause]
        return matches, self._order(order_by[0].strip() if order_by else "")

    def _clause(self, clause: str):
        value = self._VALUE
        if m := re.fullmatch(rf"project\s*=\s*({value})", clause, re.I):
            wanted = _unquote(m.group(1))
            return lambda issue: issue["fields"]["project"]["key"] == wanted
        if m := re.fullmatch(rf"(project|key)\s+in\s*\(\s*((?:{value})(?:\s*,\s*(?:{value}))*)\s*\)", clause, re.I):
            wanted_set = {_unquote(item) for item in re.findall(value, m.group(2))}
            if m.group(1).lower() == "project":
                return lambda issue: issue["fields"]["project"]["key"] in wanted_set
            return lambda issue: issue["key"] in wanted_set
        if m := re.fullmatch(rf"key\s*=\s*({value})", clause, re.I):
            wanted = _unquote(m.group(1))
            return lambda issue: issue["key"] == wanted
        if m := re.fullmatch(rf"labels\s*=\s*({value})", clause, re.I):
            wanted = _unquote(m.group(1))
            return lambda issue: wanted in issue["fields"]["labels"]
        if m := re.fullmatch(rf"updated\s*>=\s*({value})", clause, re.I):
            since = self._jql_date(_unquote(m.group(1)))
            return lambda issue: _parse_timestamp(issue["fields"]["updated"]) >= since
        raise NotImplementedError(f"FakeJira does not understand the JQL clause {clause!r}")

    def _jql_date(self, text: str) -> dt.datetime:
        for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                moment = dt.datetime.strptime(text, pattern)
            except ValueError:
                continue
            # JQL dates are in the searching account's time zone.
            return moment.replace(tzinfo=ZoneInfo(self.time_zone))
        raise NotImplementedError(f"FakeJira does not understand the JQL date {text!r}")

    @staticmethod
    def _order(order_by: str):
        if not order_by:
            return (lambda issue: int(issue["id"])), False
        m = re.fullmatch(r"(created|updated|key)(?:\s+(ASC|DESC))?", order_by, re.I)
        if not m:
            raise NotImplementedError(f"FakeJira does not understand ORDER BY {order_by!r}")
        name = m.group(1).lower()
        descending = (m.group(2) or "ASC").upper() == "DESC"
        if name == "key":
            return (lambda issue: int(issue["id"])), descending
        return (lambda issue: (_parse_timestamp(issue["fields"][name]), int(issue["id"]))), descending

    # Issues ------------------------------------------------------------------------------------

    def _field_errors(self, fields: dict[str, Any], creating: bool) -> dict[str, str]:
        errors: dict[str, str] = {}
        if creating:
            if (fields.get("project") or {}).get("key") not in self.projects:
                errors["project"] = "valid project is required"
            if (fields.get("issuetype") or {}).get("name") not in _ISSUE_TYPES:
                errors["issuetype"] = "Specify a valid issue type"
        elif "project" in fields or "issuetype" in fields:
            errors["project"] = "Field 'project' cannot be set. It is not on the appropriate screen, or unknown."
        if (creating or "summary" in fields) and not (fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        if fields.get("description") is not None and not _is_adf(fields["description"]):
            errors["description"] = _NOT_ADF
        priority = fields.get("priority")
        if priority is not None and priority.get("name") not in _PRIORITIES:
            errors["priority"] = "Specify a valid 'id' or 'name' for Priority"
        for label in fields.get("labels") or []:
            if " " in label:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        assignee = fields.get("assignee")
        if assignee is not None:
            account = assignee.get("accountId")
            if account is None or (not self.any_user and account not in self.users):
                errors["assignee"] = "Specify a valid value for assignee"
        due = fields.get("duedate")
        if due is not None:
            try:
                dt.date.fromisoformat(due)
            except (TypeError, ValueError):
                errors["duedate"] = f"Error parsing date string: {due}"
        known = {"project", "issuetype", "summary", "description", "priority", "labels", "assignee", "duedate"}
        for name in fields:
            if name not in known and not name.startswith("customfield_"):
                errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
        return errors

    def _store(self, fields: dict[str, Any]) -> dict[str, Any]:
        project = fields["project"]["key"]
        issue_id = str(next(self._issue_ids))
        key = f"{project}-{next(self._numbers[project])}"
        stamp = self._timestamp(self.now)
        type_name = fields["issuetype"]["name"]
        issue = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue_id,
            "self": f"{self.api}/issue/{issue_id}",
            "key": key,
            "fields": {
                "project": {"self": f"{self.api}/project/{self.projects[project]}", "id": self.projects[project],
                            "key": project, "name": project, "projectTypeKey": "software", "simplified": False},
                "issuetype": {"self": f"{self.api}/issuetype/{_ISSUE_TYPES[type_name]}",
                              "id": _ISSUE_TYPES[type_name], "name": type_name, "subtask": type_name == "Subtask",
                              "hierarchyLevel": 0},
                "summary": "",
                "description": None,
                "status": self._status("To Do", "new"),
                "labels": [],
                "priority": {"self": f"{self.api}/priority/3", "iconUrl":
                             f"{self.base_url}/images/icons/priorities/medium.svg", "name": "Medium", "id": "3"},
                "assignee": None,
                "reporter": self._user(self.account_id),
                "creator": self._user(self.account_id),
                "duedate": None,
                "created": stamp,
                "updated": stamp,
                "statuscategorychangedate": stamp,
                "resolution": None,
            },
        }
        issue["fields"].update(self._stored_fields({name: value for name, value in fields.items()
                                                    if name not in ("project", "issuetype")}))
        self.issues[key] = issue
        self.advance(1)
        return issue

    def _stored_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Request field values as Jira stores and returns them."""
        stored: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "priority" and value is not None:
                stored[name] = {"self": f"{self.api}/priority/{_PRIORITIES[value['name']]}",
                                "iconUrl": f"{self.base_url}/images/icons/priorities/{value['name'].lower()}.svg",
                                "name": value["name"], "id": _PRIORITIES[value["name"]]}
            elif name == "assignee" and value is not None:
                stored[name] = self._user(value["accountId"])
            elif name == "labels":
                stored[name] = sorted(set(value or []))
            else:
                stored[name] = value
        return stored

    def _touch(self, key: str) -> None:
        self.issues[key]["fields"]["updated"] = self._timestamp(self.now)
        self.advance(1)

    def _render(self, issue: dict[str, Any], wanted: Any) -> dict[str, Any]:
        names = wanted.split(",") if isinstance(wanted, str) else list(wanted or ["*all"])
        rendered = copy.deepcopy(issue)
        if not {"*all", "*navigable"} & set(names):
            rendered["fields"] = {name: value for name, value in issue["fields"].items() if name in names}
        return rendered

    def _status(self, name: str, category: str) -> dict[str, Any]:
        category_id, colour, category_name = _CATEGORIES[category]
        status_id = str(10000 + sum(map(ord, name)) % 1000)
        return {
            "self": f"{self.api}/status/{status_id}",
            "description": "",
            "iconUrl": f"{self.base_url}/",
            "name": name,
            "id": status_id,
            "statusCategory": {"self": f"{self.api}/statuscategory/{category_id}", "id": category_id,
                               "key": category, "colorName": colour, "name": category_name},
        }

    def _user(self, account_id: str) -> dict[str, Any]:
        avatar = f"https://secure.gravatar.com/avatar/{account_id}?d=identicon"
        return {
            "self": f"{self.api}/user?accountId={account_id}",
            "accountId": account_id,
            "avatarUrls": {size: f"{avatar}&s={size.split('x')[0]}" for size in ("48x48", "24x24", "16x16", "32x32")},
            "displayName": self.users.get(account_id, account_id),
            "active": True,
            "timeZone": self.time_zone,
            "accountType": "atlassian",
        }

    def _timestamp(self, moment: dt.datetime) -> str:
        """Jira's own format: milliseconds and a colon-less offset, in the account's time zone."""
        local = moment.astimezone(ZoneInfo(self.time_zone))
        return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _parse_timestamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1
