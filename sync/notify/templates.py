"""What Cocreate tells people, in zh-Hans, zh-Hant and English: the notices, worded from the catalogs.

A notice is a small frozen dataclass holding facts (labels already in the reader's language);
:func:`render` turns it into a :class:`~sync.notify.formats.Message` that every channel can send. Rendering
is pure: no settings, no store, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from plugin.catalogs import Catalog, catalog
from plugin.text import Link
from sync.notify.formats import Document, Links, Message, Paragraph, Quote, Text, clip

_LANG_TAGS = {"zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "en": "en"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SUBJECT_TITLE_LIMIT = 40


def normalise_locale(value: str | None) -> str:
    """``zh-Hans``/``zh_CN`` -> ``zh_Hans``, ``zh-Hant``/``zh_TW``/``zh_HK`` -> ``zh_Hant``, anything else ``en``."""
    wanted = (value or "").replace("-", "_").lower()
    if wanted.startswith("zh"):
        return "zh_Hant" if any(tag in wanted for tag in ("hant", "_tw", "_hk", "_mo")) else "zh_Hans"
    return "en"


def _line(text: str | None) -> str:
    """One line of text: control characters dropped, line breaks folded (keeps e-mail headers single-line)."""
    return " ".join(_CONTROL.sub("", text or "").split())


def _block(text: str | None) -> str:
    """Free text: control characters dropped, line endings unified, outer blank lines trimmed."""
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip("\n").rstrip()


def _check_url(name: str, value: str | None) -> None:
    if value is not None and not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"{name} must be an http(s) URL, not {value!r}")


# Wording ------------------------------------------------------------------------------------------

_FIELD = re.compile(r"%\((\w+)\)s")


def _fill(template: str, strong: frozenset[str] = frozenset(), **values: str) -> tuple[Text, ...]:
    """Split ``template`` at its ``%(fields)s`` into text runs; the fields named in ``strong`` are bold."""
    parts: list[Text] = []
    for index, piece in enumerate(_FIELD.split(template)):
        if index % 2:
            parts.append(Text(values[piece], strong=piece in strong))
        elif piece:
            parts.append(Text(piece))
    return tuple(parts)


def _plain(template: str, **values: str) -> str:
    return "".join(part.text for part in _fill(template, **values))


def format_duration(delta: dt.timedelta, locale: str) -> str:
    """``2 天 3 小时`` / ``2 days 3 hours``: the two largest units, at least one minute."""
    words = catalog(normalise_locale(locale))
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    units = [(days, words.ngettext("%(num)d day", "%(num)d days", days)),
             (hours, words.ngettext("%(num)d hour", "%(num)d hours", hours)),
             (minutes, words.ngettext("%(num)d minute", "%(num)d minutes", minutes))]
    first = next(index for index, (n, _text) in enumerate(units) if n)
    return " ".join(text for n, text in units[first : first + 2] if n)


def format_when(moment: dt.datetime, timezone: str) -> str:
    """``2024-05-06 18:00 Asia/Shanghai``; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = dt.UTC if timezone.upper() == "UTC" else ZoneInfo(timezone)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {timezone}"


# Notices ------------------------------------------------------------------------------------------


class _Notice:
    """Shared behaviour: cleaned fields, URL checks and a stable id."""

    kind: ClassVar[str]
    _url_fields: ClassVar[tuple[str, ...]] = ()
    _line_fields: ClassVar[tuple[str, ...]] = ()
    _block_fields: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", normalise_locale(self.locale))
        for name in self._line_fields:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _line(value))
        for name in self._block_fields:
            value = getattr(self, name)
            object.__setattr__(self, name, _block(value) or None)
        for name in self._url_fields:
            _check_url(name, getattr(self, name))

    @property
    def notice_id(self) -> str:
        """Stable across retries: from ``event_key`` when given (what happened), else from every field."""
        basis: Any = self.event_key if self.event_key else notice_data(self)
        digest = hashlib.sha256(json.dumps([self.kind, basis], sort_keys=True, ensure_ascii=False).encode())
        return digest.hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class StatusNotice(_Notice):
    """Tell a customer that one of their needs changed status. Customer-facing: holds no internal notes.

    Labels are already in the customer's language (``settings.status(key).name.get(locale)``).
    ``old_status_label`` may be None for a need's first notice. ``event_key`` names what happened (for example
    ``status_history:1234``) so that two identical changes at different times get different notice ids.
    """

    customer_name: str
    locale: str
    need_ref: str
    need_title: str
    old_status_label: str | None
    new_status_label: str
    issue_url: str | None = None
    status_page_url: str | None = None
    remarks_for_customer: str | None = None
    comment_for_customer: str | None = None
    comment_author: str | None = None
    event_key: str | None = None

    kind: ClassVar[str] = "status"
    _url_fields = ("issue_url", "status_page_url")
    _line_fields = ("customer_name", "need_ref", "need_title", "old_status_label", "new_status_label",
                    "comment_author")
    _block_fields = ("remarks_for_customer", "comment_for_customer")


