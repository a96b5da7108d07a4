"""Intake and edits: store a checked need (and its screenshots) first, then queue its sync to the tracker."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from plugin.need import NeedInput
from sync.ledger.edits import SCREENSHOTS, FieldChange, change_fields, edits_since
from sync.ledger.store import Attachment, Need, StatusChange, utcnow
from sync.loop.outbound import sync_state_at_intake
from sync.projects.paging import page_contacts

if TYPE_CHECKING:
    from sync.runtime import Runtime

IMAGE_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


class InvalidUpload(ValueError):
    """An uploaded file is not an image Cocreate accepts, or (``too_large``) is larger than allowed."""

    def __init__(self, message: str, too_large: bool = False, too_many: bool = False):
        super().__init__(message)
        self.too_large, self.too_many = too_large, too_many


def check_screenshot_count(count: int, most: int) -> None:
    """A need keeps at most ``most`` screenshots (``screenshots_max``): an issue body lists them all, and a
    tracker refuses a body past its limit."""
    if count > most:
        raise InvalidUpload(f"{count} screenshots: a need keeps at most {most}", too_many=True)


@dataclass(frozen=True)
class Upload:
    """A screenshot as received: original file name and bytes."""

    filename: str
    data: bytes


def sniff_image(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes (never from the name or the browser's word)."""
    for content_type, signatures in IMAGE_TYPES.items():
        if any(data.startswith(signature) for signature in signatures):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    return None


def check_uploads(uploads: list[Upload], max_bytes: int) -> list[tuple[Upload, str]]:
    """Check every upload before anything is stored; returns each with its sniffed content type."""
    checked = []
    for upload in uploads:
        if len(upload.data) > max_bytes:
            raise InvalidUpload(f"{upload.filename}: larger than {max_bytes // (1024 * 1024)} MB", too_large=True)
        content_type = sniff_image(upload.data)
        if content_type is None:
            raise InvalidUpload(f"{upload.filename}: not a PNG, JPEG, GIF or WebP image")
        checked.append((upload, content_type))
    return checked


def format_ref(number: int) -> str:
    return f"N-{number:04d}"


def create_need(runtime: Runtime, need_input: NeedInput, uploads: list[Upload] = (),
                created_by: str | None = None, project_id: int | None = None) -> Need:
    """Store the need with its screenshots and its ``sync_need`` job in one transaction, then queue the job.

    The need is committed before any tracker call, so a submitted need is never lost; if the process dies or
    the queue's storage is down before the job is queued, the heartbeat sweep queues it from the ledger. With
    no tracker configured there is no job: the need waits for one (``resume_syncs``). ``project_id`` puts it in
    a co-creation project (checked by ``sync.ledger.projects.project_id_for``).
    """
    check_screenshot_count(len(uploads), runtime.settings.screenshots_max)
    checked = check_uploads(list(uploads), runtime.settings.upload_max_bytes)
    written: list[Path] = []
    try:
        with runtime.Session.begin() as session:
            fields = asdict(need_input)
            need = Need(ref=f"tmp-{uuid.uuid4().hex[:20]}", status=runtime.settings.initial_status,
                        sync_state=sync_state_at_intake(runtime), created_by=created_by, version=1,
                        project_id=project_id, **fields)
            session.add(need)
            session.flush()
            need.ref = format_ref(need.id)
            need.attachments.extend(_store_uploads(runtime, need.ref, checked, written))
            need.history.append(StatusChange(status=need.status, previous=None, source="cs", actor=created_by,
                                             note="", at=utcnow()))
            jobs = _sync_job(runtime, session, need) + page_contacts(runtime, session, need)
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    runtime.queue.send(*jobs)
    return need


TRACKER_FIELDS = frozenset({"category", "title", "description", "urgency", "reporter_name", "reported_at",
                            "owner", "remarks", "stage", "customer", "linked_to", SCREENSHOTS})
"""What the tracker issue shows of a need (``sync.loop.mapping.NeedView``, the link and the screenshots): an
edit of any other field (the reporter's e-mail or channel) stays in Cocreate and queues no sync."""


KEEP_PROJECT = object()
"""``update_need(project_id=KEEP_PROJECT)``: the edit leaves the need's project as it is."""


class NeedConflict(Exception):
    """Someone saved the need after the version an edit started from; nothing of the edit was saved.

    ``edits`` are the changes saved since (oldest first), ``current`` the version the need is at now."""

    def __init__(self, ref: str, expected: int, current: int, edits: list[FieldChange]):
        super().__init__(f"{ref} is at version {current}, not {expected}: someone saved it since")
        self.ref, self.expected, self.current, self.edits = ref, expected, current, edits


