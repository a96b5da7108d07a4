"""The ``tracker:`` part of the configuration: which tracker, and what its states and fields mean for needs.

Each section answers what the sync must know of its tracker (project field, body format, which tracker state
is which customer-facing status), so the rest of Cocreate asks ``settings.tracker.section`` and never the kind.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugin.base import IssueState

if TYPE_CHECKING:
    from plugin.settings import Category, Person, Status, Urgency


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrackerSection(_Model, abc.ABC):
    """The settings of one tracker (``tracker.jira``, ``tracker.github``), and what they mean for its issues.

    Everything the mapping and the sync need to know of a tracker without talking to it is asked here, so that
    they never ask which tracker it is. ``TrackerSettings.section`` is the configured one. Each section also has
    ``issue_type``, the type new issues get (``IssueSpec.issue_type``): a setting on Jira, ``Task`` on GitHub.
    """

    project_field: ClassVar[str]
    """The :class:`Category` field naming a category's project in this tracker (``jira_project``, ``github_repo``)."""

    person_field: ClassVar[str]
    """The :class:`Person` field holding a person's account in this tracker (``jira_account_id``, ``github_login``)."""

    body_section: ClassVar[bool]
    """Whether Cocreate writes only its own section of an issue's body, between markers, and keeps what R&D wrote
    around it (GitHub), rather than the whole body (Jira)."""

    @property
    @abc.abstractmethod
    def body_format(self) -> str:
        """What an issue body is written in: ``adf`` (Jira Cloud), ``wiki`` (Jira Data Center), ``markdown``
        (GitHub); ``sync.loop.mapping.render`` takes it as its destination."""

    @abc.abstractmethod
    def urgency_priority(self, urgency: Urgency) -> str | None:
        """The priority an issue of ``urgency`` gets (Jira's priority name); None where the tracker has no
        priorities and urgency is a label (GitHub), or the urgency names none."""

    @abc.abstractmethod
    def urgency_label(self, urgency: Urgency) -> str | None:
        """The label that marks an issue with ``urgency`` (GitHub); None where urgency is a priority (Jira), or
        the urgency names none."""

    @abc.abstractmethod
    def customer_status(self, statuses: list[Status], state: IssueState) -> str:
        """The key, among ``statuses`` (the first is the initial one), of the customer-facing status an issue in
        ``state`` means."""

    demand_labels: ClassVar[bool] = False
    """Whether an issue carries its demand band as a label (GitHub; Jira labels take no spaces and Jira has the
    number field instead)."""

    def demand_fields(self, score: float) -> dict[str, float]:
        """The fields (id -> value) holding an issue's demand score; none where the tracker has none configured."""
        return {}

    def project_for(self, category: Category) -> str | None:
        """The project (Jira key, ``owner/repo``) the issues of ``category`` go to; None when it names none."""
        return getattr(category, self.project_field)

    def user_id(self, person: Person) -> str | None:
        """``person``'s account in this tracker, as ``IssueSpec.assignee`` and ``IssueState.assignee`` hold it;
        None when the people directory has none."""
        return getattr(person, self.person_field)

    def urgency_of(self, state: IssueState, urgencies: list[Urgency]) -> Urgency | None:
        """The first of ``urgencies`` whose priority, or label (in any case), the issue in ``state`` carries; None
        when it carries none."""
        labels = {label.casefold() for label in state.labels}
        for urgency in urgencies:
            priority, label = self.urgency_priority(urgency), self.urgency_label(urgency)
            if (priority and priority == state.priority) or (label and label.casefold() in labels):
                return urgency
        return None


# A Jira status category no configured status names still means a built-in status, where the config has it.
_JIRA_CATEGORY_FALLBACK = {"new": None, "indeterminate": "in_progress", "done": "done"}
# Why a GitHub issue was closed -> the status it means.
_GITHUB_CLOSED_REASON = {"completed": "done", "not_planned": "declined", "duplicate": "declined"}


