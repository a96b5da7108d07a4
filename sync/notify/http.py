"""The HTTP channels' common part: one JSON POST with a timeout, redirects refused, answers sorted into
success, retryable and final failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from plugin.errors import parse_retry_after
from sync.notify.base import ChannelError, DeliveryResult, NotificationChannel, short_answer
from sync.notify.formats import CHAT_QUOTE_LIMIT, Flavour, Message

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "Cocreate-Notify/1"


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
        answer = short_answer(response.text)
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
                f"unexpected answer from {self.service} (HTTP {response.status_code}): {short_answer(response.text)}",
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
        text = short_answer(str(answer.get(text_key) or "no message"))
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
            response=short_answer(response.text),
        )


def fitted_markdown(message: Message, flavour: Flavour, fits: Callable[[str], bool]) -> str:
    """The message in ``flavour`` within a service's size limit: free-text quotes are shortened first, so
    the headline, links and footer survive; only a message that still does not fit is cut at the end."""
    for quote_limit in (CHAT_QUOTE_LIMIT, 600, 200, 50):
        text = message.markdown(flavour, quote_limit)
        if fits(text):
            return text
    return text


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
