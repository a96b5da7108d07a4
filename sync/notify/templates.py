"""What Cocreate tells people, in zh-Hans, zh-Hant and English: the notices and their wording.

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
import string
from collections.abc import Callable
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

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

TEXTS: dict[str, dict[str, str]] = {
    "zh_Hans": {
        "colon": "：",
        "status.title": "需求状态更新",
        "status.subject": "需求 {ref}「{title}」状态更新：{new}",
        "status.greeting": "{customer} 您好：",
        "status.changed": "您的需求 {ref}「{title}」状态已更新：{old} → {new}",
        "status.current": "您的需求 {ref}「{title}」当前状态：{new}",
        "status.remarks": "说明",
        "status.comment": "我们的留言",
        "status.issue_link": "查看研发进度",
        "status.page_link": "查看您的全部需求",
        "status.footer": "本通知由系统自动发送；如有疑问，请联系您的客户成功团队。",
        "owner.title": "你跟进的需求有更新",
        "owner.subject": "[Cocreate] {customer}：需求 {ref} {old} → {new}",
        "owner.subject_current": "[Cocreate] {customer}：需求 {ref} 当前状态 {new}",
        "owner.greeting": "{owner}，你好：",
        "owner.changed": "你跟进的需求 {ref}「{title}」（客户：{customer}）状态已从 {old} 变为 {new}。",
        "owner.current": "你跟进的需求 {ref}「{title}」（客户：{customer}）当前状态：{new}。",
        "owner.notified": "已通知客户：{customers}",
        "owner.not_notified": "本次没有通知任何客户。",
        "owner.tracker_comment": "研发备注",
        "internal.need_link": "在 Cocreate 中查看",
        "internal.issue_link": "打开研发工单",
        "internal.footer": "内部通知，请勿转发给客户。",
        "sla.title": "SLA 超时提醒",
        "sla.subject": "【SLA 超时】需求 {ref}「{title}」已超过{sla}时限",
        "sla.breached": "需求 {ref}「{title}」已超过{sla}时限 {overdue}（应于 {due} 前完成）。",
        "sla.details": "客户：{customer}　紧急程度：{urgency}　当前状态：{status}　跟进人：{owner}",
        "sla.first_response": "首次响应",
        "sla.resolution": "解决",
        "sla.unassigned": "未指定",
        "unit.day": "{n} 天",
        "unit.hour": "{n} 小时",
        "unit.minute": "{n} 分钟",
        "list.separator": "、",
    },
    "zh_Hant": {
        "colon": "：",
        "status.title": "需求狀態更新",
        "status.subject": "需求 {ref}「{title}」狀態更新：{new}",
        "status.greeting": "{customer} 您好：",
        "status.changed": "您的需求 {ref}「{title}」狀態已更新：{old} → {new}",
        "status.current": "您的需求 {ref}「{title}」目前狀態：{new}",
        "status.remarks": "說明",
        "status.comment": "我們的留言",
        "status.issue_link": "查看研發進度",
        "status.page_link": "查看您的全部需求",
        "status.footer": "本通知由系統自動發送；如有疑問，請聯絡您的客戶成功團隊。",
        "owner.title": "你跟進的需求有更新",
        "owner.subject": "[Cocreate] {customer}：需求 {ref} {old} → {new}",
        "owner.subject_current": "[Cocreate] {customer}：需求 {ref} 目前狀態 {new}",
        "owner.greeting": "{owner}，你好：",
        "owner.changed": "你跟進的需求 {ref}「{title}」（客戶：{customer}）狀態已從 {old} 變為 {new}。",
        "owner.current": "你跟進的需求 {ref}「{title}」（客戶：{customer}）目前狀態：{new}。",
        "owner.notified": "已通知客戶：{customers}",
        "owner.not_notified": "本次沒有通知任何客戶。",
        "owner.tracker_comment": "研發備註",
        "internal.need_link": "在 Cocreate 中查看",
        "internal.issue_link": "開啟研發工單",
        "internal.footer": "內部通知，請勿轉寄給客戶。",
        "sla.title": "SLA 逾時提醒",
        "sla.subject": "【SLA 逾時】需求 {ref}「{title}」已超過{sla}時限",
        "sla.breached": "需求 {ref}「{title}」已超過{sla}時限 {overdue}（應於 {due} 前完成）。",
        "sla.details": "客戶：{customer}　緊急程度：{urgency}　目前狀態：{status}　跟進人：{owner}",
        "sla.first_response": "首次回應",
        "sla.resolution": "解決",
        "sla.unassigned": "未指定",
        "unit.day": "{n} 天",
        "unit.hour": "{n} 小時",
        "unit.minute": "{n} 分鐘",
        "list.separator": "、",
    },
    "en": {
        "colon": ": ",
        "status.title": "Status update",
        "status.subject": "Your request {ref} “{title}” is now {new}",
        "status.greeting": "Hello {customer},",
        "status.changed": "The status of your request {ref} “{title}” has changed: {old} → {new}",
        "status.current": "Your request {ref} “{title}” is now {new}.",
        "status.remarks": "Notes",
        "status.comment": "A message from our team",
        "status.issue_link": "Follow development",
        "status.page_link": "See all your requests",
        "status.footer": "This notice was sent automatically. If you have questions, please contact your "
        "customer success team.",
        "owner.title": "A need you follow has changed",
        "owner.subject": "[Cocreate] {customer}: {ref} {old} → {new}",
        "owner.subject_current": "[Cocreate] {customer}: {ref} is now {new}",
        "owner.greeting": "Hi {owner},",
        "owner.changed": "The need {ref} “{title}” you follow for {customer} moved from {old} to {new}.",
        "owner.current": "The need {ref} “{title}” you follow for {customer} is now {new}.",
        "owner.notified": "Customers notified: {customers}",
        "owner.not_notified": "No customer was notified this time.",
        "owner.tracker_comment": "Note from R&D",
        "internal.need_link": "Open in Cocreate",
        "internal.issue_link": "Open the issue",
        "internal.footer": "Internal notice: do not forward to customers.",
        "sla.title": "SLA breach",
        "sla.subject": "[SLA breach] {ref} “{title}” missed its {sla} target",
        "sla.breached": "Need {ref} “{title}” is {overdue} past its {sla} target (due {due}).",
        "sla.details": "Customer: {customer} · Urgency: {urgency} · Status: {status} · Owner: {owner}",
        "sla.first_response": "first response",
        "sla.resolution": "resolution",
        "sla.unassigned": "unassigned",
        "unit.day": "{n} day|{n} days",
        "unit.hour": "{n} hour|{n} hours",
        "unit.minute": "{n} minute|{n} minutes",
        "list.separator": ", ",
    },
}


def _fill(template: str, strong: frozenset[str] = frozenset(), **values: str) -> tuple[Text, ...]:
    """Split ``template`` at its ``{fields}`` into text runs; the fields named in ``strong`` are bold."""
    parts: list[Text] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            parts.append(Text(literal))
        if name is not None:
            parts.append(Text(values[name], strong=name in strong))
    return tuple(parts)


def _plain(template: str, **values: str) -> str:
    return "".join(part.text for part in _fill(template, **values))


def _count(texts: dict[str, str], key: str, n: int) -> str:
    one, _, many = texts[key].partition("|")
    return (many if n != 1 and many else one).format(n=n)


def format_duration(delta: dt.timedelta, locale: str) -> str:
    """``2 天 3 小时`` / ``2 days 3 hours``: the two largest units, at least one minute."""
    texts = TEXTS[normalise_locale(locale)]
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    units = [("unit.day", days), ("unit.hour", hours), ("unit.minute", minutes)]
    first = next(index for index, (_key, n) in enumerate(units) if n)
    shown = [_count(texts, key, n) for key, n in units[first : first + 2] if n]
    return " ".join(shown)


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
    event_key: str | None = None

    kind: ClassVar[str] = "status"
    _url_fields = ("issue_url", "status_page_url")
    _line_fields = ("customer_name", "need_ref", "need_title", "old_status_label", "new_status_label")
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


Notice = StatusNotice | OwnerNotice | EscalationNotice


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


_KINDS: dict[str, type] = {"status": StatusNotice, "owner": OwnerNotice, "escalation": EscalationNotice}


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


def _status_document(notice: StatusNotice, texts: dict[str, str]) -> tuple[str, Document]:
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    subject = _plain(texts["status.subject"], ref=notice.need_ref, title=title, new=notice.new_status_label)
    values = {"ref": notice.need_ref, "title": notice.need_title, "new": notice.new_status_label}
    if notice.old_status_label:
        headline = _fill(texts["status.changed"], _STRONG, old=notice.old_status_label, **values)
    else:
        headline = _fill(texts["status.current"], _STRONG, **values)
    blocks: list[Any] = [
        Paragraph(_fill(texts["status.greeting"], customer=notice.customer_name)),
        Paragraph(headline),
    ]
    if notice.remarks_for_customer:
        blocks.append(Quote(texts["status.remarks"], notice.remarks_for_customer))
    if notice.comment_for_customer:
        blocks.append(Quote(texts["status.comment"], notice.comment_for_customer))
    links = [
        Link(texts[label], url)
        for label, url in (("status.issue_link", notice.issue_url), ("status.page_link", notice.status_page_url))
        if url
    ]
    if links:
        blocks.append(Links(tuple(links)))
    return subject, _document(texts["status.title"], blocks, texts["status.footer"], notice.locale)


def _owner_document(notice: OwnerNotice, texts: dict[str, str]) -> tuple[str, Document]:
    values = {
        "ref": notice.need_ref,
        "title": notice.need_title,
        "customer": notice.customer_name,
        "new": notice.new_status_label,
    }
    if notice.old_status_label:
        subject = _plain(texts["owner.subject"], old=notice.old_status_label, **values)
        headline = _fill(texts["owner.changed"], _STRONG, old=notice.old_status_label, **values)
    else:
        subject = _plain(texts["owner.subject_current"], **values)
        headline = _fill(texts["owner.current"], _STRONG, **values)
    blocks: list[Any] = [Paragraph(_fill(texts["owner.greeting"], owner=notice.owner_name)), Paragraph(headline)]
    if notice.customers_notified is not None:
        if notice.customers_notified:
            names = texts["list.separator"].join(notice.customers_notified)
            blocks.append(Paragraph(_fill(texts["owner.notified"], customers=names)))
        else:
            blocks.append(Paragraph((Text(texts["owner.not_notified"]),)))
    if notice.tracker_comment:
        blocks.append(Quote(texts["owner.tracker_comment"], notice.tracker_comment))
    blocks.extend(_internal_links(notice.need_url, notice.issue_url, texts))
    return subject, _document(texts["owner.title"], blocks, texts["internal.footer"], notice.locale)


def _escalation_document(notice: EscalationNotice, texts: dict[str, str]) -> tuple[str, Document]:
    sla = texts[f"sla.{notice.sla}"]
    title = clip(notice.need_title, SUBJECT_TITLE_LIMIT)
    subject = _plain(texts["sla.subject"], ref=notice.need_ref, title=title, sla=sla)
    breached = _fill(
        texts["sla.breached"],
        frozenset({"ref", "overdue"}),
        ref=notice.need_ref,
        title=notice.need_title,
        sla=sla,
        overdue=format_duration(notice.overdue_by, notice.locale),
        due=format_when(notice.due_at, notice.timezone),
    )
    details = _fill(
        texts["sla.details"],
        customer=notice.customer_name,
        urgency=notice.urgency_label,
        status=notice.status_label,
        owner=notice.owner_name or texts["sla.unassigned"],
    )
    blocks: list[Any] = [Paragraph(breached), Paragraph(details)]
    blocks.extend(_internal_links(notice.need_url, notice.issue_url, texts))
    return subject, _document(texts["sla.title"], blocks, texts["internal.footer"], notice.locale)


def _internal_links(need_url: str | None, issue_url: str | None, texts: dict[str, str]) -> list[Links]:
    links = [
        Link(texts[label], url)
        for label, url in (("internal.need_link", need_url), ("internal.issue_link", issue_url))
        if url
    ]
    return [Links(tuple(links))] if links else []


def _document(title: str, blocks: list[Any], footer: str, locale: str) -> Document:
    return Document(title, tuple(blocks), footer, lang=_LANG_TAGS[locale], colon=TEXTS[locale]["colon"])


_BUILDERS: dict[type, Callable[[Any, dict[str, str]], tuple[str, Document]]] = {
    StatusNotice: _status_document,
    OwnerNotice: _owner_document,
    EscalationNotice: _escalation_document,
}


def render(notice: Notice) -> Message:
    """Write ``notice`` in its locale: subject, text, HTML and every chat markup, via the returned Message."""
    try:
        build = _BUILDERS[type(notice)]
    except KeyError:
        raise TypeError(f"render() takes a StatusNotice, OwnerNotice or EscalationNotice, not {type(notice).__name__}")
    subject, document = build(notice, TEXTS[notice.locale])
    return Message(
        notice_id=notice.notice_id,
        kind=notice.kind,
        locale=notice.locale,
        subject=subject,
        document=document,
        data=notice_data(notice),
    )
