"""The links Cocreate writes into tracker issues: back to the need's page, to the minutes its needs were
discussed in (body and Jira remote links), and signed links to Cocreate's copy of each screenshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.settings import Settings
from sync.ledger.store import MeetingMinutes, NeedMinutes
from sync.loop import mapping

if TYPE_CHECKING:
    from sync.runtime import Runtime


def link_global_id(settings, ref: str) -> str:
    """The Jira remote link ``globalId`` for a need: stable, so a repeat updates instead of duplicating."""
    return f"cocreate:{settings.base_url.rstrip('/')}:need:{ref}"


def attachment_serializer(runtime: Runtime) -> URLSafeSerializer:
    return URLSafeSerializer(runtime.secret_key, salt="cocreate-attachment")


def attachment_url(runtime: Runtime, attachment_id: int) -> str:
    """A signed, unguessable link to Cocreate's own copy of a screenshot (GitHub has no attachment API)."""
    token = attachment_serializer(runtime).dumps(attachment_id)
    return f"{runtime.settings.base_url.rstrip('/')}/files/{token}"


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
