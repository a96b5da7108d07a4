"""One scaled-out Cocreate for a test: ``cocreate serve --no-worker`` web processes and ``cocreate worker``
processes on one PostgreSQL database and one Redis, talking to a fake GitHub over HTTP, telling customers
through a recording HTTP server and owners through a recording SMTP server.

The test process keeps its own :class:`sync.runtime.Runtime` on the same database and Redis (``cluster.runtime``)
to set things up and to count; it runs no jobs. :meth:`Cluster.audit` counts every need, issue, comment and
notice at its destination and says what was lost or duplicated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from plugin.loading import parse_settings
from plugin.text import plain_text
from sync.ledger import accounts
from sync.ledger.store import Delivery, Job, Need, OutboxMessage, StatusChange
from sync.notify.webhook import webhook_signature
from sync.runtime import build_runtime
from tests.e2e.loop import github_issues_event
from tests.notify.servers import HttpRecorder, SmtpRecorder, free_port
from tests.scale.fake_tracker_server import FakeTrackerServer

ROOT = Path(__file__).resolve().parents[2]
COCREATE = Path(sys.executable).parent / "cocreate"
REPO = "acme/billing"
GITHUB_SECRET = "scale-github-secret"
NOTICE_SECRET = "scale-notice-secret"

CONFIG = """\
locale: en
base_url: http://cocreate.test
secret_key: scale-test-secret
tracker:
  kind: github
  github: {{api_url: "{api_url}", token: fake-token, login: cocreate-bot}}
categories:
  - {{key: billing, name: Billing, github_repo: {repo}}}
people:
  - {{name: Wang Wei, email: wang.wei@example.com, github_login: wangwei}}
customers:
  - key: acme
    name: ACME Corp
    locale: en
    channels: [{{kind: webhook, url: "{notice_url}", secret: {notice_secret}}}]
webhooks: {{github_secret: {github_secret}}}
notifications:
  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none, sender: "Cocreate <cocreate@example.com>"}}
queue: {{workers: {threads}}}
"""


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def need_json(title: str, **overrides: Any) -> dict[str, Any]:
    """A valid need for the JSON API; ``title`` tells needs apart at the tracker and in the store."""
    reported = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)
    return {"category": "billing", "title": title, "description": "Scale test need.", "urgency": "high",
            "reporter_name": "Li Na", "reporter_email": "li.na@acme.example", "reported_at": reported.isoformat(),
            "owner": "Wang Wei", "stage": "rollout", "customer": "acme", **overrides}


@dataclass
class Process:
    """A ``cocreate`` subprocess: its name (also its prefix at the fake tracker), role, port and log file."""

    name: str
    role: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9: no clean-up, no finally, as when a machine or the OOM killer takes the process."""
        if self.alive:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


@dataclass
class Audit:
    """What the destinations received, compared with what the store says should have happened."""

    needs: int
    issues: int
    comments: int
    status_changes: int
    notices: int
    notice_requests: int
    mails: int
    mail_messages: int
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"needs": self.needs, "issues": self.issues, "status comments": self.comments,
                "status changes": self.status_changes, "customer notices": self.notices,
                "notice requests (incl. re-sends with the same Idempotency-Key)": self.notice_requests,
                "owner e-mails": self.mails, "SMTP messages (incl. re-sends with the same Message-ID)":
                self.mail_messages}


