"""The links Cocreate writes into tracker issues: back to the need's page, to the minutes its needs were
discussed in (body and Jira remote links), and signed links to Cocreate's copy of each screenshot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.settings import Settings
from sync.ledger.store import Attachment, MeetingMinutes, NeedMinutes
from sync.loop import mapping

if TYPE_CHECKING:
    from sync.runtime import Runtime


def link_global_id(settings, ref: str) -> str:
    """The Jira remote link ``globalId`` for a need: stable, so a repeat updates instead of duplicating."""
    return f"cocreate:{settings.base_url.rstrip('/')}:need:{ref}"


LEGACY_KEY_ID = "legacy"
"""The key id of links made before key ids: ``/files/<token>``, the attachment id signed with ``secret_key``."""


def attachment_serializer(runtime: Runtime, key_id: str = LEGACY_KEY_ID) -> URLSafeSerializer:
    """The signer of screenshot links with key ``key_id``: its key is derived from ``secret_key`` and the id."""
    salt = "cocreate-attachment" if key_id == LEGACY_KEY_ID else f"cocreate-attachment:{key_id}"
    return URLSafeSerializer(runtime.secret_key, salt=salt)


def _seconds(moment: dt.datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp())


def attachment_url(runtime: Runtime, attachment: Attachment) -> str:
    """A signed, unguessable link to Cocreate's own copy of a screenshot (GitHub has no attachment API).

    The link signs the attachment's id and upload time with the current key (``files.key_id``): the same
    attachment always gets the same link under one key, so rebuilding an issue body changes nothing."""
    key_id = runtime.settings.files.key_id
    token = attachment_serializer(runtime, key_id).dumps([attachment.id, _seconds(attachment.created_at)])
    return f"{runtime.settings.base_url.rstrip('/')}/files/{key_id}/{token}"


def attachment_for_link(runtime: Runtime, session: Session, key_id: str, token: str) -> Attachment | None:
    """The attachment a screenshot link points to, or None when the link is forged, signed with a revoked key,
    past ``files.link_max_age_days`` since the upload, or its attachment is gone."""
    files = runtime.settings.files
    if key_id in files.revoked_key_ids or (key_id != LEGACY_KEY_ID and key_id != files.key_id):
        return None
    try:
        payload = attachment_serializer(runtime, key_id).loads(token)
    except BadSignature:
        return None
    if key_id == LEGACY_KEY_ID:
        attachment_id, uploaded = payload, None
    else:
        attachment_id, uploaded = payload
    attachment = session.get(Attachment, attachment_id) if isinstance(attachment_id, int) else None
    if attachment is None or (uploaded is not None and uploaded != _seconds(attachment.created_at)):
        return None  # a link to an attachment since deleted must not show one that took its id
    if files.link_max_age_days is not None:
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromtimestamp(_seconds(attachment.created_at), dt.UTC)
        if age > dt.timedelta(days=files.link_max_age_days):
            return None
    return attachment


def minutes_url(settings: Settings, minutes_id: int) -> str:
    return f"{settings.base_url.rstrip('/')}/minutes/{minutes_id}"


def minutes_global_id(settings: Settings, minutes_id: int) -> str:
    """The Jira remote link ``globalId`` for a minutes page: stable, so a repeat updates in place."""
    return f"cocreate:{settings.base_url.rstrip('/')}:minutes:{minutes_id}"


@dataclass(frozen=True)
class MinutesLink:
    """A link from an issue to a minutes page: in the body (``link``) and as a Jira remote link."""

    global_id: str
    link: mapping.Link
    title: str


def minutes_link(settings: Settings, minutes: MeetingMinutes) -> MinutesLink:
    text = f"{minutes.meeting_date.isoformat()} · {minutes.topic}"
    title = f"{mapping.label('minutes', settings.locale)} · {text}"[:255]
    return MinutesLink(minutes_global_id(settings, minutes.id), mapping.Link(text, minutes_url(settings, minutes.id)),
                       title)


def links_for_needs(session: Session, settings: Settings, need_ids: list[int]) -> list[MinutesLink]:
    """Links to every minutes page linked to any of ``need_ids`` (the needs one issue serves), by meeting date."""
    if not need_ids:
        return []
    rows = session.scalars(
        select(MeetingMinutes).where(MeetingMinutes.id.in_(
            select(NeedMinutes.minutes_id).where(NeedMinutes.need_id.in_(need_ids))))
        .order_by(MeetingMinutes.meeting_date, MeetingMinutes.id))
    return [minutes_link(settings, row) for row in rows]
