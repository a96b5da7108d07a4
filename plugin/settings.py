"""Cocreate's configuration as typed settings, validated once at start (``plugin.loading`` reads the file).

``${VAR}`` in any string value is replaced from the environment, so secrets never live in the file; a problem
is reported with the file's line (see :class:`~plugin.errors.ConfigError`)."""

from __future__ import annotations

import email.utils
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plugin.demand_settings import DemandSettings
from plugin.text import fold_name
from plugin.tracker_settings import TrackerSettings

LOCALES = ("zh_Hans", "zh_Hant", "en")
"""Languages Cocreate speaks, as Babel locale identifiers."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def _normalise_locale(value: str) -> str:
    """Accept ``zh-Hans``, ``zh_hant``, ``EN`` ... and return the canonical ``zh_Hans`` form."""
    wanted = value.replace("-", "_").lower()
    for locale in LOCALES:
        if locale.lower() == wanted:
            return locale
    raise ValueError(f"unknown locale {value!r}; use one of zh-Hans, zh-Hant, en")


Locale = Annotated[str, Field(description="zh-Hans, zh-Hant or en")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedText(_Model):
    """One text in each language; missing languages fall back to English, then to any given one."""

    zh_Hans: str | None = Field(default=None, alias="zh-Hans")
    zh_Hant: str | None = Field(default=None, alias="zh-Hant")
    en: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_at_least(self) -> LocalizedText:
        if not (self.zh_Hans or self.zh_Hant or self.en):
            raise ValueError("give the text in at least one of zh-Hans, zh-Hant, en")
        return self

    def get(self, locale: str) -> str:
        value = getattr(self, _normalise_locale(locale), None)
        return value or self.en or self.zh_Hans or self.zh_Hant or ""


def _localized(value: Any) -> Any:
    """A plain string in the YAML means the same text in every language."""
    if isinstance(value, str):
        return {"en": value}
    return value


class Category(_Model):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: LocalizedText
    jira_project: str | None = None
    github_repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")

    _name = field_validator("name", mode="before")(_localized)


def parse_duration(value: str | int | float) -> int:
    """``4h``, ``3d``, ``30m``, ``1w`` or a number of seconds -> seconds."""
    if isinstance(value, (int, float)):
        return int(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30m, 4h, 3d or 1w")
    return int(float(match.group(1)) * _DURATION_UNITS[match.group(2)])


class Sla(_Model):
    first_response: int | None = None
    resolution: int | None = None

    _durations = field_validator("first_response", "resolution", mode="before")(
        lambda value: None if value is None else parse_duration(value)
    )


class Urgency(_Model):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: LocalizedText
    jira_priority: str | None = None
    github_label: str | None = None
    sla: Sla = Sla()

    _name = field_validator("name", mode="before")(_localized)


class Status(_Model):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: LocalizedText
    jira_category: Literal["new", "indeterminate", "done"] | None = None
    github_label: str | None = None

    _name = field_validator("name", mode="before")(_localized)


class Person(_Model):
    name: str
    email: str | None = None
    jira_account_id: str | None = None
    github_login: str | None = None


CHANNEL_KINDS = ("email", "wecom", "dingtalk", "feishu", "slack", "webhook")


class Channel(_Model):
    """Where a customer hears of its needs. A bot or webhook URL carries its access key (WeCom's ``key=``,
    DingTalk's ``access_token=``), so ``url`` and ``secret`` are kept out of ``repr`` and shown masked."""

    kind: Literal["email", "wecom", "dingtalk", "feishu", "slack", "webhook"]
    to: list[str] = Field(default_factory=list, description="e-mail addresses (email)")
    url: str | None = Field(default=None, description="bot or webhook URL (all but email)", repr=False)
    secret: str | None = Field(default=None, description="signing secret (dingtalk, feishu, webhook)", repr=False)

    @model_validator(mode="after")
    def _target(self) -> Channel:
        if self.kind == "email" and not self.to:
            raise ValueError("an email channel needs at least one address in 'to'")
        if self.kind != "email" and not self.url:
            raise ValueError(f"a {self.kind} channel needs a url")
        return self


class Contact(_Model):
    name: str
    email: str | None = None
    phone: str | None = None


CUSTOMER_KEY = r"^[a-z0-9][a-z0-9_-]*$"


class Customer(_Model):
    """A customer as the file names it. The file is configuration-as-code: at every start the fields a customer
    sets here are written over the stored record (``sync.ledger.directory``); fields it leaves out are managed
    on ``/admin/customers``."""

    key: str = Field(pattern=CUSTOMER_KEY, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    aliases: list[str] = Field(default_factory=list, description="other names CS types for the customer")
    locale: str = "zh_Hans"
    contacts: list[Contact] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    tier: str | None = Field(default=None, max_length=32)
    annual_revenue: int | None = Field(default=None, ge=0, description="in whole units of the company's currency")

    _locale = field_validator("locale")(lambda value: _normalise_locale(value))


class WebhookSettings(_Model):
    github_secret: str | None = None
    jira_secret: str | None = None
    jira_url_token: str | None = None
    max_body_bytes: int = Field(default=1_048_576, gt=0)


class TableSettings(_Model):
    """The requirement table: extra header names per column (``ref``, ``category``, ``description`` ...) and the
    most rows one import reads (``max_rows``; a larger sheet is refused, and so is an .xlsx that unpacks to more
    than about 1 KB per allowed row); a web upload of more than ``inline_rows`` rows (as estimated by
    ``sync.table.sheets.estimate_rows``) is checked by a job, with progress, instead of inside the request."""

    aliases: dict[str, list[str]] = Field(default_factory=dict)
    max_rows: int = Field(default=200_000, gt=0)
    inline_rows: int = Field(default=5_000, ge=0)


SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
"""The port each kind of SMTP security uses unless ``port`` says otherwise."""


class SmtpConfig(_Model):
    """The mail server for e-mail notices (``notifications.smtp``).

    ``security``: ``starttls`` (port 587 by default), ``ssl`` (implicit TLS, 465) or ``none`` (25, for a relay on a
    trusted network). ``sender`` is the From address, e.g. ``Cocreate <noreply@example.com>``. ``ca_file`` trusts
    a private CA instead of the system store.
    """

    host: str
    sender: str = Field(description="From address, e.g. 'Cocreate <noreply@example.com>'")
    port: int | None = Field(default=None, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    reply_to: str | None = None
    timeout: float = Field(default=10.0, gt=0)
    ca_file: str | None = None

    @field_validator("sender")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if "@" not in email.utils.parseaddr(value)[1]:
            raise ValueError(f"{value!r} is not an e-mail address (for example 'Cocreate <noreply@example.com>')")
        return value

    @model_validator(mode="after")
    def _login_and_port(self) -> SmtpConfig:
        if bool(self.username) != bool(self.password):
            raise ValueError("give both username and password, or neither")
        if self.port is None:
            object.__setattr__(self, "port", SMTP_PORTS[self.security])
        return self

    @property
    def sender_domain(self) -> str:
        return email.utils.parseaddr(self.sender)[1].rpartition("@")[2]


class NotificationSettings(_Model):
    smtp: SmtpConfig | None = None
    escalation_contacts: list[str] = Field(default_factory=list, description="e-mails told of SLA breaches")
    delivered_on: Literal["done", "release", "both"] = Field(
        default="done",
        description="when customers hear their need was delivered: done (the issue is done, as before), "
                    "release (its Jira fixVersion is released or a GitHub release ships it) or both")

    @property
    def tells_on_release(self) -> bool:
        return self.delivered_on in ("release", "both")

    def tells_customers_of(self, status: Status | None) -> bool:
        """Whether customers hear of a change to ``status``: with ``delivered_on: release`` the change to a done
        status (``jira_category: done``, or the one keyed ``done``) is told by the release notice instead."""
        done = status is not None and (status.jira_category == "done" or status.key == "done")
        return self.delivered_on != "release" or not done


class InboundSettings(_Model):
    """Which fields R&D's changes in the tracker bring back to the need."""

    status: bool = True
    owner: bool = True
    urgency: bool = False


class SyncSettings(_Model):
    inbound: InboundSettings = InboundSettings()
    customer_comment_prefix: str = Field(
        default="[customer]", min_length=1,
        description="tracker comments starting with this are forwarded to the customer; others stay internal")
    customer_comment_authors: list[str] = Field(
        default_factory=list,
        description="who besides the people directory (and, on GitHub, the repository's owners, members and "
                    "collaborators) may write to customers: Jira accountIds, user names or e-mails, GitHub logins")
    mirror_replies: bool = Field(
        default=False,
        description="a reply CS writes to the customer on a need page is also posted as a comment on its issue")
    reconcile_minutes: int = Field(default=10, ge=1, le=59, description="how often to reconcile with the tracker")


class ServerSettings(_Model):
    """How ``cocreate serve`` (waitress) treats its connections. A connection costs waitress a socket, not a
    thread (bodies are buffered before a thread sees the request), so many slow clients are held cheaply; what
    stops the service is the connection limit filling up, so it is set well above the default 100. A slow client
    that keeps sending a byte now and then is not idle; past a few hundred of those, the reverse proxy in front
    (README, "Security") is what refuses them."""

    connection_limit: int = Field(default=1000, ge=10, le=100_000,
                                  description="open connections served at once; more wait in the backlog")
    channel_timeout: int = Field(default=30, ge=1, le=3600, description="seconds a silent connection is kept")
    cleanup_interval: int = Field(default=10, ge=1, le=3600, description="seconds between idle-connection sweeps")
    backlog: int = Field(default=2048, ge=16, le=65535)
    max_request_header_bytes: int = Field(default=65_536, ge=4096)
    trusted_proxies: int = Field(default=0, ge=0, le=5,
                                 description="reverse proxies in front that set X-Forwarded-For; 0 trusts none")


class FilesSettings(_Model):
    """Signed links to screenshots (``/files/...``), written into GitHub issue bodies. A link names the key it
    was signed with (derived from ``secret_key`` and ``key_id``); listing a key id in ``revoked_key_ids`` refuses
    every link signed with it, and the next sync of each need writes links with the current key. Links made
    before key ids have the key id ``legacy``."""

    key_id: str = Field(default="1", pattern=r"^[A-Za-z0-9_-]{1,32}$",
                        description="the key new screenshot links are signed with; change it to rotate")
    revoked_key_ids: list[str] = Field(default_factory=list,
                                       description="links signed with these key ids are refused (404)")
    link_max_age_days: int | None = Field(default=None, ge=1,
                                          description="a screenshot link works this many days after the upload; "
                                                      "empty for no limit")

    @model_validator(mode="after")
    def _current_key_not_revoked(self) -> FilesSettings:
        if self.key_id == "legacy":
            raise ValueError("key_id legacy names the links made before key ids; choose another")
        if self.key_id in self.revoked_key_ids:
            raise ValueError(f"key_id {self.key_id} is in revoked_key_ids; choose a new key_id")
        return self


class QueueSettings(_Model):
    url: str | None = Field(default=None, description="redis://... for Redis; empty for SQLite under home")
    workers: int = Field(default=2, ge=1, le=64)


def known_zone(value: str) -> str:
    """``value`` when it names an IANA time zone; else ``ValueError`` with a message the user can act on."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
    return value


class Settings(_Model):
    """Everything Cocreate reads from its YAML file, validated."""

    locale: str = "zh_Hans"
    timezone: str = Field(default="UTC", description="how times are shown and typed in the pages, e.g. Asia/Shanghai")
    base_url: str = "http://localhost:8080"
    secret_key: str | None = None
    home: str | None = Field(default=None, description="data folder; COCREATE_HOME overrides")
    database_url: str | None = Field(default=None, description="COCREATE_DATABASE_URL overrides")
    upload_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    screenshots_max: int = Field(default=30, ge=1, le=200, description="screenshots one need keeps at most")
    queue: QueueSettings = QueueSettings()
    server: ServerSettings = ServerSettings()
    files: FilesSettings = FilesSettings()
    tracker: TrackerSettings | None = None
    categories: list[Category] = Field(default_factory=list)
    urgencies: list[Urgency] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    webhooks: WebhookSettings = WebhookSettings()
    sync: SyncSettings = SyncSettings()
    notifications: NotificationSettings = NotificationSettings()
    table: TableSettings = TableSettings()
    demand: DemandSettings = DemandSettings()

    _locale = field_validator("locale")(lambda value: _normalise_locale(value))

    _zone = field_validator("timezone")(lambda value: known_zone(value))

    @model_validator(mode="after")
    def _defaults_and_references(self) -> Settings:
        if not self.urgencies:
            object.__setattr__(self, "urgencies", DEFAULT_URGENCIES)
        if not self.statuses:
            object.__setattr__(self, "statuses", DEFAULT_STATUSES)
        if not self.categories:
            object.__setattr__(self, "categories", DEFAULT_CATEGORIES)
        problems = []  # every one of them, one per line, each "dotted.key: message" (see parse_settings)
        for name, items in (("categories", self.categories), ("urgencies", self.urgencies),
                            ("statuses", self.statuses), ("customers", self.customers)):
            keys = [item.key for item in items]
            duplicates = sorted({key for key in keys if keys.count(key) > 1})
            if duplicates:
                problems.append(f"{name}: duplicate key {', '.join(duplicates)}")
        spellings: dict[str, str] = {}
        for index, customer in enumerate(self.customers):
            for name in dict.fromkeys(fold_name(name) for name in (customer.key, customer.name, *customer.aliases)):
                other = spellings.setdefault(name, customer.key)
                if other != customer.key:
                    problems.append(f"customers.{index}: {name!r} is already a name of customer {other}")
        problems += self.demand.unknown_keys([u.key for u in self.urgencies], [s.key for s in self.statuses])
        if self.tracker is not None:
            field = self.tracker.section.project_field
            problems += [f"categories.{index}: tracker is {self.tracker.kind}, so {field} is required"
                         for index, category in enumerate(self.categories) if not getattr(category, field)]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # Lookups used across the code -------------------------------------------------------------

    def category(self, key: str) -> Category | None:
        return next((item for item in self.categories if item.key == key), None)

    def urgency(self, key: str) -> Urgency | None:
        return next((item for item in self.urgencies if item.key == key), None)

    def status(self, key: str) -> Status | None:
        return next((item for item in self.statuses if item.key == key), None)

    @property
    def initial_status(self) -> str:
        return self.statuses[0].key


def _status(key: str, zh_hans: str, zh_hant: str, en: str, category: str | None) -> Status:
    return Status(key=key, name=LocalizedText(zh_Hans=zh_hans, zh_Hant=zh_hant, en=en), jira_category=category)


DEFAULT_STATUSES = [
    _status("new", "已登记", "已登記", "Received", "new"),
    _status("accepted", "已受理", "已受理", "Accepted", None),
    _status("scheduled", "已排期", "已排期", "Scheduled", None),
    _status("in_progress", "开发中", "開發中", "In progress", "indeterminate"),
    _status("done", "已完成", "已完成", "Done", "done"),
    _status("declined", "暂不处理", "暫不處理", "Declined", None),
]

DEFAULT_URGENCIES = [
    Urgency(key="critical", name=LocalizedText(zh_Hans="紧急", zh_Hant="緊急", en="Critical"),
            jira_priority="Highest", github_label="urgency: critical"),
    Urgency(key="high", name=LocalizedText(zh_Hans="高", zh_Hant="高", en="High"),
            jira_priority="High", github_label="urgency: high"),
    Urgency(key="medium", name=LocalizedText(zh_Hans="中", zh_Hant="中", en="Medium"),
            jira_priority="Medium", github_label="urgency: medium"),
    Urgency(key="low", name=LocalizedText(zh_Hans="低", zh_Hant="低", en="Low"),
            jira_priority="Low", github_label="urgency: low"),
]

DEFAULT_CATEGORIES = [
    Category(key="general", name=LocalizedText(zh_Hans="通用", zh_Hant="通用", en="General")),
]
