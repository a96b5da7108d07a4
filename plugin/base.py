"""The tracker adapter contract: what Cocreate asks of Jira and GitHub, and what each call returns.

The docstrings are the specification. Every method wraps its client library's errors into the
``plugin.errors.Tracker*`` hierarchy carrying the tracker's own message:
401/403 -> TrackerAuthError, 404 -> TrackerNotFound, 400/422 -> TrackerInvalidField,
429 or a secondary rate limit -> TrackerRateLimited (with ``retry_after`` seconds from ``Retry-After`` or
``x-ratelimit-reset``), 5xx / connection errors / timeouts -> TrackerUnavailable.
Adapters do not retry; the job queue does (``sync.jobs.queue``), so that a failed job is recorded.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IssueSpec:
    """The issue a need should have, computed from the need and the config by ``sync.loop.mapping``.

    ``body`` is already rendered for the destination: an ADF document (dict) for Jira Cloud, wiki markup
    (str) for Jira Data Center, Markdown (str) for GitHub. ``assignee`` is a Jira accountId (Cloud), a
    Jira user name (Data Center) or a GitHub login; None leaves the issue unassigned. ``marker`` is a
    label unique to the need (``cocreate-N-0042``) by which a retry finds an issue it already created.
    """

    project: str  # Jira project key, or "owner/repo" on GitHub
    title: str
    body: Any
    marker: str
    labels: frozenset[str] = frozenset()
    priority: str | None = None  # Jira priority name; GitHub expresses urgency as a label
    assignee: str | None = None
    due_date: dt.date | None = None
    milestone: int | None = None  # GitHub only: the number of a milestone of ``project``
    issue_type: str = "Task"  # Jira only
    custom_fields: dict[str, Any] = field(default_factory=dict)  # Jira only: field id -> value


@dataclass(frozen=True)
class IssueState:
    """What the tracker holds for one issue now, as read back from it.

    ``key`` is ``PROJ-12`` on Jira and ``owner/repo#34`` on GitHub. ``status_category`` is Jira's
    status category key (``new``, ``indeterminate``, ``done``); on GitHub it is ``new`` for an open issue
    and ``done`` for a closed one, with ``state_reason`` (``completed``, ``not_planned``, ``reopened``).
    """

    key: str
    url: str
    title: str
    labels: frozenset[str]
    status_name: str
    status_category: str
    state_reason: str | None = None
    priority: str | None = None
    assignee: str | None = None
    due_date: dt.date | None = None
    body: Any = None
    updated_at: dt.datetime | None = None
    raw_id: str | None = None  # Jira numeric id / GitHub issue node id, when the caller needs it


@dataclass(frozen=True)
class Comment:
    """A comment on an issue: its id, author (accountId / login), text as plain text, and time.

    ``author_name`` is the name the tracker shows; ``author_identities`` every stable identity of the author
    the tracker gave (Jira: accountId, user name, key, e-mail; GitHub: the login); ``author_association`` is
    GitHub's relation of the author to the repository (``OWNER``, ``MEMBER``, ``COLLABORATOR``, ``NONE`` ...),
    None on Jira."""

    id: str
    author: str | None
    text: str
    created_at: dt.datetime | None = None
    author_name: str | None = None
    author_identities: tuple[str, ...] = ()
    author_association: str | None = None


@dataclass(frozen=True)
class Release:
    """A version of the product as the tracker holds it: a Jira project version (the issues' fixVersion) or a
    GitHub release.

    ``ref`` names it for ``get_release``: the Jira version id (``10001``), or ``owner/repo:<release id>`` on
    GitHub. ``released`` is whether customers can run it now (Jira: released; GitHub: published, neither a draft
    nor a pre-release); ``released_on`` its release date (Jira's ``releaseDate``, GitHub's ``published_at``)."""

    ref: str
    project: str  # Jira project id, or "owner/repo" on GitHub
    name: str
    released: bool
    released_on: dt.date | None = None
    notes: str = ""  # GitHub: the release body (its notes); empty on Jira
    tag: str | None = None  # GitHub: tag_name


class TrackerAdapter(abc.ABC):
    """One connected tracker. Implementations: ``plugin.jira.JiraAdapter``, ``plugin.github.GitHubAdapter``."""

    kind: str  # "jira" or "github"

    links_in_body: bool
    """Whether an issue's links to Cocreate (its needs, their minutes, screenshots as signed links to Cocreate's
    copies) live only in the Cocreate section of its body, because the tracker has neither remote links nor an
    attachment API (GitHub); False where ``set_link`` and ``add_attachment`` carry them (Jira)."""

    @abc.abstractmethod
    def parse_issue_reference(self, text: str) -> str | None:
        """The key of the issue ``text`` names as a user may type it (a key or the issue's URL; surrounding
        spaces allowed), in the form ``get_issue`` takes; None when it names no issue of this tracker. Makes no
        call."""

    @abc.abstractmethod
    def whoami(self) -> str:
        """The account Cocreate acts as (Jira accountId or name, GitHub login); its events are ignored."""

    @abc.abstractmethod
    def find_account(self, email: str) -> str | None:
        """The account of the person with e-mail ``email`` as the people directory keeps it (Jira Cloud
        accountId, Data Center user name, GitHub login), or None when the tracker knows no one by it (or, on
        GitHub, the person keeps the address private). Raises the ``Tracker*`` errors of any call."""

    @abc.abstractmethod
    def find_by_marker(self, project: str, marker: str) -> IssueState | None:
        """The issue in ``project`` carrying label ``marker``, or None. Used before creating, so that a
        retry after a crash finds the issue the first try created instead of making a second one."""

    @abc.abstractmethod
    def create_issue(self, spec: IssueSpec) -> IssueState:
        """Create an issue from ``spec`` (with ``spec.marker`` among its labels) and return it as stored."""

    def create_issues(self, specs: list[IssueSpec]) -> list[IssueState]:
        """Create several issues; Jira overrides this with bulk creation (50 per call). Order is kept."""
        return [self.create_issue(spec) for spec in specs]

    @abc.abstractmethod
    def get_issue(self, key: str) -> IssueState:
        """The issue's current state. Raises TrackerNotFound when it is gone or hidden."""

    @abc.abstractmethod
    def update_issue(self, key: str, changes: dict[str, Any]) -> None:
        """Write only the given fields. Keys: ``title``, ``body``, ``labels`` (the full new set),
        ``priority``, ``assignee`` (None to unassign), ``due_date``, ``custom_fields``. One call where the
        tracker allows it. An empty ``changes`` makes no call."""

    @abc.abstractmethod
    def add_comment(self, key: str, text: str) -> Comment:
        """Post ``text`` (plain text, escaped by the adapter for its destination) as a comment."""

    @abc.abstractmethod
    def list_comments(self, key: str) -> list[Comment]:
        """Every comment on the issue, oldest first."""

    @abc.abstractmethod
    def set_link(self, key: str, global_id: str, url: str, title: str) -> None:
        """Make the issue point to ``url``. Jira: a remote link with ``globalId`` ``global_id`` (created or
        updated in place, never duplicated). GitHub keeps links in the Cocreate body section instead, so
        its implementation does nothing."""

    def milestone_due(self, project: str, due: dt.date) -> int | None:
        """The open milestone of ``project`` due on ``due``, if the tracker has milestones and one matches
        (GitHub); None otherwise (Jira has a due-date field instead)."""
        return None

    def remove_link(self, key: str, global_id: str) -> None:
        """Remove the link ``set_link`` made with ``global_id``; an absent link (or issue) is no error, since
        the wanted end state holds. GitHub keeps links in the body section, so there this does nothing."""

    @abc.abstractmethod
    def add_attachment(self, key: str, filename: str, data: bytes, content_type: str) -> str | None:
        """Attach a file; returns the tracker's attachment id, or None where the tracker has no
        attachment API (GitHub: Cocreate links its own signed copy from the body instead)."""

    @abc.abstractmethod
    def updated_since(self, projects: list[str], since: dt.datetime) -> list[IssueState]:
        """Issues in ``projects`` updated at or after ``since`` (JQL ``updated >=``, GitHub ``since=``),
        for reconciling after lost webhooks."""

    def get_release(self, ref: str) -> Release:
        """The version or release ``ref`` (``Release.ref``) as the tracker holds it now. Raises TrackerNotFound
        when it is gone or hidden. The base implementation raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot read releases")

    def release_issues(self, release: Release) -> frozenset[str]:
        """The keys of the issues ``release`` ships (Jira: ``fixVersion = <id>``; GitHub: the rule in
        ``plugin.github.releases``). The base implementation raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot read releases")

    def released_since(self, projects: list[str], since: dt.datetime) -> list[Release]:
        """The released versions of ``projects`` whose release date is on or after ``since`` (Jira: the
        project's versions, by day; GitHub: published releases), for reconciling after a lost webhook. The base
        implementation raises NotImplementedError."""
        raise NotImplementedError(f"{type(self).__name__} cannot read releases")

    def register_webhook(self, url: str, secret: str | None, projects: list[str], *,
                         resend_secret: bool = False) -> list[str]:
        """Make the tracker deliver the issue and comment events of ``projects`` to ``url``, signed with ``secret``.

        Used once by an admin (``cocreate install <tracker> --register``), not by syncing. Idempotent: a webhook
        already pointing at ``url`` is updated in place when its events or settings differ and left alone when
        they match, so a second run writes nothing and no second webhook appears. Trackers never show a stored
        secret, so it cannot be compared: it is sent on create and on every update, and ``resend_secret`` forces
        an update that re-sends it (after the secret was rotated). ``secret`` None is allowed only where the
        tracker may authenticate by a token in ``url`` instead (Jira Data Center without webhook secrets).

        Returns one line per webhook, ``"<where>: created|updated|unchanged (<details>)"``. Needs admin rights
        (repository admin on GitHub, Jira administrator) and wraps errors like every other method. The base
        implementation raises NotImplementedError.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot register webhooks")