class Cluster:
    """Start and stop Cocreate processes for one test; count what they did. Always ``close()`` (the fixture does)."""

    def __init__(self, root: Path, database_url: str, queue_url: str, tracker: FakeTrackerServer,
                 recorder: HttpRecorder, smtp: SmtpRecorder, *, threads: int = 4, migrate: bool = True):
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.queue_url = queue_url
        self.tracker = tracker
        self.recorder = recorder
        self.smtp = smtp
        self.threads = threads
        self.processes: dict[str, Process] = {}
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self.environ = {"COCREATE_HOME": str(root / "home"), "COCREATE_DATABASE_URL": database_url,
                        "COCREATE_QUEUE_URL": queue_url}
        self.settings = parse_settings(self._config_text("probe"), "probe.yaml")
        # The test's own runtime migrates the fresh database before any process starts, unless the test wants the
        # processes to race for it.
        self.runtime = build_runtime(self.settings, self.environ, migrate=migrate)
        self._token: str | None = None
        self.environ_extra: dict[str, dict[str, str]] = {}
        self.client_retries: Counter = Counter()
        """What made the test's clients try again: an HTTP status, or ``refused`` (no connection)."""
        self.http = requests.Session()

    # Processes -------------------------------------------------------------------------------------

    def _config_text(self, name: str) -> str:
        # One notice URL for every process (the Idempotency-Key is derived from it), and one signing secret each,
        # so that the recorder can tell which process sent a notice.
        return CONFIG.format(api_url=self.tracker.api_url(name), repo=REPO,
                             notice_url=self.recorder.url("/notice"), notice_secret=f"{NOTICE_SECRET}-{name}",
                             github_secret=GITHUB_SECRET, smtp_port=self.smtp.port, threads=self.threads)

    def _spawn(self, name: str, role: str, command: list[str], port: int | None = None) -> Process:
        config = self.root / f"{name}.yaml"
        config.write_text(self._config_text(name), encoding="utf-8")
        environ = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
        environ.update(self.environ, COCREATE_CONFIG=str(config), COCREATE_LOG_FORMAT="text",
                       COCREATE_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
                       PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        environ.update(self.environ_extra.get(name, {}))
        log = self.logs / f"{name}.log"
        with log.open("ab") as output:
            popen = subprocess.Popen(command, cwd=ROOT, env=environ, stdout=output, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        process = Process(name, role, popen, log, port)
        with self._lock:
            self.processes[name] = process
        return process

    def all_processes(self) -> list[Process]:
        with self._lock:
            return list(self.processes.values())

    def start_web(self, *, wait: bool = True) -> Process:
        """``cocreate serve --no-worker`` (the console script itself) on a free port."""
        name, port = f"web-{next(self._numbers)}", free_port()
        process = self._spawn(name, "web", [str(COCREATE), "serve", "--no-worker", "--host", "127.0.0.1",
                                            "--port", str(port), "--threads", "8"], port)
        if wait:
            self.wait_healthy(process)
        return process

    def start_gunicorn(self, web_workers: int = 2, *, wait: bool = True) -> Process:
        """gunicorn with ``deploy/gunicorn.conf.py``, as docs/deployment.md runs it."""
        name, port = f"gunicorn-{next(self._numbers)}", free_port()
        self.environ_extra[name] = {"COCREATE_BIND": f"127.0.0.1:{port}", "COCREATE_WEB_WORKERS": str(web_workers),
                                    "COCREATE_WEB_THREADS": "4"}
        process = self._spawn(name, "web", [str(COCREATE.parent / "gunicorn"), "-c",
                                            str(ROOT / "deploy" / "gunicorn.conf.py")], port)
        if wait:
            self.wait_healthy(process)
        return process

    def start_serve(self, *, wait: bool = True) -> Process:
        """``cocreate serve`` with its in-process job consumer (the embedded default), on test clocks."""
        name, port = f"serve-{next(self._numbers)}", free_port()
        process = self._spawn(name, "serve", [sys.executable, "-m", "tests.scale.launch", "serve", "--host",
                                              "127.0.0.1", "--port", str(port), "--threads", "8"], port)
        if wait:
            self.wait_healthy(process)
        return process

    def start_worker(self) -> Process:
        """``cocreate worker`` on test clocks (see ``tests/scale/launch.py``)."""
        name = f"worker-{next(self._numbers)}"
        return self._spawn(name, "worker", [sys.executable, "-m", "tests.scale.launch", "worker",
                                            "--workers", str(self.threads)])

    def notice_sender(self, request) -> str | None:
        """The process that sent a notice the recorder received, known by the secret that signed it."""
        body, signature = request.body, request.header("X-Cocreate-Signature")
        return next((p.name for p in self.all_processes()
                     if webhook_signature(f"{NOTICE_SECRET}-{p.name}", body) == signature), None)

    def wait_healthy(self, process: Process, timeout: float = 30) -> dict:
        def healthy():
            if not process.alive:
                raise AssertionError(f"{process.name} exited:\n{process.log_tail()}")
            try:
                answer = self.http.get(process.url + "/healthz", timeout=2)
            except requests.ConnectionError:
                return None
            return answer.json() if answer.status_code == 200 else None

        return wait_until(healthy, timeout, f"{process.name} to answer /healthz")

    def workers(self) -> list[Process]:
        return [p for p in self.all_processes() if p.role == "worker" and p.alive]

    def kill(self, name: str) -> None:
        with self._lock:
            process = self.processes[name]
        process.kill()

    @contextlib.contextmanager
    def supervised_workers(self, count: int) -> Iterator[list[Process]]:
        """Keep ``count`` workers running inside the block, starting a new one as soon as one dies (what
        systemd's ``Restart=always`` does); yields the list of every worker started."""
        started = [self.start_worker() for _ in range(count - len(self.workers()))]
        stop = threading.Event()

        def supervise() -> None:
            while not stop.wait(0.05):
                for _ in range(count - len(self.workers())):
                    started.append(self.start_worker())

        thread = threading.Thread(target=supervise, name="supervisor", daemon=True)
        thread.start()
        try:
            yield started
        finally:
            stop.set()
            thread.join(timeout=5)

    def close(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after a few seconds), all at once."""
        self.http.close()
        for process in self.all_processes():
            if process.alive:
                process.popen.terminate()
        deadline = time.monotonic() + 8
        for process in self.all_processes():
            try:
                process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
        self.runtime.close()

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name} ({'alive' if p.alive else f'exit {p.popen.returncode}'}) ---\n"
                         f"{p.log_tail()}" for p in self.all_processes())

    # Talking to it ---------------------------------------------------------------------------------

    @property
    def token(self) -> str:
        if self._token is None:
            with self.runtime.Session.begin() as session:
                accounts.add_user(session, "scale-api", "password1", "cs")
            with self.runtime.Session.begin() as session:
                self._token = accounts.create_token(session, "scale-api")
        return self._token

    def _post(self, web: Process, path: str, *, attempts: int, **request: Any) -> requests.Response:
        """POST ``path`` on ``web`` (``request`` goes to ``requests``); with ``attempts`` > 1 a 5xx or refused
        connection is tried again after a short pause, and counted in ``client_retries``."""
        answer = None
        for attempt in range(attempts):
            try:
                answer = self.http.post(web.url + path, timeout=10, **request)
            except requests.ConnectionError:
                answer = None
            if answer is not None and answer.status_code < 500:
                return answer
            self.client_retries[answer.status_code if answer is not None else "refused"] += 1
            time.sleep(min(0.1 * (attempt + 1), 0.5))
        if answer is None:
            raise AssertionError(f"POST {path} never answered on {web.name}")
        return answer

    def post_need(self, web: Process, title: str, *, attempts: int = 1, **overrides: Any) -> requests.Response:
        """POST /api/v1/needs; with ``attempts`` > 1 a 5xx or refused connection is tried again, as a client would."""
        return self._post(web, "/api/v1/needs", attempts=attempts, json=need_json(title, **overrides),
                          headers={"Authorization": f"Bearer {self.token}"})

    def deliver(self, web: Process, action: str, issue: dict, *, delivery_id: str | None = None,
                attempts: int = 1) -> requests.Response:
        """A signed GitHub ``issues`` delivery about ``issue``; GitHub-like redelivery of 5xx with ``attempts``."""
        body = json.dumps(github_issues_event(action, issue, REPO)).encode()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues",
                   "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
                   "X-Hub-Signature-256": webhook_signature(GITHUB_SECRET, body), "User-Agent": "GitHub-Hookshot/scale"}
        return self._post(web, "/webhooks/github", attempts=attempts, data=body, headers=headers)

    # Reading the store -----------------------------------------------------------------------------

    def needs(self) -> list[Need]:
        with self.runtime.Session() as session:
            return list(session.scalars(select(Need).order_by(Need.id)))

    def jobs_by_state(self) -> Counter:
        with self.runtime.Session() as session:
            return Counter(dict(session.execute(select(Job.state, func.count()).group_by(Job.state)).all()))

    def failed_jobs(self) -> list[tuple[str, list, str | None]]:
        with self.runtime.Session() as session:
            return [(job.name, job.args, job.last_error)
                    for job in session.scalars(select(Job).where(Job.state == "failed"))]

    def settled(self) -> bool:
        """Nothing queued or running in the ledger, and nothing left in Redis."""
        states = self.jobs_by_state()
        return not states["queued"] and not states["running"] and self.runtime.queue.pending_count() == 0

    def wait_settled(self, timeout: float, what: str = "every job to finish") -> None:
        try:
            wait_until(self.settled, timeout, what, every=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; ledger {dict(self.jobs_by_state())}\n{self.logs_tail()}") from None

    def wait_synced(self, count: int, timeout: float) -> list[Need]:
        def synced():
            needs = self.needs()
            return needs if len(needs) >= count and all(n.issue_key and n.sync_state == "synced"
                                                         for n in needs) else None

        try:
            return wait_until(synced, timeout, f"{count} needs to have their issues", every=0.2)
        except AssertionError as exc:
            states = Counter(n.sync_state for n in self.needs())
            raise AssertionError(f"{exc}; needs {dict(states)}; ledger {dict(self.jobs_by_state())}; "
                                 f"failed {self.failed_jobs()[:5]}\n{self.logs_tail()}") from None

    def log_count(self, text: str) -> int:
        """How many lines of every process's log contain ``text``."""
        return sum(line.count(text) for p in self.all_processes()
                   for line in p.log.read_text(errors="replace").splitlines())

    def deliveries(self) -> int:
        with self.runtime.Session() as session:
            return session.scalar(select(func.count()).select_from(Delivery))

    # Counting at the destinations ------------------------------------------------------------------

    def audit(self, *, expected_needs: int | None = None) -> Audit:
        """Count needs, issues, status comments and notices where they ended up, and list every need without
        exactly one issue, every status change without exactly one comment, notice and e-mail, every duplicate."""
        problems: list[str] = []
        needs = self.needs()
        titles = Counter(need.title for need in needs)
        problems += [f"need {title!r} stored {n} times" for title, n in titles.items() if n > 1]
        if expected_needs is not None and len(needs) != expected_needs:
            problems.append(f"{len(needs)} needs stored, {expected_needs} acknowledged")
        markers = self.tracker.issues_by_marker()
        for need in needs:
            count = markers.get(f"cocreate-{need.ref}", 0)
            if count != 1:
                problems.append(f"{need.ref} has {count} issues at the tracker")
            if not need.issue_key or need.sync_state != "synced":
                problems.append(f"{need.ref} is {need.sync_state} with issue {need.issue_key}")
        issues = self.tracker.issues()
        if len(issues) != len(needs):
            problems.append(f"{len(issues)} issues at the tracker for {len(needs)} needs")

        with self.runtime.Session() as session:
            changes = list(session.scalars(select(StatusChange).where(StatusChange.source == "tracker")))
            outbox = list(session.scalars(select(OutboxMessage)))
        problems += [f"outbox {row.id} ({row.kind}) is {row.state}: {row.last_error}"
                     for row in outbox if row.state != "sent"]
        comment_rows = {row.id: row for row in outbox if row.kind == "comment"}
        by_issue = Counter(row.issue_key for row in comment_rows.values())
        comments = self.tracker.comments()
        tags: Counter = Counter()
        for key, bodies in comments.items():
            status_comments = [text for text in map(plain_text, bodies) if "(Cocreate #" in text]
            tags.update(body.rsplit("(Cocreate #", 1)[1].rstrip(")") for body in status_comments)
            if len(status_comments) != by_issue.get(key, 0):
                problems.append(f"{key}: {len(status_comments)} status comments for {by_issue.get(key, 0)} changes")
        problems += [f"status comment #{tag} posted {n} times" for tag, n in tags.items() if n > 1]
        problems += [f"status comment #{row_id} never posted" for row_id in comment_rows if tags[str(row_id)] == 0]
        changes_by_issue = Counter(self._issue_of_changes(changes))
        if changes_by_issue != by_issue:
            problems.append(f"status changes per issue {dict(changes_by_issue)} != comments queued {dict(by_issue)}")

        notices = [request for request in list(self.recorder.requests) if request.path.endswith("/notice")]
        notice_keys = Counter(request.header("Idempotency-Key") for request in notices)
        customer_rows = [row for row in outbox if row.kind == "customer"]
        if len(notice_keys) != len(customer_rows):
            problems.append(f"{len(notice_keys)} distinct customer notices for {len(customer_rows)} queued")
        mails = list(self.smtp.messages)
        mail_ids = Counter(mail.message["Message-ID"] for mail in mails)
        owner_rows = [row for row in outbox if row.kind == "owner"]
        if len(mail_ids) != len(owner_rows):
            problems.append(f"{len(mail_ids)} distinct owner e-mails for {len(owner_rows)} queued")
        failed = self.failed_jobs()
        problems += [f"job {name}{tuple(args)} failed: {error}" for name, args, error in failed]
        return Audit(needs=len(needs), issues=len(issues), comments=sum(tags.values()), status_changes=len(changes),
                     notices=len(notice_keys), notice_requests=len(notices), mails=len(mail_ids),
                     mail_messages=len(mails), problems=problems)

    def final_audit(self, *, expected_needs: int | None = None, timeout: float = 15) -> Audit:
        """The audit once it comes out clean, or as it stands after ``timeout`` (a notice or e-mail may still be
        on its way when the ledger already says sent: the recorders count what they fully received)."""
        deadline = time.monotonic() + timeout
        while True:
            audit = self.audit(expected_needs=expected_needs)
            if not audit.problems or time.monotonic() > deadline:
                return audit
            time.sleep(0.2)

    def _issue_of_changes(self, changes: list[StatusChange]) -> list[str]:
        """The issue key of each status change, one per issue per change (the changes of one event share an anchor
        comment, so only the first need of an event counts)."""
        with self.runtime.Session() as session:
            keys = dict(session.execute(select(Need.id, Need.issue_key)).all())
        seen: set[tuple[str, Any]] = set()
        issues = []
        for change in changes:
            marker = (keys[change.need_id], change.at, change.status)
            if marker not in seen:
                seen.add(marker)
                issues.append(keys[change.need_id])
        return issues
