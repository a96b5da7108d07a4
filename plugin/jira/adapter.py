"""The Jira tracker adapter: Cocreate's tracker contract on Jira Cloud (REST v3) and Jira Data Center (REST v2)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from jira import JIRA, JIRAError
from requests_toolbelt import MultipartEncoder

from plugin.base import Comment, IssueSpec, IssueState, Release, TrackerAdapter
from plugin.errors import (
    TrackerAuthError,
    TrackerError,
    TrackerInvalidField,
    TrackerNotFound,
)
from plugin.jira import releases
from plugin.jira.client import build_client, call, collection_messages, jira_errors
from plugin.text import wiki_escape, wiki_unescape
from plugin.tracker_settings import JiraSettings

ISSUE_FIELDS = ("summary", "description", "status", "labels", "priority", "assignee", "duedate", "updated")
"""The issue fields Cocreate reads; asking for these only keeps issue and search answers small."""

SEARCH_PAGE = 100
COMMENT_PAGE = 100
BULK_LIMIT = 50
"""Jira creates at most 50 issues per bulk call."""

_EDITABLE = frozenset({"title", "body", "labels", "priority", "assignee", "due_date", "custom_fields"})
_KEY_OR_URL = re.compile(r"(?:^|/browse/)([A-Z][A-Z0-9_]+-\d+)(?:$|[?#/])", re.IGNORECASE)


class JiraAdapter(TrackerAdapter):
    """Cocreate's view of one Jira site, through the jira (pycontribs) client.

    Cloud (``deployment: cloud``) speaks REST v3: bodies and comments are ADF documents, people are
    accountIds. Data Center speaks REST v2: bodies and comments are wiki markup, people are user names.
    Calls the client has no fitting method for (search, edit, bulk create, remote links, attachments) go
    through the client's own session, so auth, timeout and error handling are the same everywhere.
    Every method raises only ``plugin.errors.Tracker*`` for Jira's refusals and outages.
    """

    kind = "jira"
    links_in_body = False

    def __init__(self, settings: JiraSettings, client: JIRA | None = None):
        self.settings = settings
        self.cloud = settings.deployment == "cloud"
        self.client = client if client is not None else build_client(settings)
        self._myself: dict[str, Any] | None = None

    # Who Cocreate is ---------------------------------------------------------------------------

    def whoami(self) -> str:
        myself = self._me()
        return myself["accountId"] if self.cloud else myself["name"]

    def find_account(self, email: str) -> str | None:
        # GET user/search?query= matches the prefix of a name or an address: keep only an exact address. Jira
        # Cloud hides addresses by the user's profile visibility; then one match is the person asked for.
        with jira_errors(f"look up the Jira user {email}"):
            if self.cloud:
                users = self.client.search_users(query=email, maxResults=10)
            else:
                users = self.client.search_users(user=email, maxResults=10)
        wanted = email.casefold()
        exact = [user for user in users if (getattr(user, "emailAddress", "") or "").casefold() == wanted]
        if not exact and len(users) == 1 and not getattr(users[0], "emailAddress", None):
            exact = list(users)
        if not exact:
            return None
        return exact[0].accountId if self.cloud else exact[0].name

    def _me(self) -> dict[str, Any]:
        if self._myself is None:
            with jira_errors("read Cocreate's own Jira account"):
                self._myself = self.client.myself()
        return self._myself

    # Issues ------------------------------------------------------------------------------------

    def parse_issue_reference(self, text: str) -> str | None:
        """``PROJ-12`` or a browse URL (``https://jira.example/browse/PROJ-12``) -> ``PROJ-12``."""
        match = _KEY_OR_URL.search(text.strip())
        return match.group(1).upper() if match else None  # Jira takes keys in any case; its own are upper

    def find_by_marker(self, project: str, marker: str) -> IssueState | None:
        jql = f"project = {jql_string(project)} AND labels = {jql_string(marker)} ORDER BY created ASC"
        found = self._search(jql, f"look for {marker} in {project}")
        return self._state(found[0]) if found else None

    def create_issue(self, spec: IssueSpec) -> IssueState:
        with jira_errors(f"create {spec.marker} in {spec.project}"):
            created = self.client.create_issue(fields=self._create_fields(spec), prefetch=False)
        return self.get_issue(created.key)

    def create_issues(self, specs: list[IssueSpec]) -> list[IssueState]:
        """Bulk-create 50 per call, then read each batch back in one search; order is kept.

        If Jira refuses some issues of a batch, raises TrackerInvalidField naming the refused markers
        with Jira's reasons and the keys it did create; those carry their markers, so a retry that looks
        for markers first finds them instead of creating them again.
        """
        states: list[IssueState] = []
        for start in range(0, len(specs), BULK_LIMIT):
            states.extend(self._create_batch(specs[start:start + BULK_LIMIT]))
        return states

    def _create_batch(self, specs: list[IssueSpec]) -> list[IssueState]:
        action = f"create {len(specs)} issues"
        body = {"issueUpdates": [{"fields": self._create_fields(spec)} for spec in specs]}
        with jira_errors(action):
            try:
                answer = call(self.client, "POST", "issue/bulk", body=body).json()
            except JIRAError as exc:
                # When no issue of the batch could be made Jira answers 400 with the same {issues, errors}.
                if exc.status_code != 400 or not _is_bulk_answer(exc.response):
                    raise
                answer = exc.response.json()
        created = answer.get("issues") or []
        failures = answer.get("errors") or []
        if failures:
            problems = []
            for failure in failures:
                number = failure.get("failedElementNumber")
                marker = specs[number].marker if isinstance(number, int) and number < len(specs) else "?"
                words = collection_messages(failure.get("elementErrors") or {})
                problems.append(f"{marker}: {', '.join(words) or 'refused without a reason'}")
            done = ", ".join(issue["key"] for issue in created) or "none"
            raise TrackerInvalidField(f"{action}: created {done}; refused {'; '.join(problems)}", 400)
        keys = [issue["key"] for issue in created]
        found = {
            raw["key"]: raw
            for raw in self._search(
                f"key in ({', '.join(keys)})", f"read back {action}",
                reconcile=[int(issue["id"]) for issue in created],
            )
        }
        return [self._state(found[key]) if key in found else self.get_issue(key) for key in keys]

    def get_issue(self, key: str) -> IssueState:
        with jira_errors(f"read {key}"):
            issue = self.client.issue(key, fields=",".join(ISSUE_FIELDS))
        return self._state(issue.raw)

    def update_issue(self, key: str, changes: dict[str, Any]) -> None:
        if not changes:
            return
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise ValueError(f"update_issue: unknown changes {sorted(unknown)}; allowed: {sorted(_EDITABLE)}")
        fields: dict[str, Any] = {}
        if "title" in changes:
            fields["summary"] = changes["title"]
        if "body" in changes:
            fields["description"] = changes["body"]
        if "labels" in changes:
            fields["labels"] = sorted(changes["labels"])
        if "priority" in changes:
            fields["priority"] = {"name": changes["priority"]} if changes["priority"] else None
        if "assignee" in changes:
            fields["assignee"] = self._user(changes["assignee"]) if changes["assignee"] else None
        if "due_date" in changes:
            fields["duedate"] = changes["due_date"].isoformat() if changes["due_date"] else None
        fields.update(changes.get("custom_fields") or {})
        with jira_errors(f"update {key}"):
            call(self.client, "PUT", f"issue/{key}", body={"fields": fields})

    # Comments, links, attachments --------------------------------------------------------------

    def add_comment(self, key: str, text: str) -> Comment:
        body: Any = adf_document(text) if self.cloud else wiki_escape(text)
        with jira_errors(f"comment on {key}"):
            comment = self.client.add_comment(key, body)
        return self._comment(comment.raw)

    def list_comments(self, key: str) -> list[Comment]:
        comments: list[Comment] = []
        start = 0
        while True:
            with jira_errors(f"read comments of {key}"):
                page = call(
                    self.client, "GET", f"issue/{key}/comment",
                    params={"startAt": start, "maxResults": COMMENT_PAGE, "orderBy": "created"},
                ).json()
            batch = page.get("comments") or []
            comments.extend(self._comment(raw) for raw in batch)
            start += len(batch)
            if not batch or start >= page.get("total", 0):
                return comments

    def set_link(self, key: str, global_id: str, url: str, title: str) -> None:
        wanted = {"url": url, "title": title}
        with jira_errors(f"link {key} to {url}"):
            existing = self._remote_link(key, global_id)
            if existing is not None:
                current = existing.get("object") or {}
                if {name: current.get(name) for name in wanted} == wanted:
                    return
            # POST with a globalId Jira already holds updates that link in place instead of adding one.
            call(self.client, "POST", f"issue/{key}/remotelink", body={"globalId": global_id, "object": wanted})

    def remove_link(self, key: str, global_id: str) -> None:
        with jira_errors(f"unlink {global_id} from {key}"):
            try:
                call(self.client, "DELETE", f"issue/{key}/remotelink", params={"globalId": global_id})
            except JIRAError as exc:
                if exc.status_code != 404:  # already gone: the wanted end state
                    raise

    def _remote_link(self, key: str, global_id: str) -> dict[str, Any] | None:
        """The issue's remote link with ``global_id``; Jira answers 404 when there is none."""
        try:
            return call(self.client, "GET", f"issue/{key}/remotelink", params={"globalId": global_id}).json()
        except JIRAError as exc:
            if exc.status_code == 404:
                return None
            raise

    def add_attachment(self, key: str, filename: str, data: bytes, content_type: str) -> str | None:
        encoder = MultipartEncoder(fields={"file": (filename, data, content_type)})
        with jira_errors(f"attach {filename} to {key}"):
            answer = call(
                self.client, "POST", f"issue/{key}/attachments",
                data=encoder.to_string(),
                headers={"Content-Type": encoder.content_type, "X-Atlassian-Token": "no-check"},
            ).json()
        return str(answer[0]["id"])

    # Reconciling -------------------------------------------------------------------------------

    def updated_since(self, projects: list[str], since: dt.datetime) -> list[IssueState]:
        if not projects:
            return []
        # JQL reads a date in the searching account's own time zone, at minute precision; flooring to the
        # minute returns a few issues twice rather than missing one.
        zone = ZoneInfo(self._me().get("timeZone") or "UTC")
        moment = (since if since.tzinfo else since.replace(tzinfo=dt.UTC)).astimezone(zone)
        jql = (
            f"project in ({', '.join(jql_string(project) for project in projects)})"
            f' AND updated >= "{moment:%Y/%m/%d %H:%M}" ORDER BY updated ASC'
        )
        return [self._state(raw) for raw in self._search(jql, f"find issues updated since {since.isoformat()}")]

    def get_release(self, ref: str) -> Release:
        return releases.get_version(self.client, ref)

    def release_issues(self, release: Release) -> frozenset[str]:
        raw = self._search(releases.fix_version_jql(release), f"find the issues of version {release.name}")
        return frozenset(issue["key"] for issue in raw)

    def released_since(self, projects: list[str], since: dt.datetime) -> list[Release]:
        return releases.released_since(self.client, projects, since)

    # Helpers -----------------------------------------------------------------------------------

    def _search(self, jql: str, action: str, reconcile: list[int] | None = None) -> list[dict[str, Any]]:
        """Every issue ``jql`` matches, as raw JSON, all pages read."""
        issues: list[dict[str, Any]] = []
        body: dict[str, Any] = {"jql": jql, "fields": list(ISSUE_FIELDS), "maxResults": SEARCH_PAGE}
        if self.cloud:
            # Cloud's search index lags writes; reconcileIssues makes it include these just-written issues.
            if reconcile:
                body["reconcileIssues"] = reconcile
            while True:
                with jira_errors(action):
                    page = call(self.client, "POST", "search/jql", body=body).json()
                issues.extend(page.get("issues") or [])
                token = page.get("nextPageToken")
                if not token or page.get("isLast"):
                    return issues
                body["nextPageToken"] = token
        body["startAt"] = 0
        while True:
            with jira_errors(action):
                page = call(self.client, "POST", "search", body=body).json()
            batch = page.get("issues") or []
            issues.extend(batch)
            body["startAt"] += len(batch)
            if not batch or body["startAt"] >= page.get("total", 0):
                return issues

    def _create_fields(self, spec: IssueSpec) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": spec.project},
            "summary": spec.title,
            "issuetype": {"name": spec.issue_type},
            "labels": sorted(spec.labels | {spec.marker}),
        }
        if spec.body:
            fields["description"] = spec.body
        if spec.priority:
            fields["priority"] = {"name": spec.priority}
        if spec.assignee:
            fields["assignee"] = self._user(spec.assignee)
        if spec.due_date:
            fields["duedate"] = spec.due_date.isoformat()
        fields.update(spec.custom_fields)
        return fields

    def _user(self, who: str) -> dict[str, str]:
        return {"accountId": who} if self.cloud else {"name": who}

    def _user_id(self, user: dict[str, Any] | None) -> str | None:
        if not user:
            return None
        return user.get("accountId") if self.cloud else user.get("name")

    def _state(self, raw: dict[str, Any]) -> IssueState:
        fields = raw.get("fields") or {}
        status = fields.get("status") or {}
        # Jira before 6.1 had no status categories; "undefined" is Jira's own key for "no category".
        category = (status.get("statusCategory") or {}).get("key") or "undefined"
        priority = fields.get("priority") or {}
        due = fields.get("duedate")
        updated = fields.get("updated")
        return IssueState(
            key=raw["key"],
            url=f"{self.settings.url}/browse/{raw['key']}",
            title=fields.get("summary") or "",
            labels=frozenset(fields.get("labels") or ()),
            status_name=status.get("name") or "",
            status_category=category,
            priority=priority.get("name"),
            assignee=self._user_id(fields.get("assignee")),
            due_date=dt.date.fromisoformat(due) if due else None,
            body=fields.get("description"),
            updated_at=jira_timestamp(updated) if updated else None,
            raw_id=str(raw["id"]) if raw.get("id") is not None else None,
        )

    def _comment(self, raw: dict[str, Any]) -> Comment:
        body = raw.get("body")
        text = adf_text(body) if isinstance(body, dict) else wiki_unescape(body or "")
        created = raw.get("created")
        author = raw.get("author") or {}
        return Comment(
            id=str(raw["id"]),
            author=self._user_id(raw.get("author")),
            text=text,
            created_at=jira_timestamp(created) if created else None,
            author_name=author.get("displayName") or author.get("name"),
            # The display name is the user's own choice on Jira Cloud: never an identity.
            author_identities=tuple(str(author[key]) for key in ("accountId", "name", "key", "emailAddress")
                                    if author.get(key)),
        )

    # Webhook registration (``cocreate install jira --register``) ----------------------------------

    def register_webhook(self, url: str, secret: str | None, projects: list[str], *,
                         resend_secret: bool = False) -> list[str]:
        """Jira's *admin* webhook "Cocreate", sending :data:`WEBHOOK_EVENTS` of ``projects`` to ``url``.

        Goes through Jira's separate webhooks REST API (``/rest/webhooks/1.0/webhook``, in neither REST v2 nor
        v3; the v3 ``/rest/api/3/webhook`` is for Connect and OAuth apps only): ``GET`` the list, then ``POST`` a
        new webhook, or ``PUT /rest/webhooks/1.0/webhook/{id}`` over the one whose URL (query string aside) is
        ``url`` when its name, URL, events, JQL filter or body setting differ. ``secret`` makes Jira sign each
        delivery (``X-Hub-Signature: sha256=...``); Jira never shows it back, so an update always re-sends it
        and a changed secret alone is written only with ``resend_secret``. Without a secret ``url`` should carry
        ``?token=``. Needs the Jira Administrators global permission.
        """
        jql = f"project in ({', '.join(jql_string(project) for project in sorted(set(projects)))})"
        wanted: dict[str, Any] = {
            "name": WEBHOOK_NAME,
            "url": url,
            "events": list(WEBHOOK_EVENTS),
            "filters": {"issue-related-events-section": jql},
            "excludeBody": False,
        }
        if secret:
            wanted["secret"] = secret
        target = _without_query(url)
        with self._webhook_errors("list Jira's admin webhooks"):
            listed = call(self.client, "GET", "webhook", base=WEBHOOKS_API).json()
        # Jira answers a bare list; accept a {"values": [...]} page as well rather than miss an existing webhook.
        hooks = (listed.get("values") or []) if isinstance(listed, dict) else (listed or [])
        matching = [hook for hook in hooks if _without_query(hook.get("url") or "") == target]
        if not matching:
            with self._webhook_errors(f"create the Jira webhook for {target}"):
                answer = call(self.client, "POST", "webhook", body=wanted, base=WEBHOOKS_API)
                # Registered once Jira says 201, whether or not it echoes the webhook back.
                created = answer.json() if answer.content else {}
            return [f"Jira webhook {WEBHOOK_NAME} -> {target}: created (webhook {_webhook_id(created) or '?'})"]
        hook, others = matching[0], matching[1:]
        extra = f"; {len(others)} more webhook(s) also send to this URL: delete them in Jira" if others else ""
        if hook.get("enabled") is False:
            extra += "; it is disabled in Jira: enable it under System > WebHooks"
        webhook_id = _webhook_id(hook)
        if webhook_id is None:
            raise TrackerError(f"Jira listed the webhook for {target} without the self URL that names it")
        differences = _webhook_differences(hook, wanted)
        if resend_secret and secret:
            differences.append("secret re-sent as asked")
        where = f"Jira webhook {hook.get('name') or webhook_id} -> {target}"
        if not differences:
            hidden = ("; Jira hides the secret, so a changed secret is written only with --resend-secret"
                      if secret else "")
            return [f"{where}: unchanged (webhook {webhook_id}{hidden}{extra})"]
        # PUT by id under the configured URL, not to the listed ``self``: Jira builds ``self`` from its own base URL
        # setting, which may name another host or context path than the one Cocreate reaches (and authenticates to).
        with self._webhook_errors(f"update the Jira webhook for {target}"):
            call(self.client, "PUT", f"webhook/{webhook_id}", body=wanted, base=WEBHOOKS_API)
        resent = "; secret re-sent" if secret else ""
        return [f"{where}: updated (webhook {webhook_id}: {', '.join(differences)}{resent}{extra})"]

    @contextlib.contextmanager
    def _webhook_errors(self, action: str) -> Iterator[None]:
        """:func:`jira_errors`, plus what an admin needs to know when the webhooks API refuses."""
        try:
            with jira_errors(action):
                yield
        except TrackerNotFound as exc:
            raise TrackerNotFound(
                f"{exc.message} -- this Jira has no admin webhooks API at /rest/webhooks/1.0/webhook (Jira Data "
                "Center 10 moved it to /rest/jira-webhook/1.0/webhooks, which Cocreate does not drive): create the "
                "webhook in Jira's administration with the settings 'cocreate install jira' prints", exc.status,
            ) from exc
        except TrackerAuthError as exc:
            if exc.status != 403:
                raise
            raise TrackerAuthError(f"{exc.message} -- registering an admin webhook needs the Jira Administrators "
                                   "global permission for Cocreate's account", exc.status) from exc


