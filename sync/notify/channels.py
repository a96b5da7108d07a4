"""Which channel object serves a configured customer channel: one table from the config's ``kind`` to a
channel class (e-mail in ``sync.notify.smtp``, each bot and the generic webhook in its own module)."""

from __future__ import annotations

from plugin.settings import SmtpConfig
from sync.notify.base import ChannelError, ChannelSettings, NotificationChannel
from sync.notify.dingtalk import DingTalkChannel
from sync.notify.feishu import FeishuChannel
from sync.notify.http import DEFAULT_TIMEOUT, HttpChannel
from sync.notify.slack import SlackChannel
from sync.notify.smtp import EmailChannel
from sync.notify.webhook import WebhookChannel
from sync.notify.wecom import WeComChannel

_HTTP_CHANNELS: dict[str, type[HttpChannel]] = {
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
    "slack": SlackChannel,
    "webhook": WebhookChannel,
}


def channel_for(
    channel: ChannelSettings, smtp: SmtpConfig | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> NotificationChannel:
    """The channel object for one configured customer channel. ``smtp`` (``notifications.smtp``) is needed only for
    e-mail; without it an e-mail channel raises a non-retryable ChannelError naming the missing section."""
    if channel.kind == "email":
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
