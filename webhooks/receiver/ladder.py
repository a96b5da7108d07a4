"""The boundary ladder every tracker receiver climbs, one small step per function.

signature/secret (401) -> required headers (400) -> size (413) -> JSON (400) -> dedupe by delivery id -> dispatch:
ignored 202 · unsupported 202 + log · anomalous 400 + log · handled 202 (delivery stored, job queued).

Two steps cannot keep the textbook order literally: the HMAC is computed over the body, so the body is read (capped
at ``max_body_bytes``, hence a 413 can come before the signature is checked), and required headers are looked at
only once the request is authenticated, so an unsigned caller learns nothing but 401. Classifying the payload is
pure and happens before the INSERT that deduplicates, because the row records the outcome; a duplicate neither
queues a job nor logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Response, request

from plugin.need import storable
from sync.jobs import inbox
from sync.jobs.logs import log_context
from webhooks.context import runtime

unsupported_log = logging.getLogger("cocreate.webhooks.unsupported")
anomalous_log = logging.getLogger("cocreate.webhooks.anomalous")

APPLY_JOB = "apply_issue_change"
DELIVERY_ID_MAX = 200
"""``deliveries.delivery_id`` column width."""
EVENT_MAX = 100
"""``deliveries.event`` column width."""
ISSUE_KEY_MAX = 300
"""``deliveries.issue_key`` column width."""


class Refused(Exception):
    """A request turned away before dispatch: the HTTP status, a short code and a message the sender can act on."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


class AnomalousPayload(Exception):
    """A handler could not find what its event always carries (e.g. the issue); answered 400 and logged."""


class IgnoredPayload(Exception):
    """A handler recognised a delivery of a handled event that has nothing for Cocreate (answered 202, silent)."""


Handler = Callable[[Mapping[str, Any]], str]
"""Payload of a handled event -> its issue key; may raise :class:`AnomalousPayload` or :class:`IgnoredPayload`."""


@dataclass(frozen=True)
class Verdict:
    """What a delivery is: its event, its outcome (``queued``, ``ignored``, ``unsupported``) and the issue it names."""

    event: str
    outcome: str
    issue_key: str | None = None


# Signature and secret (401) ---------------------------------------------------------------------


def not_configured(tracker: str, setting: str) -> Refused:
    return Refused(401, "not_configured",
                   f"the {tracker} webhook receiver is not configured: set {setting} in Cocreate's configuration")


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings (encoded first: ``compare_digest`` refuses non-ASCII ``str``)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC-SHA256 of body keyed with secret>`` (GitHub and Jira alike)."""
    expected = "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return same_secret(header.strip().lower(), expected)


# Required headers (400) -------------------------------------------------------------------------


def required_header(name: str, max_length: int) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise Refused(400, "missing_header", f"the {name} header is missing")
    if len(value) > max_length:
        raise Refused(400, "bad_header", f"the {name} header is longer than {max_length} characters")
    return value


# Size (413) -------------------------------------------------------------------------------------


def read_body(max_bytes: int) -> bytes:
    """The raw body, refusing anything over ``max_bytes`` without reading (or hashing) more than one byte past it."""
    too_large = Refused(413, "too_large", f"the body is larger than webhooks.max_body_bytes ({max_bytes} bytes)")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    stream = request.stream
    chunks: list[bytes] = []
    received = 0
    # A WSGI stream may return fewer bytes than asked for; keep reading until EOF or one byte too many.
    while received <= max_bytes:
        chunk = stream.read(max_bytes + 1 - received)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
    if received > max_bytes:
        raise too_large
    return b"".join(chunks)


# JSON (400) -------------------------------------------------------------------------------------


def parse_json(body: bytes, source: str, delivery_id: str) -> dict[str, Any]:
    """The body as a JSON object; 400 when it is not JSON (a sender misconfiguration) or not an object (anomalous)."""
    if request.mimetype == "application/x-www-form-urlencoded":
        raise Refused(400, "misconfigured",
                      "the body is form-encoded: set the webhook's content type to application/json")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson is strict where the json module is lenient (UTF-16 and UTF-32 bodies, a byte-order mark, lone
        # surrogate escapes, integers past 64 bits, NaN): such a body is parsed as the json module parses it.
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Refused(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise anomalous(source, delivery_id, f"the body is a JSON {type(payload).__name__}, not an object")
    return payload


# Dispatch ---------------------------------------------------------------------------------------


def anomalous(source: str, delivery_id: str, reason: str) -> Refused:
    """Log an unrecognisable delivery on its own logger and return the 400 to raise."""
    anomalous_log.warning("%s delivery %s is anomalous: %s", source, delivery_id, reason)
    return Refused(400, "anomalous", reason)


def classify(source: str, delivery_id: str, event: str, payload: Mapping[str, Any],
             handled: Mapping[str, Handler], ignored: Collection[str]) -> Verdict:
    """Sort a delivery by the tracker's declared tables; ``ignored`` may name a whole event (``installation``)."""
    if not storable(event):
        raise anomalous(source, delivery_id, "the event name holds a NUL character or an unpaired surrogate")
    handler = handled.get(event)
    if handler is None:
        if event in ignored or event.partition(".")[0] in ignored:
            return Verdict(event[:EVENT_MAX], "ignored")
        return Verdict(event[:EVENT_MAX], "unsupported")
    try:
        issue_key = handler(payload)
    except IgnoredPayload:
        return Verdict(event, "ignored")
    except AnomalousPayload as exc:
        raise anomalous(source, delivery_id, f"{event}: {exc}") from exc
    if len(issue_key) > ISSUE_KEY_MAX:
        raise anomalous(source, delivery_id, f"{event}: the issue key is longer than {ISSUE_KEY_MAX} characters")
    if not storable(issue_key):
        raise anomalous(source, delivery_id, f"{event}: the issue key holds a NUL character or an unpaired surrogate")
    return Verdict(event, "queued", issue_key)


def accept(source: str, delivery_id: str, verdict: Verdict, payload: Mapping[str, Any], body: bytes,
           job_name: str = APPLY_JOB):
    """Store the delivery (deduplicating by its id), queue the job ``job_name`` for a handled one, and answer."""
    with log_context(delivery_id=delivery_id, source=source, event=verdict.event, issue_key=verdict.issue_key):
        return _accept(inbox.Arrival(source, delivery_id, verdict.event, verdict.outcome, verdict.issue_key,
                                     payload, body), job_name)


def _accept(arrival: inbox.Arrival, job_name: str):
    rt = runtime()
    job = (rt.queue.pending(job_name, arrival.source, arrival.issue_key, ref=arrival.issue_key)
           if arrival.outcome == "queued" else None)
    # The job commits with the delivery and is pushed after (a duplicate delivery id writes and pushes neither).
    if not rt.inbox.keep(arrival, job):
        return answer(200, result="duplicate", delivery=arrival.delivery_id)
    if arrival.outcome == "unsupported":
        unsupported_log.warning("%s delivery %s: event %s is not supported; unsubscribe the webhook from it",
                                arrival.source, arrival.delivery_id, arrival.event)
    if job is None:
        return answer(202, result=arrival.outcome, event=arrival.event)
    return answer(202, result="queued", event=arrival.event, issue_key=arrival.issue_key)


def answer(status: int, **fields: str | None) -> Response:
    """A small JSON answer, built directly (the receiver's hot path; ``jsonify`` costs more than the encoding)."""
    return Response(orjson.dumps(fields), status=status, mimetype="application/json")


def refused(refusal: Refused):
    """The answer to a :class:`Refused` request."""
    return answer(refusal.status, error=refusal.error, message=refusal.message)