@dataclass(frozen=True)
class NeedUpdate:
    """What an edit did: the need as saved, and the fields it changed (none when it changed nothing)."""

    need: Need
    changed: list[str]

    @property
    def synced(self) -> bool:
        """Whether the edit touched what the tracker shows, so that the need's sync was queued."""
        return bool(TRACKER_FIELDS & set(self.changed))


def update_need(runtime: Runtime, ref: str, need_input: NeedInput, actor: str | None = None, *,
                version: int | None = None, uploads: list[Upload] = (), remove: Iterable[int] = (),
                source: str = "cs", project_id: int | None | object = KEEP_PROJECT) -> NeedUpdate:
    """Apply an edit of a need (every field checked again by ``validate_need``): the fields that differ, the
    screenshots ``uploads`` added and those with ids in ``remove`` removed, each change kept in the field history.

    ``version`` is the version the editor started from: when someone saved since, :class:`NeedConflict` is
    raised and nothing is written. The need's ``sync_need`` is queued only when what the tracker shows changed;
    its sync then writes only what differs. Uploads are checked before anything is stored (``InvalidUpload``).
    ``project_id`` (an id, or None for none) moves the need to a co-creation project; left out, it stays.
    """
    checked = check_uploads(list(uploads), runtime.settings.upload_max_bytes)
    written: list[Path] = []
    try:
        with runtime.Session.begin() as session:
            _claim_version(session, ref, version)
            need = session.scalars(select(Need).where(Need.ref == ref)
                                   .options(selectinload(Need.attachments))).one()
            removing = set(remove)
            gone = [attachment for attachment in need.attachments if attachment.id in removing]
            check_screenshot_count(len(need.attachments) - len(gone) + len(checked), runtime.settings.screenshots_max)
            added = _store_uploads(runtime, need.ref, checked, written)
            values = asdict(need_input) | ({} if project_id is KEEP_PROJECT else {"project_id": project_id})
            changed = change_fields(session, need, values, source=source, actor=actor,
                                    screenshots=([a.filename for a in added], [a.filename for a in gone]))
            for attachment in gone:
                need.attachments.remove(attachment)
            need.attachments.extend(added)
            jobs = []
            if TRACKER_FIELDS & set(changed):
                need.sync_state = sync_state_at_intake(runtime)
                jobs = _sync_job(runtime, session, need)
            if {"urgency", "project_id"} & set(changed):  # raised to the most urgent, or moved into a project
                jobs += page_contacts(runtime, session, need)
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for attachment in gone:  # only once the removal is committed: a failed save loses no file
        (runtime.uploads / attachment.stored_name).unlink(missing_ok=True)
    runtime.queue.send(*jobs)
    return NeedUpdate(need, changed)


def _claim_version(session, ref: str, version: int | None) -> None:
    """Lock the need's row for this save and check it is still at ``version`` (None: any version).

    The guarded write comes first in the transaction on purpose: it takes the row's (on SQLite the database's)
    write lock before anything is read, so of two editors saving the same version at once the second waits, then
    finds the new version and is told of the conflict instead of overwriting the first."""
    guard = update(Need).where(Need.ref == ref)
    if version is not None:
        guard = guard.where(Need.version == version)
    # Writing the values the row has: a save that changes nothing leaves the need (and its updated_at) as it was.
    won = session.execute(guard.values(version=Need.version, updated_at=Need.updated_at)
                          .execution_options(synchronize_session=False)).rowcount
    if won:
        return
    need = session.scalars(select(Need).where(Need.ref == ref)).one()  # NoResultFound: no such need
    raise NeedConflict(ref, version, need.version, edits_since(session, need.id, version))


def _store_uploads(runtime: Runtime, ref: str, checked: list[tuple[Upload, str]],
                   written: list[Path]) -> list[Attachment]:
    """Write checked screenshots under the uploads folder (each path added to ``written``, for the caller to
    remove should the transaction fail); returns their rows, not yet attached to the need."""
    runtime.uploads.mkdir(parents=True, exist_ok=True)
    rows = []
    for upload, content_type in checked:
        stored_name = f"{ref}-{uuid.uuid4().hex}{_suffix(content_type)}"
        (runtime.uploads / stored_name).write_bytes(upload.data)
        written.append(runtime.uploads / stored_name)
        rows.append(Attachment(
            filename=upload.filename[:255] or "screenshot", stored_name=stored_name,
            content_type=content_type, size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
        ))
    return rows


def _sync_job(runtime: Runtime, session, need: Need) -> list:
    """The need's ``sync_need`` job, recorded in ``session``; none while no tracker is configured."""
    if runtime.settings.tracker is None:
        return []
    return [runtime.queue.record(session, "sync_need", need.ref, ref=need.ref)]


def _suffix(content_type: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}[content_type]