def _is_bulk_answer(response: Any) -> bool:
    if response is None:
        return False
    try:
        payload = response.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("errors"), list)


def jql_string(value: str) -> str:
    """``value`` as a quoted JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jira_timestamp(value: str) -> dt.datetime:
    """Jira's ``2024-01-31T09:15:00.000+0800`` as an aware datetime."""
    return dt.datetime.fromisoformat(value)


# Text for Jira ------------------------------------------------------------------------------------

def adf_document(text: str) -> dict[str, Any]:
    """Plain ``text`` as an ADF document: blank lines split paragraphs, single newlines become hard breaks.

    Text nodes are never interpreted by Jira, so ``[~accountid:...]``, ``@all`` or markup stay inert.
    """
    paragraphs = [part for part in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if part.strip()]
    content = []
    for paragraph in paragraphs:
        nodes: list[dict[str, Any]] = []
        for index, line in enumerate(paragraph.split("\n")):
            if index:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def adf_text(node: dict[str, Any]) -> str:
    """The plain text of an ADF document: paragraphs and other blocks separated by a blank line."""
    kind = node.get("type")
    if kind == "text":
        return node.get("text", "")
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status", "date"):
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp") or "")
    if kind in ("inlineCard", "blockCard"):
        return str((node.get("attrs") or {}).get("url") or "")
    children = [adf_text(child) for child in node.get("content") or []]
    if kind in ("doc", "bulletList", "orderedList", "blockquote", "panel", "table", "tableRow"):
        return "\n\n".join(child for child in children if child)
    return "".join(children)


