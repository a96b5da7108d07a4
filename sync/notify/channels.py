"""Notification channels: WeCom, DingTalk, Feishu and Slack bots, a signed generic webhook, and (in
``sync.notify.smtp``) e-mail.

Each channel sends one rendered :class:`~sync.notify.formats.Message` and returns a :class:`DeliveryResult`, or
raises :class:`ChannelError` whose ``retryable`` tells the job queue whether trying later can help: timeouts,
refused connections, 5xx and rate limits can; a bad URL, a wrong secret or a message the service rejects
cannot, and the error carries the service's own words for the admin. Channels make one attempt each; the
job queue does the retrying. Bot URLs carry their credentials, so no error message ever contains a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlencode, urlsplit

import requests

from plugin.errors import parse_retry_after
from sync.notify.formats import CHAT_QUOTE_LIMIT, Flavour, Message, clip, escape

if TYPE_CHECKING:
    from sync.notify.smtp import SmtpSettings

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "Cocreate-Notify/1"
_ANSWER_LIMIT = 300


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


# HTTP -----------------------------------------------------------------------------------------------


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _ANSWER_LIMIT else text[: _ANSWER_LIMIT - 1] + "…"


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes on a character boundary, ending in "…" when cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", errors="ignore") + "…"


class HttpChannel(NotificationChannel):
    """A channel that POSTs JSON to a URL: one attempt, ``timeout`` seconds, redirects not followed."""

    service: ClassVar[str] = "the service"

    def __init__(self, url: str, secret: str | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelError(f"the {self.kind} URL must be an http(s) URL", retryable=False, channel=self.kind)
        self.url = url
        self.secret = secret
        self.timeout = timeout

    @property
    def target(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    def _identity(self) -> str:
        return self.url

    def _post(self, url: str, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
        """POST once; transport failures and HTTP errors become ChannelError (with no URL in the text)."""
        all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **(headers or {})}
        try:
            response = requests.post(
                url, data=body, headers=all_headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise self._error(f"{self.target} did not answer within {self.timeout:g} s", retryable=True) from exc
        except requests.ConnectionError as exc:
            raise self._error(f"could not connect to {self.target}", retryable=True) from exc
        except requests.RequestException as exc:
            raise self._error(f"could not send to {self.target}: {type(exc).__name__}", retryable=False) from exc
        self._check_status(response)
        return response

    def _check_status(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        answer = _short(response.text)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise self._error(
                f"{self.service} asked to slow down (HTTP 429): {answer}",
                retryable=True,
                code=status,
                retry_after=retry_after,
            )
        if status >= 500 or status == 408:
            raise self._error(f"{self.service} failed (HTTP {status}): {answer}", retryable=True, code=status)
        if status < 400:
            # Following a redirect would turn the POST into a GET; the configured URL is out of date.
            raise self._error(
                f"{self.service} redirected the request (HTTP {status}); update the channel URL",
                retryable=False,
                code=status,
            )
        raise self._error(
            f"{self.service} rejected the message (HTTP {status}): {answer}", retryable=False, code=status
        )

    def _json_answer(self, response: requests.Response) -> dict[str, Any]:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise self._error(
                f"unexpected answer from {self.service} (HTTP {response.status_code}): {_short(response.text)}",
                retryable=False,
                code=response.status_code,
            )
        return answer

    def _check_code(
        self, answer: dict[str, Any], code_key: str, text_key: str, retryable: dict[int, float | None]
    ) -> None:
        """Bots answer HTTP 200 with their own code: 0 is success; ``retryable`` maps the codes worth another
        try to the wait the service asks for (None when it names none)."""
        code = answer.get(code_key)
        if code == 0:
            return
        text = _short(str(answer.get(text_key) or "no message"))
        if code is None:
            raise self._error(f"unexpected answer from {self.service}: {text}", retryable=False)
        raise self._error(
            f"{self.service} refused the message: {text} ({code_key} {code})",
            retryable=code in retryable,
            code=code,
            retry_after=retryable.get(code),
        )

    def _result(self, message: Message, response: requests.Response) -> DeliveryResult:
        return DeliveryResult(
            channel=self.kind,
            target=self.target,
            notice_id=message.notice_id,
            delivery_key=self.delivery_key(message),
            status=response.status_code,
            response=_short(response.text),
        )


def fitted_markdown(message: Message, flavour: Flavour, fits: Callable[[str], bool]) -> str:
    """The message in ``flavour`` within a service's size limit: free-text quotes are shortened first, so
    the headline, links and footer survive; only a message that still does not fit is cut at the end."""
    for quote_limit in (CHAT_QUOTE_LIMIT, 600, 200, 50):
        text = message.markdown(flavour, quote_limit)
        if fits(text):
            return text
    return text


def _json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# WeCom ----------------------------------------------------------------------------------------------


class WeComChannel(HttpChannel):
    """A WeCom (企业微信) group bot: ``msgtype: markdown``; success is ``errcode == 0``.

    The bot allows 20 messages a minute; errcode 45009 (rate limit) and -1 (system busy) are worth a retry.
    Markdown content is capped at 4096 bytes of UTF-8.
    """

    kind = "wecom"
    service = "WeCom"
    MAX_BYTES = 4096
    RETRYABLE_CODES = {-1: None, 45009: 60.0}

    def send(self, message: Message) -> DeliveryResult:
        content = fitted_markdown(message, "wecom", lambda text: len(text.encode()) <= self.MAX_BYTES)
        content = truncate_utf8(content, self.MAX_BYTES)
        response = self._post(self.url, _json_body({"msgtype": "markdown", "markdown": {"content": content}}))
        self._check_code(self._json_answer(response), "errcode", "errmsg", self.RETRYABLE_CODES)
        return self._result(message, response)


# DingTalk -------------------------------------------------------------------------------------------


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL encoding."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()).decode()


class DingTalkChannel(HttpChannel):
    """A DingTalk (钉钉) custom robot: ``msgtype: markdown``; with a secret, signed by ``timestamp`` and
    ``sign`` query parameters (milliseconds; DingTalk accepts them for one hour).

    The robot allows 20 messages a minute and then throttles for 10 minutes (errcode 130101).
    """

    kind = "dingtalk"
    service = "DingTalk"
    MAX_TEXT = 5000
    MAX_TITLE = 64
    RETRYABLE_CODES = {-1: None, 130101: 600.0}

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        query = urlencode({"timestamp": timestamp_ms, "sign": dingtalk_signature(self.secret, timestamp_ms)})
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def send(self, message: Message) -> DeliveryResult:
        text = fitted_markdown(message, "dingtalk", lambda markdown: len(markdown) <= self.MAX_TEXT)
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject[: self.MAX_TITLE], "text": clip(text, self.MAX_TEXT)},
            "at": {"isAtAll": False},
        }
        response = self._post(self.signed_url(), _json_body(payload))
        self._check_code(self._json_answer(response), "errcode", "errmsg", self.RETRYABLE_CODES)
        return self._result(message, response)


# Feishu ---------------------------------------------------------------------------------------------


def feishu_signature(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")). Note the key is the
    string to sign and the message is empty, the reverse of DingTalk."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuChannel(HttpChannel):
    """A Feishu (飞书) custom bot: ``msg_type: post`` (rich text); with a secret, ``timestamp`` (seconds)
    and ``sign`` go in the JSON body. Success is ``code == 0`` (older bots answer ``StatusCode``).

    The bot allows 100 messages a minute and 5 a second; 11232 is its rate-limit code. Bodies over 20 KB are
    refused, which the chat renderers stay well under by capping free text.
    """

    kind = "feishu"
    service = "Feishu"
    RETRYABLE_CODES = {11232: 60.0}

    def payload(self, message: Message, timestamp_s: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if self.secret:
            timestamp_s = int(time.time()) if timestamp_s is None else timestamp_s
            payload = {"timestamp": str(timestamp_s), "sign": feishu_signature(self.secret, timestamp_s)}
        payload.update({"msg_type": "post", "content": {"post": message.feishu_post()}})
        return payload

    def send(self, message: Message) -> DeliveryResult:
        response = self._post(self.url, _json_body(self.payload(message)))
        answer = self._json_answer(response)
        code_key = "code" if "code" in answer else "StatusCode"
        text_key = "msg" if "msg" in answer else "StatusMessage"
        self._check_code(answer, code_key, text_key, self.RETRYABLE_CODES)
        return self._result(message, response)

    def _check_status(self, response: requests.Response) -> None:
        # Feishu's gateway sends 429 with x-ogw-ratelimit-reset (seconds) instead of Retry-After.
        if response.status_code == 429 and "Retry-After" not in response.headers:
            reset = parse_retry_after(response.headers.get("x-ogw-ratelimit-reset"))
            raise self._error(
                f"Feishu asked to slow down (HTTP 429): {_short(response.text)}",
                retryable=True,
                code=429,
                retry_after=reset,
            )
        super()._check_status(response)


# Slack ----------------------------------------------------------------------------------------------


class SlackChannel(HttpChannel):
    """A Slack incoming webhook: ``text`` (the notification fallback) plus one mrkdwn section block.

    Slack answers ``ok`` on success, a 4xx with a reason such as ``invalid_payload`` or
    ``channel_is_archived`` when it refuses, and 429 with ``Retry-After`` when posting too fast.
    """

    kind = "slack"
    service = "Slack"
    MAX_SECTION = 3000

    def payload(self, message: Message) -> dict[str, Any]:
        body = clip(fitted_markdown(message, "slack", lambda text: len(text) <= self.MAX_SECTION), self.MAX_SECTION)
        # "text" is what Slack shows in notifications when blocks are present.
        return {
            "text": escape(message.subject, "slack"),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}],
        }

    def send(self, message: Message) -> DeliveryResult:
        response = self._post(self.url, _json_body(self.payload(message)))
        if response.text.strip() != "ok":
            raise self._error(f"unexpected answer from Slack: {_short(response.text)}", retryable=False)
        return self._result(message, response)


# Generic webhook --------------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Cocreate-Signature"
TIMESTAMP_HEADER = "X-Cocreate-Timestamp"
NOTICE_ID_HEADER = "X-Cocreate-Notice-Id"
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
        return _json_body(
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


# Factory --------------------------------------------------------------------------------------------


class ChannelSettings(Protocol):
    """What ``plugin.settings.Channel`` provides."""

    kind: str
    to: list[str]
    url: str | None
    secret: str | None


_HTTP_CHANNELS: dict[str, type[HttpChannel]] = {
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
    "slack": SlackChannel,
    "webhook": WebhookChannel,
}


def channel_for(
    channel: ChannelSettings, smtp: SmtpSettings | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> NotificationChannel:
    """The channel object for one configured customer channel. ``smtp`` (a SmtpSettings) is needed only for
    e-mail; without it an e-mail channel raises a non-retryable ChannelError naming the missing section."""
    if channel.kind == "email":
        from sync.notify.smtp import EmailChannel

        if smtp is None:
            raise ChannelError(
                "notifications.smtp is not configured, so e-mail cannot be sent", retryable=False, channel="email"
            )
        return EmailChannel(channel.to, smtp)
    try:
        cls = _HTTP_CHANNELS[channel.kind]
    except KeyError:
        raise ChannelError(f"unknown channel kind {channel.kind!r}", retryable=False) from None
    if not channel.url:
        raise ChannelError(f"a {channel.kind} channel needs a url", retryable=False, channel=channel.kind)
    return cls(channel.url, channel.secret, timeout=timeout)
