"""Customer and internal notifications: notices rendered per locale, sent by e-mail, chat bots or webhook.

Storage-agnostic: ``render(notice) -> Message`` is pure, ``channel_for(channel_settings, smtp).send(message)``
makes one attempt and returns a DeliveryResult or raises ChannelError (``retryable`` for the job queue).
"""

from __future__ import annotations

from sync.notify.base import (
    ChannelError,
    ChannelSettings,
    DeliveryResult,
    NotificationChannel,
)
from sync.notify.channels import channel_for
from sync.notify.dingtalk import DingTalkChannel, dingtalk_signature
from sync.notify.feishu import FeishuChannel, feishu_signature
from sync.notify.formats import Message, escape
from sync.notify.http import HttpChannel
from sync.notify.slack import SlackChannel
from sync.notify.smtp import EmailChannel, SmtpSettings
from sync.notify.templates import (
    EscalationNotice,
    MeetingReminder,
    Notice,
    OwnerNotice,
    PageNotice,
    ReleaseNotice,
    StatusNotice,
    notice_data,
    notice_from_data,
    render,
)
from sync.notify.webhook import (
    WebhookChannel,
    verify_webhook_signature,
    webhook_signature,
)
from sync.notify.wecom import WeComChannel


def send_notice(notice: Notice, channel_settings: ChannelSettings, smtp: SmtpSettings | None = None) -> DeliveryResult:
    """Render ``notice`` and send it once to one configured channel (``plugin.settings.Channel``)."""
    return channel_for(channel_settings, smtp).send(render(notice))


__all__ = [
    "ChannelError",
    "ChannelSettings",
    "DeliveryResult",
    "DingTalkChannel",
    "EmailChannel",
    "EscalationNotice",
    "FeishuChannel",
    "HttpChannel",
    "MeetingReminder",
    "Message",
    "Notice",
    "NotificationChannel",
    "OwnerNotice",
    "PageNotice",
    "ReleaseNotice",
    "SlackChannel",
    "SmtpSettings",
    "StatusNotice",
    "WeComChannel",
    "WebhookChannel",
    "channel_for",
    "dingtalk_signature",
    "escape",
    "feishu_signature",
    "notice_data",
    "notice_from_data",
    "render",
    "send_notice",
    "verify_webhook_signature",
    "webhook_signature",
]
