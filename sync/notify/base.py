"""The notification channel contract: what a channel is (:class:`NotificationChannel`), what sending returns
(:class:`DeliveryResult`) and how it fails (:class:`ChannelError`); one module per channel implements it.

Each channel sends one rendered :class:`~sync.notify.formats.Message` and returns a :class:`DeliveryResult`, or
raises :class:`ChannelError` whose ``retryable`` tells the job queue whether trying later can help: timeouts,
refused connections, 5xx and rate limits can; a bad URL, a wrong secret or a message the service rejects
cannot, and the error carries the service's own words for the admin. Channels make one attempt each; the
job queue does the retrying. Bot URLs carry their credentials, so no error message ever contains a URL.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from sync.notify.formats import Message

_ANSWER_LIMIT = 300
NOTICE_ID_HEADER = "X-Cocreate-Notice-Id"
"""The header (and e-mail header) carrying a notice's id, the same on every retry."""


class ChannelError(Exception):
    """Sending failed. ``retryable`` is True when the same message may go through later (5xx, timeouts,
    429 and the bots' rate-limit codes); ``retry_after`` is the service's advice in seconds, if it gave one.
    ``code`` is the service's error code (HTTP status, SMTP reply code or a bot's errcode)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        channel: str = "",
        code: int | str | None = None,
        retry_after: float | None = None,
    ):
        self.message = message
        self.retryable = retryable
        self.channel = channel
        self.code = code
        self.retry_after = retry_after
        super().__init__(f"{channel}: {message}" if channel else message)


@dataclass(frozen=True)
class DeliveryResult:
    """What a channel did: ``target`` is safe to show and log (addresses, or the service's host, never a
    bot URL); ``delivery_key`` is the idempotency key sent with the message; ``response`` is the
    service's answer; ``refused`` lists e-mail recipients the server refused while accepting the others."""

    channel: str
    target: str
    notice_id: str
    delivery_key: str
    status: int | None
    response: str
    provider_id: str | None = None
    refused: tuple[str, ...] = ()


class NotificationChannel(ABC):
    """One place a notice can go. ``send`` makes one attempt and returns a DeliveryResult or raises
    ChannelError; it never retries by itself."""

    kind: ClassVar[str]

    @property
    @abstractmethod
    def target(self) -> str:
        """A description of the destination that is safe to log (no tokens, no passwords)."""

    @abstractmethod
    def _identity(self) -> str:
        """What makes this destination distinct (may hold secrets: it is only ever hashed)."""

    @abstractmethod
    def send(self, message: Message) -> DeliveryResult:
        """Deliver ``message`` once; raise ChannelError on failure."""

    def delivery_key(self, message: Message) -> str:
        """The idempotency key for ``message`` on this destination: the same on every retry."""
        basis = f"{message.notice_id}\n{self.kind}\n{self._identity()}"
        return hashlib.sha256(basis.encode()).hexdigest()[:40]

    def _error(self, message: str, *, retryable: bool, **extra: Any) -> ChannelError:
        return ChannelError(message, retryable=retryable, channel=self.kind, **extra)


class ChannelSettings(Protocol):
    """What ``plugin.settings.Channel`` provides."""

    kind: str
    to: list[str]
    url: str | None
    secret: str | None


def short_answer(text: str) -> str:
    """A service's answer on one line, cut to a length fit for logs and error messages."""
    text = " ".join(text.split())
    return text if len(text) <= _ANSWER_LIMIT else text[: _ANSWER_LIMIT - 1] + "…"
