"""Slack incoming webhook: Block Kit section with mrkdwn."""

from __future__ import annotations

from typing import Any

from sync.notify.base import DeliveryResult, short_answer
from sync.notify.formats import Message, clip, escape
from sync.notify.http import HttpChannel, fitted_markdown, json_body


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
        response = self._post(self.url, json_body(self.payload(message)))
        if response.text.strip() != "ok":
            raise self._error(f"unexpected answer from Slack: {short_answer(response.text)}", retryable=False)
        return self._result(message, response)
