"""A fake GitHub over real HTTP, for worker processes that an in-process ``responses`` mock cannot reach.

:class:`FakeTrackerServer` serves :class:`tests.github.fake_github.FakeGitHub` (the same state and the same
recorded-and-validated answers the adapter tests use) from a threaded HTTP server on 127.0.0.1, and adds what the
fault tests need:

- every caller reaches it under its own prefix, ``api_url(caller)`` = ``http://127.0.0.1:PORT/w/<caller>``, so the
  server knows which process sent a request (and a hook can kill exactly that process);
- fault windows: :meth:`fail_window` (5xx, answered before or after the change is made, as a gateway does when
  the backend already did the work), :meth:`timeout_window` (no answer before the client gives up, again before
  or after the change), :meth:`rate_limit_window` (429 with ``Retry-After``);
- hooks: :meth:`on` runs a callback in the handler when a matching request arrives, before or after the change;
- a log of every exchange (:attr:`exchanges`) and counts: issues per marker label, comments per issue.

Nothing here talks to the internet.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import responses

from tests.github.fake_github import FakeGitHub
from tests.serving import ThreadedServer, write_response

_PREFIX = re.compile(r"^/w/(?P<caller>[\w.-]+)(?P<rest>/.*)$")
_ISSUE_PATH = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues(?:/(?P<number>\d+))?(?P<comments>/comments)?$")


@dataclass
class _Request:
    """What ``FakeGitHub._answer`` reads from a ``responses`` request."""

    method: str
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Exchange:
    """One request and what the fake did with it."""

    at: float
    caller: str
    method: str
    path: str
    operation: str
    subject: str | None
    status: int | None = None
    fault: str | None = None


@dataclass
class _Window:
    kind: str  # "5xx", "timeout", "429"
    until: float
    status: int = 503
    after_change: float = 0.0  # share of faulted requests whose change is made before the fault
    hits: int = 0
    hang: float = 0.0
    retry_after: int = 0
    operations: frozenset[str] | None = None


@dataclass
class _Hook:
    operation: str
    subject: str
    when: str  # "before" or "after"
    action: Callable[[str], None]
    times: int = 1
    fired: list[str] = field(default_factory=list)


class FakeTrackerServer(ThreadedServer):
    """GitHub's issues API on a real port. Use as a context manager; ``api_url(caller)`` for each process."""

    def __init__(self, repos: tuple[str, ...] = ("acme/billing",), *, token: str = "fake-token",
                 latency: tuple[float, float] = (0.0, 0.0), seed: int = 0):
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)  # never started: holds a route
        self._repos = repos
        self._token = token
        self.latency = latency
        self.random = random.Random(seed)
        self.github: FakeGitHub | None = None
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._windows: list[_Window] = []
        self._hooks: list[_Hook] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeTrackerServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._listen(Handler, name="fake-tracker", poll_interval=0.05, request_queue_size=128)
        self.github = FakeGitHub(self._mock, self._repos, base_url=self.base_url, token=self._token,
                                 login="cocreate-bot")
        return self

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def api_url(self, caller: str) -> str:
        """``tracker.github.api_url`` for the process called ``caller``."""
        return f"{self.base_url}/w/{caller}"

    # Faults and hooks ------------------------------------------------------------------------------

    def fail_window(self, seconds: float, status: int = 503, *, after_change: float = 0.0,
                    operations: set[str] | None = None) -> None:
        """For ``seconds``, answer ``status``; a share ``after_change`` of them only after making the change."""
        self._add_window(_Window("5xx", time.monotonic() + seconds, status=status, after_change=after_change,
                                 operations=frozenset(operations) if operations else None))

    def timeout_window(self, seconds: float, hang: float, *, after_change: float = 0.0,
                       operations: set[str] | None = None) -> None:
        """For ``seconds``, hold each request ``hang`` seconds (past the client's timeout) and close without an
        answer; a share ``after_change`` of them only after making the change."""
        self._add_window(_Window("timeout", time.monotonic() + seconds, hang=hang, after_change=after_change,
                                 operations=frozenset(operations) if operations else None))

    def rate_limit_window(self, seconds: float, retry_after: int) -> None:
        """For ``seconds``, answer 429 with ``Retry-After: retry_after`` (GitHub's secondary rate limit)."""
        self._add_window(_Window("429", time.monotonic() + seconds, status=429, retry_after=retry_after))

    def _add_window(self, window: _Window) -> None:
        with self._lock:
            self._windows.append(window)

    def on(self, operation: str, subject: str, action: Callable[[str], None], *, when: str = "before",
           times: int = 1) -> None:
        """Run ``action(caller)`` in the handler when ``operation`` (see :func:`operation_of`) on ``subject``
        (a need ref for ``create``/``search``, an issue key otherwise) arrives: ``before`` the fake makes the
        change, or ``after`` it (before answering). Fires ``times`` times."""
        with self._lock:
            self._hooks.append(_Hook(operation, subject, when, action, times))

    # Counts ----------------------------------------------------------------------------------------

    def issues(self) -> list[dict[str, Any]]:
        """Every issue of every repository, as GitHub's JSON."""
        with self._lock:
            stored = [issue["json"] for repo in self.github._repos.values() for issue in repo["issues"].values()]
            return json.loads(json.dumps(stored))

    def issues_by_marker(self) -> Counter:
        """How many issues carry each ``cocreate-N-…`` marker label (1 each, or a need got two issues)."""
        return Counter(label["name"] for issue in self.issues() for label in issue["labels"]
                       if label["name"].startswith("cocreate-N-"))

    def comments(self) -> dict[str, list[str]]:
        """Issue key -> the bodies of its comments, oldest first."""
        with self._lock:
            return {f"{repo['name']}#{number}": [comment["body"] for comment in issue["comments"]]
                    for repo in self.github._repos.values() for number, issue in repo["issues"].items()}

    def close_issue(self, key: str, reason: str = "completed") -> dict[str, Any]:
        """An engineer closes the issue on github.com."""
        with self._lock:
            return self.github.close(key, reason)

    def reopen_issue(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self.github.reopen(key)

    def faults(self) -> Counter:
        """How many requests got each kind of fault."""
        with self._lock:
            return Counter(exchange.fault for exchange in self.exchanges if exchange.fault)

    # Serving ---------------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        match = _PREFIX.match(handler.path)
        if match is None:
            self._reply(handler, 404, {}, json.dumps({"message": "call api_url(caller), not the bare server"}))
            return
        path, _sep, query = match["rest"].partition("?")
        operation, subject = operation_of(handler.command, path, query, body)
        exchange = Exchange(time.time(), match["caller"], handler.command, path, operation, subject)
        with self._lock:
            self.exchanges.append(exchange)
            window = next((w for w in self._windows if w.until > time.monotonic()
                           and (w.operations is None or operation in w.operations)), None)
            after = False
            if window is not None:
                # Every n-th faulted request (n = 1 / after_change) fails only after the change is made.
                window.hits += 1
                after = bool(window.after_change) and window.hits % max(round(1 / window.after_change), 1) == 0
            hooks = [hook for hook in self._hooks if hook.operation == operation and hook.subject == subject
                     and len(hook.fired) < hook.times]
        if self.latency[1]:
            time.sleep(self.random.uniform(*self.latency))
        if window is not None and not after:
            self._fault(handler, exchange, window)
            return
        self._fire(hooks, "before", exchange)
        request = _Request(handler.command, self.base_url + match["rest"], body, dict(handler.headers.items()))
        with self._lock:
            try:
                status, headers, text = self.github._answer(request)
            except NotImplementedError as exc:
                status, headers, text = 501, {}, json.dumps({"message": str(exc)})
        self._fire(hooks, "after", exchange)
        if window is not None:
            exchange.fault = f"{window.kind} after the change"
            self._fault(handler, exchange, window)
            return
        exchange.status = status
        self._reply(handler, status, headers, text)

    def _fire(self, hooks: list[_Hook], when: str, exchange: Exchange) -> None:
        for hook in hooks:
            if hook.when == when:
                with self._lock:
                    if len(hook.fired) >= hook.times:
                        continue
                    hook.fired.append(exchange.caller)
                hook.action(exchange.caller)

    def _fault(self, handler: BaseHTTPRequestHandler, exchange: Exchange, window: _Window) -> None:
        exchange.fault = exchange.fault or window.kind
        if window.kind == "timeout":
            time.sleep(window.hang)
            handler.close_connection = True  # no answer at all: the client has long given up
            return
        if window.kind == "429":
            exchange.status = 429
            self._reply(handler, 429, {"Retry-After": str(window.retry_after), "X-RateLimit-Limit": "5000",
                                       "X-RateLimit-Remaining": "4999"},
                        json.dumps({"message": "You have exceeded a secondary rate limit. Please wait a few "
                                               "minutes before you try again.",
                                    "documentation_url": "https://docs.github.com/rest/using-the-rest-api/"
                                                         "rate-limits-for-the-rest-api", "status": "429"}))
            return
        exchange.status = window.status
        self._reply(handler, window.status, {}, json.dumps({"message": "Server Error"}))

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], text: str) -> None:
        write_response(handler, status, {"Content-Type": "application/json; charset=utf-8", **headers},
                       text.encode())


def operation_of(method: str, path: str, query: str, body: bytes) -> tuple[str, str | None]:
    """Name a request: ``create`` (subject: need ref), ``search`` (marker search; need ref), ``get``, ``update``,
    ``comment``, ``comments`` (subject: issue key), ``list`` or ``other``."""
    match = _ISSUE_PATH.match(path)
    if not match:
        return "other", None
    repo, number = match["repo"], match["number"]
    if number is None and method == "POST":
        labels = json.loads(body or b"{}").get("labels") or []
        marker = next((label for label in labels if isinstance(label, str) and label.startswith("cocreate-N-")), None)
        return "create", marker.removeprefix("cocreate-") if marker else None
    if number is None:
        marker = re.search(r"labels=cocreate-(N-\d+)", query)
        return ("search", marker[1]) if marker else ("list", None)
    key = f"{repo}#{number}"
    if match["comments"]:
        return ("comment" if method == "POST" else "comments"), key
    return ("update" if method == "PATCH" else "get"), key
