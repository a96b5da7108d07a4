"""Feishu (飞书) custom bot with 签名校验 signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import requests

from plugin.errors import parse_retry_after
from sync.notify.base import DeliveryResult, short_answer
from sync.notify.formats import Message
from sync.notify.http import HttpChannel, json_body


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
        response = self._post(self.url, json_body(self.payload(message)))
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
                f"Feishu asked to slow down (HTTP 429): {short_answer(response.text)}",
                retryable=True,
                code=429,
                retry_after=reset,
            )
        super()._check_status(response)