class JiraSettings(TrackerSection):
    url: str
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str | None = None
    api_token: str | None = None
    personal_access_token: str | None = None
    issue_type: str = "Task"
    customer_field: str | None = Field(default=None, description="custom field id holding reporter/customer")
    demand_field: str | None = Field(default=None, pattern=r"^customfield_\d+$",
                                     description="the Number custom field \"Customer demand\" (customfield_NNNNN)")
    status_overrides: dict[str, str] = Field(default_factory=dict, description="Jira status name -> status key")
    account_id: str | None = Field(default=None, description="Cocreate's own Jira account, whose events are ignored")

    project_field: ClassVar[str] = "jira_project"
    person_field: ClassVar[str] = "jira_account_id"
    body_section: ClassVar[bool] = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials(self) -> JiraSettings:
        if self.deployment == "cloud" and not (self.email and self.api_token):
            raise ValueError("Jira Cloud needs email and api_token")
        if self.deployment == "datacenter" and not self.personal_access_token:
            raise ValueError("Jira Data Center needs personal_access_token")
        return self

    @property
    def body_format(self) -> str:
        return "adf" if self.deployment == "cloud" else "wiki"

    def demand_fields(self, score: float) -> dict[str, float]:
        return {self.demand_field: score} if self.demand_field else {}

    def urgency_priority(self, urgency: Urgency) -> str | None:
        return urgency.jira_priority

    def urgency_label(self, urgency: Urgency) -> str | None:
        return None

    def customer_status(self, statuses: list[Status], state: IssueState) -> str:
        """A ``status_overrides`` entry for the status name (in any case) wins; otherwise the status category
        (``new``, ``indeterminate``, ``done``) picks the status with that ``jira_category``, else the built-in
        status for the category, else the initial status."""
        keys = [status.key for status in statuses]
        overrides = {name.casefold(): key for name, key in self.status_overrides.items()}
        override = overrides.get(state.status_name.casefold())
        if override in keys:
            return override
        by_category = next((s.key for s in statuses if s.jira_category == state.status_category), None)
        if by_category:
            return by_category
        fallback = _JIRA_CATEGORY_FALLBACK.get(state.status_category)
        return fallback if fallback in keys else keys[0]


class GitHubSettings(TrackerSection):
    api_url: str = "https://api.github.com"
    token: str | None = None
    app_id: int | None = None
    private_key_path: str | None = None
    installation_id: int | None = None
    login: str | None = Field(default=None, description="Cocreate's own GitHub login, whose events are ignored")

    project_field: ClassVar[str] = "github_repo"
    person_field: ClassVar[str] = "github_login"
    body_section: ClassVar[bool] = True
    demand_labels: ClassVar[bool] = True
    issue_type: ClassVar[str] = "Task"  # GitHub issues have no type; the adapter ignores it

    @model_validator(mode="after")
    def _credentials(self) -> GitHubSettings:
        if self.token:
            return self
        if not (self.app_id and self.private_key_path):
            raise ValueError("GitHub needs a token, or app_id and private_key_path for a GitHub App")
        problems = []
        if self.installation_id is None:
            problems.append("a GitHub App needs installation_id (the number in the URL of the app's installation "
                            "page, …/settings/installations/NUMBER)")
        if not self.login:
            problems.append("a GitHub App needs login, its bot login (for example my-app[bot]): an app cannot "
                            "read GET /user, and Cocreate must know its own events")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def body_format(self) -> str:
        return "markdown"

    def urgency_priority(self, urgency: Urgency) -> str | None:
        return None

    def urgency_label(self, urgency: Urgency) -> str | None:
        return urgency.github_label

    def customer_status(self, statuses: list[Status], state: IssueState) -> str:
        """A closed issue is ``done`` when completed and ``declined`` when not planned (or a duplicate); an open
        one takes the last of ``statuses`` whose ``github_label`` it carries, else the initial status."""
        keys = [status.key for status in statuses]
        if state.status_category == "done":
            wanted = _GITHUB_CLOSED_REASON.get(state.state_reason or "completed", "done")
            return wanted if wanted in keys else ("done" if "done" in keys else keys[-1])
        labelled = [s.key for s in statuses if s.github_label and s.github_label in state.labels]
        return labelled[-1] if labelled else keys[0]


class TrackerSettings(_Model):
    kind: Literal["jira", "github"]
    jira: JiraSettings | None = None
    github: GitHubSettings | None = None

    @model_validator(mode="after")
    def _section_for_kind(self) -> TrackerSettings:
        if getattr(self, self.kind) is None:
            raise ValueError(f"tracker.kind is {self.kind!r} but there is no tracker.{self.kind} section")
        return self

    @property
    def section(self) -> JiraSettings | GitHubSettings:
        """The section of the configured ``kind``: it answers what the sync must know of this tracker."""
        return getattr(self, self.kind)
