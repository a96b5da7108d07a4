"""A generic JSON webhook, signed with HMAC-SHA256 (``X-Cocreate-Signature``) and timestamped."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from sync.notify.base import NOTICE_ID_HEADER, DeliveryResult
from sync.notify.formats import Message
from sync.notify.http import HttpChannel, json_body

SIGNATURE_HEADER = "X-Cocreate-Signature"
TIMESTAMP_HEADER = "X-Cocreate-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def webhook_signature(secret: str, body: bytes) -> str:
    """The ``X-Cocreate-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook_signature(
    secret: str, body: bytes, signature: str | None, timestamp: str | None = None, max_age: float | None = 300.0
) -> bool:
    """For receivers: is ``signature`` right for ``body``, and (when given) is ``timestamp`` recent and the
    same as the ``sent_at`` inside the signed body? Constant-time comparison."""
    if not signature or not hmac.compare_digest(webhook_signature(secret, body), signature):
        return False
    if timestamp is None:
        return True
    try:
        sent_at = json.loads(body).get("sent_at")
        age = time.time() - int(timestamp)
    except (ValueError, AttributeError, TypeError):
        return False
    return str(sent_at) == timestamp and (max_age is None or abs(age) <= max_age)


class WebhookChannel(HttpChannel):
    """A generic JSON webhook. The body carries the notice in every format plus its fields; with a secret,
    ``X-Cocreate-Signature: sha256=<hex HMAC of the raw body>``. ``X-Cocreate-Timestamp`` equals the
    body's signed ``sent_at`` (so a replay cannot move it), and ``Idempotency-Key`` stays the same across
    retries of one notice to one URL. Any 2xx is success."""

    kind = "webhook"
    service = "the webhook"

    def body(self, message: Message, sent_at: int | None = None) -> bytes:
        sent_at = int(time.time()) if sent_at is None else sent_at
        return json_body(
            {
                "type": "cocreate.notice",
                "id": message.notice_id,
                "delivery_key": self.delivery_key(message),
                "kind": message.kind,
                "locale": message.locale,
                "sent_at": sent_at,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "markdown": message.markdown("commonmark"),
                "data": dict(message.data),
            }
        )

    def send(self, message: Message) -> DeliveryResult:
        sent_at = int(time.time())
        body = self.body(message, sent_at)
        headers = {
            TIMESTAMP_HEADER: str(sent_at),
            NOTICE_ID_HEADER: message.notice_id,
            IDEMPOTENCY_HEADER: self.delivery_key(message),
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = webhook_signature(self.secret, body)
        response = self._post(self.url, body, headers)
        return self._result(message, response)
