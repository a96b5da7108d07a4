"""WeCom (企业微信) group bot: markdown messages up to 4,096 bytes."""

from __future__ import annotations

from sync.notify.base import DeliveryResult
from sync.notify.formats import Message
from sync.notify.http import HttpChannel, fitted_markdown, json_body, truncate_utf8


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
        response = self._post(self.url, json_body({"msgtype": "markdown", "markdown": {"content": content}}))
        self._check_code(self._json_answer(response), "errcode", "errmsg", self.RETRYABLE_CODES)
        return self._result(message, response)