# Admin webhook registration ------------------------------------------------------------------------------

WEBHOOKS_API = "{server}/rest/webhooks/1.0/{path}"
"""Jira's admin webhooks REST API (Cloud, and Server/Data Center before 10), beside REST v2/v3."""

WEBHOOK_NAME = "Cocreate"

WEBHOOK_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "jira:version_released",
)
"""The admin webhook events Cocreate handles: Issue created/updated/deleted, Comment created/updated/deleted, and
Version released (which the webhook's JQL filter does not narrow: it filters issue-related events only)."""


def _without_query(url: str) -> str:
    return url.partition("?")[0].rstrip("/")


def _webhook_id(hook: dict[str, Any]) -> str | None:
    """The id at the end of a webhook's ``self`` URL (``.../rest/webhooks/1.0/webhook/2`` -> ``2``)."""
    link = str(hook.get("self") or "").rstrip("/")
    tail = link.rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def _webhook_differences(hook: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """What differs between a listed admin webhook and ``wanted`` (the secret aside, which Jira never shows)."""
    differences = []
    if hook.get("name") != wanted["name"]:
        differences.append(f"name {hook.get('name')!r} -> {wanted['name']!r}")
    if hook.get("url") != wanted["url"]:
        differences.append("URL")  # may carry the token: do not print it
    if set(hook.get("events") or ()) != set(wanted["events"]):
        differences.append("events")
    filters = hook.get("filters")
    current_jql = filters.get("issue-related-events-section") if isinstance(filters, dict) else filters
    wanted_jql = wanted["filters"]["issue-related-events-section"]
    if (current_jql or "") != wanted_jql:
        differences.append(f"JQL {current_jql or '(all issues)'!r} -> {wanted_jql!r}")
    if bool(hook.get("excludeBody")) != wanted["excludeBody"]:
        differences.append("body excluded -> included")
    return differences
