"""Intake: store a checked need (and its screenshots) first, then queue its sync to the tracker."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from plugin.need import NeedInput
from sync.ledger.store import Attachment, Need, StatusChange, utcnow
from sync.loop.outbound import sync_state_at_intake

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

    def __init__(self, message: str, too_large: bool = False):
        super().__init__(message)
        self.too_large = too_large


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
                created_by: str | None = None) -> Need:
    """Store the need with its screenshots and its ``sync_need`` job in one transaction, then queue the job.

    The need is committed before any tracker call, so a submitted need is never lost; if the process dies or
    the queue's storage is down before the job is queued, the heartbeat sweep queues it from the ledger. With
    no tracker configured there is no job: the need waits for one (``resume_syncs``).
    """
    checked = check_uploads(list(uploads), runtime.settings.upload_max_bytes)
    runtime.uploads.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        with runtime.Session.begin() as session:
            fields = asdict(need_input)
            need = Need(ref=f"tmp-{uuid.uuid4().hex[:20]}", status=runtime.settings.initial_status,
                        sync_state=sync_state_at_intake(runtime), created_by=created_by, **fields)
            session.add(need)
            session.flush()
            need.ref = format_ref(need.id)
            for upload, content_type in checked:
                stored_name = f"{need.ref}-{uuid.uuid4().hex}{_suffix(content_type)}"
                (runtime.uploads / stored_name).write_bytes(upload.data)
                written.append(runtime.uploads / stored_name)
                need.attachments.append(Attachment(
                    filename=upload.filename[:255] or "screenshot", stored_name=stored_name,
                    content_type=content_type, size=len(upload.data),
                    sha256=hashlib.sha256(upload.data).hexdigest(),
                ))
            need.history.append(StatusChange(status=need.status, previous=None, source="cs", actor=created_by,
                                             note="", at=utcnow()))
            jobs = _sync_job(runtime, session, need)
    except Exception:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    runtime.queue.send(*jobs)
    return need


def update_need(runtime: Runtime, ref: str, need_input: NeedInput, actor: str | None = None) -> Need:
    """Apply CS's edit of a need (every field checked again by ``validate_need``), then queue its sync."""
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == ref)).one()
        for name, value in asdict(need_input).items():
            if getattr(need, name) != value:
                setattr(need, name, value)
        if session.is_modified(need):
            need.sync_state = sync_state_at_intake(runtime)
        jobs = _sync_job(runtime, session, need)
    runtime.queue.send(*jobs)
    return need


def _sync_job(runtime: Runtime, session, need: Need) -> list:
    """The need's ``sync_need`` job, recorded in ``session``; none while no tracker is configured."""
    if runtime.settings.tracker is None:
        return []
    return [runtime.queue.record(session, "sync_need", need.ref, ref=need.ref)]


def _suffix(content_type: str) -> str:
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}[content_type]