@dataclasses.dataclass(frozen=True)
class OwnerNotice(_Notice):
    """Tell the CS owner (internal) that a need they follow changed status, and which customers were told."""

    owner_name: str
    locale: str
    customer_name: str
    need_ref: str
    need_title: str
    old_status_label: str | None
    new_status_label: str
    need_url: str | None = None
    issue_url: str | None = None
    customers_notified: tuple[str, ...] | None = None
    tracker_comment: str | None = None
    event_key: str | None = None

    kind: ClassVar[str] = "owner"
    _url_fields = ("need_url", "issue_url")
    _line_fields = ("owner_name", "customer_name", "need_ref", "need_title", "old_status_label", "new_status_label")
    _block_fields = ("tracker_comment",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.customers_notified is not None:
            object.__setattr__(self, "customers_notified", tuple(_line(name) for name in self.customers_notified))


@dataclasses.dataclass(frozen=True)
class EscalationNotice(_Notice):
    """Warn (internally) that a need breached its SLA: ``sla`` is ``first_response`` or ``resolution``.

    ``due_at`` and ``overdue_by`` also accept their JSON forms (ISO 8601 text, seconds).
    ``overdue_by`` is how late it is when the check ran; pass ``event_key`` (for example
    ``sla:N-0042:resolution``) so that a retried job, which measures a later overdue time, keeps the notice id.
    """

    locale: str
    customer_name: str
    need_ref: str
    need_title: str
    urgency_label: str
    status_label: str
    sla: Literal["first_response", "resolution"]
    due_at: dt.datetime
    overdue_by: dt.timedelta
    owner_name: str | None = None
    need_url: str | None = None
    issue_url: str | None = None
    timezone: str = "UTC"
    event_key: str | None = None

    kind: ClassVar[str] = "escalation"
    _url_fields = ("need_url", "issue_url")
    _line_fields = ("customer_name", "need_ref", "need_title", "urgency_label", "status_label", "owner_name")

    def __post_init__(self) -> None:
        super().__post_init__()
        # Accept the JSON forms notice_data() writes, so a notice stored in an outbox row comes back as it was.
        if isinstance(self.due_at, str):
            object.__setattr__(self, "due_at", dt.datetime.fromisoformat(self.due_at))
        if isinstance(self.overdue_by, (int, float)):
            object.__setattr__(self, "overdue_by", dt.timedelta(seconds=self.overdue_by))
        if self.sla not in ("first_response", "resolution"):
            raise ValueError(f"sla must be 'first_response' or 'resolution', not {self.sla!r}")
        if self.timezone.upper() != "UTC":
            ZoneInfo(self.timezone)  # unknown zones fail here, not half-way through a send


@dataclasses.dataclass(frozen=True)
class ReleaseNotice(_Notice):
    """Tell a customer that their needs shipped: ``version`` (``v5.2``) was released on ``released_on``
    (ISO date text, or None when the tracker gave no date). Customer-facing, like :class:`StatusNotice`."""

    customer_name: str
    locale: str
    need_ref: str
    need_title: str
    version: str
    released_on: str | None = None
    status_page_url: str | None = None
    event_key: str | None = None

    kind: ClassVar[str] = "release"
    _url_fields = ("status_page_url",)
    _line_fields = ("customer_name", "need_ref", "need_title", "version", "released_on")


@dataclasses.dataclass(frozen=True)
class PageNotice(_Notice):
    """Page (internal) one of a project's emergency contacts: a need of the most urgent urgency was filed."""

    locale: str
    contact_name: str
    project_name: str
    customer_name: str
    need_ref: str
    need_title: str
    urgency_label: str
    need_url: str | None = None
    event_key: str | None = None

    kind: ClassVar[str] = "page"
    _url_fields = ("need_url",)
    _line_fields = ("contact_name", "project_name", "customer_name", "need_ref", "need_title", "urgency_label")


@dataclasses.dataclass(frozen=True)
class MeetingReminder(_Notice):
    """Remind (internally) a project's lead that its regular meeting is overdue. ``last_meeting``: ISO date or
    None (no meeting yet); ``days`` since the last meeting (or since the project started)."""

    locale: str
    lead_name: str
    project_name: str
    customer_name: str
    cadence_label: str
    days: int
    last_meeting: str | None = None
    project_url: str | None = None
    minutes_url: str | None = None
    event_key: str | None = None

    kind: ClassVar[str] = "meeting"
    _url_fields = ("project_url", "minutes_url")
    _line_fields = ("lead_name", "project_name", "customer_name", "cadence_label", "last_meeting")


Notice = StatusNotice | OwnerNotice | EscalationNotice | ReleaseNotice | PageNotice | MeetingReminder


def notice_data(notice: Notice) -> dict[str, Any]:
    """The notice's fields as JSON-ready values (for the generic webhook and for ids)."""
    data: dict[str, Any] = {"kind": notice.kind}
    for item in dataclasses.fields(notice):
        value = getattr(notice, item.name)
        if isinstance(value, dt.datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
        elif isinstance(value, dt.timedelta):
            value = int(value.total_seconds())
        elif isinstance(value, tuple):
            value = list(value)
        data[item.name] = value
    return data


_KINDS: dict[str, type] = {"status": StatusNotice, "owner": OwnerNotice, "escalation": EscalationNotice,
                           "release": ReleaseNotice,
                           "page": PageNotice, "meeting": MeetingReminder}


def notice_from_data(data: dict[str, Any]) -> Notice:
    """The notice :func:`notice_data` described (for example, one stored as JSON in an outbox row)."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; use one of {', '.join(_KINDS)}")
    if isinstance(fields.get("customers_notified"), list):
        fields["customers_notified"] = tuple(fields["customers_notified"])
    return _KINDS[kind](**fields)


# Documents ----------------------------------------------------------------------------------------

_STRONG = frozenset({"ref", "old", "new"})


def _status_document(notice: StatusNotice, words: Catalog) -> tuple[str, Document]:
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    subject = _plain(words.pgettext("subject", "Your request %(ref)s “%(title)s” is now %(new)s"),
                     ref=notice.need_ref, title=title, new=notice.new_status_label)
    values = {"ref": notice.need_ref, "title": notice.need_title, "new": notice.new_status_label}
    if notice.old_status_label:
        headline = _fill(words.gettext("The status of your request %(ref)s “%(title)s” has changed: "
                                       "%(old)s → %(new)s"), _STRONG, old=notice.old_status_label, **values)
    else:
        headline = _fill(words.gettext("Your request %(ref)s “%(title)s” is now %(new)s."), _STRONG, **values)
    blocks: list[Any] = [
        Paragraph(_fill(words.gettext("Hello %(customer)s,"), customer=notice.customer_name)),
        Paragraph(headline),
    ]
    if notice.remarks_for_customer:
        blocks.append(Quote(words.gettext("Notes"), notice.remarks_for_customer))
    if notice.comment_for_customer:
        heading = (words.gettext("A message from %(name)s of our team", name=notice.comment_author)
                   if notice.comment_author else words.gettext("A message from our team"))
        blocks.append(Quote(heading, notice.comment_for_customer))
    links = [
        Link(label, url)
        for label, url in ((words.gettext("Follow development"), notice.issue_url),
                           (words.gettext("See all your requests"), notice.status_page_url))
        if url
    ]
    if links:
        blocks.append(Links(tuple(links)))
    footer = words.gettext("This notice was sent automatically. If you have questions, please contact your "
                           "customer success team.")
    return subject, _document(words.gettext("Status update"), blocks, footer, notice.locale)


def _release_document(notice: ReleaseNotice, words: Catalog) -> tuple[str, Document]:
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    values = {"ref": notice.need_ref, "title": notice.need_title, "version": notice.version}
    subject = _plain(words.pgettext("subject", "Your request %(ref)s “%(title)s” shipped in %(version)s"),
                     ref=notice.need_ref, title=title, version=notice.version)
    if notice.released_on:
        headline = _fill(words.gettext("Your request %(ref)s “%(title)s” shipped in %(version)s on %(date)s."),
                         frozenset({"ref", "version", "date"}), date=notice.released_on, **values)
    else:
        headline = _fill(words.gettext("Your request %(ref)s “%(title)s” shipped in %(version)s."),
                         frozenset({"ref", "version"}), **values)
    blocks: list[Any] = [
        Paragraph(_fill(words.gettext("Hello %(customer)s,"), customer=notice.customer_name)),
        Paragraph(headline),
    ]
    if notice.status_page_url:
        blocks.append(Links((Link(words.gettext("See all your requests"), notice.status_page_url),)))
    footer = words.gettext("This notice was sent automatically. If you have questions, please contact your "
                           "customer success team.")
    return subject, _document(words.gettext("Shipped"), blocks, footer, notice.locale)


def _owner_document(notice: OwnerNotice, words: Catalog) -> tuple[str, Document]:
    values = {
        "ref": notice.need_ref,
        "title": notice.need_title,
        "customer": notice.customer_name,
        "new": notice.new_status_label,
    }
    if notice.old_status_label:
        subject = _plain(words.pgettext("subject", "[Cocreate] %(customer)s: %(ref)s %(old)s → %(new)s"),
                         old=notice.old_status_label, **values)
        headline = _fill(words.gettext("The need %(ref)s “%(title)s” you follow for %(customer)s moved from "
                                       "%(old)s to %(new)s."), _STRONG, old=notice.old_status_label, **values)
    else:
        subject = _plain(words.pgettext("subject", "[Cocreate] %(customer)s: %(ref)s is now %(new)s"), **values)
        headline = _fill(words.gettext("The need %(ref)s “%(title)s” you follow for %(customer)s is now %(new)s."),
                         _STRONG, **values)
    blocks: list[Any] = [Paragraph(_fill(words.gettext("Hi %(owner)s,"), owner=notice.owner_name)),
                         Paragraph(headline)]
    if notice.customers_notified is not None:
        if notice.customers_notified:
            names = words.pgettext("punctuation", ", ").join(notice.customers_notified)
            blocks.append(Paragraph(_fill(words.gettext("Customers notified: %(customers)s"), customers=names)))
        else:
            blocks.append(Paragraph((Text(words.gettext("No customer was notified this time.")),)))
    if notice.tracker_comment:
        blocks.append(Quote(words.gettext("Note from R&D"), notice.tracker_comment))
    blocks.extend(_internal_links(notice.need_url, notice.issue_url, words))
    return subject, _document(words.gettext("A need you follow has changed"), blocks,
                              words.gettext("Internal notice: do not forward to customers."), notice.locale)


def _escalation_document(notice: EscalationNotice, words: Catalog) -> tuple[str, Document]:
    sla = words.gettext("first response") if notice.sla == "first_response" else words.gettext("resolution")
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    subject = _plain(words.pgettext("subject", "[SLA breach] %(ref)s “%(title)s” missed its %(sla)s target"),
                     ref=notice.need_ref, title=title, sla=sla)
    breached = _fill(
        words.gettext("Need %(ref)s “%(title)s” is %(overdue)s past its %(sla)s target (due %(due)s)."),
        frozenset({"ref", "overdue"}),
        ref=notice.need_ref,
        title=notice.need_title,
        sla=sla,
        overdue=format_duration(notice.overdue_by, notice.locale),
        due=format_when(notice.due_at, notice.timezone),
    )
    details = _fill(
        words.gettext("Customer: %(customer)s · Urgency: %(urgency)s · Status: %(status)s · Owner: %(owner)s"),
        customer=notice.customer_name,
        urgency=notice.urgency_label,
        status=notice.status_label,
        owner=notice.owner_name or words.gettext("unassigned"),
    )
    blocks: list[Any] = [Paragraph(breached), Paragraph(details)]
    blocks.extend(_internal_links(notice.need_url, notice.issue_url, words))
    return subject, _document(words.gettext("SLA breach"), blocks,
                              words.gettext("Internal notice: do not forward to customers."), notice.locale)


def _page_document(notice: PageNotice, words: Catalog) -> tuple[str, Document]:
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    subject = _plain(words.pgettext("subject", "[Emergency] %(project)s: %(ref)s “%(title)s” (%(urgency)s)"),
                     project=notice.project_name, ref=notice.need_ref, title=title, urgency=notice.urgency_label)
    filed = _fill(words.gettext("%(customer)s filed the need %(ref)s “%(title)s” as %(urgency)s in the project "
                                "%(project)s, of which you are an emergency contact."),
                  frozenset({"ref", "urgency"}), customer=notice.customer_name, ref=notice.need_ref,
                  title=notice.need_title, urgency=notice.urgency_label, project=notice.project_name)
    blocks: list[Any] = [Paragraph(_fill(words.gettext("Hi %(owner)s,"), owner=notice.contact_name)),
                         Paragraph(filed)]
    blocks.extend(_internal_links(notice.need_url, None, words))
    return subject, _document(words.gettext("Emergency"), blocks,
                              words.gettext("Internal notice: do not forward to customers."), notice.locale)


def _meeting_document(notice: MeetingReminder, words: Catalog) -> tuple[str, Document]:
    subject = _plain(words.pgettext("subject", "[Cocreate] %(project)s: the regular meeting is overdue"),
                     project=notice.project_name)
    values = {"project": notice.project_name, "customer": notice.customer_name, "cadence": notice.cadence_label}
    if notice.last_meeting:
        text = words.ngettext("The project %(project)s (%(customer)s) meets %(cadence)s, and its last meeting was "
                              "on %(date)s, %(num)d day ago.",
                              "The project %(project)s (%(customer)s) meets %(cadence)s, and its last meeting was "
                              "on %(date)s, %(num)d days ago.", notice.days, date=notice.last_meeting, **values)
    else:
        text = words.ngettext("The project %(project)s (%(customer)s) meets %(cadence)s, and it has had no meeting "
                              "in the %(num)d day since it started.",
                              "The project %(project)s (%(customer)s) meets %(cadence)s, and it has had no meeting "
                              "in the %(num)d days since it started.", notice.days, **values)
    blocks: list[Any] = [Paragraph(_fill(words.gettext("Hi %(owner)s,"), owner=notice.lead_name)),
                         Paragraph((Text(text),))]
    links = [Link(label, url) for label, url in ((words.gettext("Write the minutes"), notice.minutes_url),
                                                 (words.gettext("Open the project"), notice.project_url)) if url]
    if links:
        blocks.append(Links(tuple(links)))
    return subject, _document(words.gettext("The regular meeting is overdue"), blocks,
                              words.gettext("Internal notice: do not forward to customers."), notice.locale)


def _internal_links(need_url: str | None, issue_url: str | None, words: Catalog) -> list[Links]:
    links = [
        Link(label, url)
        for label, url in ((words.gettext("Open in Cocreate"), need_url),
                           (words.gettext("Open the issue"), issue_url))
        if url
    ]
    return [Links(tuple(links))] if links else []


def _document(title: str, blocks: list[Any], footer: str, locale: str) -> Document:
    return Document(title, tuple(blocks), footer, lang=_LANG_TAGS[locale],
                    colon=catalog(locale).pgettext("punctuation", ": "))


_BUILDERS: dict[type, Callable[[Any, Catalog], tuple[str, Document]]] = {
    StatusNotice: _status_document,
    OwnerNotice: _owner_document,
    EscalationNotice: _escalation_document,
    ReleaseNotice: _release_document,
    PageNotice: _page_document,
    MeetingReminder: _meeting_document,
}


def render(notice: Notice) -> Message:
    """Write ``notice`` in its locale: subject, text, HTML and every chat markup, via the returned Message."""
    try:
        build = _BUILDERS[type(notice)]
    except KeyError:
        raise TypeError(f"render() takes a notice of sync.notify.templates, not {type(notice).__name__}")
    subject, document = build(notice, catalog(notice.locale))
    return Message(
        notice_id=notice.notice_id,
        kind=notice.kind,
        locale=notice.locale,
        subject=subject,
        document=document,
        data=notice_data(notice),
    )
