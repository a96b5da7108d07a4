"""E-mail notices against a real SMTP server (aiosmtpd on 127.0.0.1): content, headers, and error mapping."""

from __future__ import annotations

import socket
import ssl

import pytest

from plugin.settings import Channel
from sync.notify import (
    ChannelError,
    EmailChannel,
    OwnerNotice,
    SmtpSettings,
    StatusNotice,
    channel_for,
    render,
    send_notice,
)
from tests.notify.servers import SmtpRecorder, free_port, self_signed_certificate


def smtp_settings(server, **overrides) -> SmtpSettings:
    """Settings for the test server: no TLS, short timeout; pass only what differs."""
    fields = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "sender": "Cocreate <noreply@cocreate.example>",
        "timeout": 2.0,
    }
    fields.update(overrides)
    return SmtpSettings(**fields)


def notice(**overrides) -> StatusNotice:
    fields = {
        "customer_name": "ACME 公司",
        "locale": "zh_Hans",
        "need_ref": "N-0042",
        "need_title": "登录页白屏 <script>alert(1)</script>",
        "old_status_label": "已受理",
        "new_status_label": "开发中",
        "issue_url": "https://jira.example.com/browse/APP-7?a=1&b=2",
        "remarks_for_customer": "预计 <b>下周</b> 发布 & 通知您",
        "event_key": "status_history:7",
    }
    fields.update(overrides)
    return StatusNotice(**fields)


def test_email_arrives_as_utf8_multipart_with_escaped_html(smtp_server):
    message = render(notice())
    channel = EmailChannel(["li.lei@acme.example", "han.mei@acme.example"], smtp_settings(smtp_server))
    result = channel.send(message)

    received = smtp_server.last
    mail = received.message
    assert received.mail_from == "noreply@cocreate.example"
    assert received.rcpt_tos == ["li.lei@acme.example", "han.mei@acme.example"]
    # The subject travels RFC 2047-encoded and decodes back to the Chinese text.
    assert b"Subject: =?utf-8?" in received.raw
    assert mail["Subject"] == "需求 N-0042「登录页白屏 <script>alert(1)</script>」状态更新：开发中"
    assert mail["From"] == "Cocreate <noreply@cocreate.example>"
    assert mail["To"] == "li.lei@acme.example, han.mei@acme.example"
    assert mail["X-Cocreate-Notice-Id"] == message.notice_id
    assert mail["Message-ID"] == f"<{channel.delivery_key(message)}@cocreate.example>" == result.provider_id
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "zh-Hans"
    assert mail["Date"]

    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",))
    page = mail.get_body(("html",))
    assert plain.get_content_charset() == "utf-8" and page.get_content_charset() == "utf-8"
    assert "您的需求 N-0042「登录页白屏 <script>alert(1)</script>」状态已更新：已受理 → 开发中" in plain.get_content()
    assert "预计 <b>下周</b> 发布 & 通知您" in plain.get_content()
    html = page.get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "预计 &lt;b&gt;下周&lt;/b&gt; 发布 &amp; 通知您" in html
    assert '<a href="https://jira.example.com/browse/APP-7?a=1&amp;b=2">' in html
    # Only 7-bit transfer encodings on the wire.
    assert all(byte < 128 for byte in received.raw)

    assert result.channel == "email" and result.status == 250 and result.refused == ()
    assert result.target == "li.lei@acme.example, han.mei@acme.example"
    assert result.notice_id == message.notice_id


def test_a_retry_sends_the_same_message_id(smtp_server):
    channel = EmailChannel(["li.lei@acme.example"], smtp_settings(smtp_server))
    channel.send(render(notice()))
    channel.send(render(notice()))
    first, second = smtp_server.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]
    other = EmailChannel(["ops@acme.example"], smtp_settings(smtp_server)).send(render(notice()))
    assert other.provider_id != first.message["Message-ID"]


def test_owner_notice_by_email_in_traditional_chinese(smtp_server):
    owner = OwnerNotice(
        owner_name="陳小明", locale="zh-Hant", customer_name="ACME", need_ref="N-0042", need_title="登入頁白屏",
        old_status_label="已受理", new_status_label="開發中", need_url="https://cocreate.example.com/needs/N-0042",
        customers_notified=("ACME",), tracker_comment="<b>已修復</b>，待發版",
    )
    EmailChannel(["chen@cocreate.example"], smtp_settings(smtp_server)).send(render(owner))
    mail = smtp_server.last.message
    assert mail["Subject"] == "[Cocreate] ACME：需求 N-0042 已受理 → 開發中"
    assert mail["Content-Language"] == "zh-Hant"
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")  # text parts travel with CRLF
    assert "你跟進的需求 N-0042「登入頁白屏」（客戶：ACME）狀態已從 已受理 變為 開發中。" in plain
    assert "研發備註：\n    <b>已修復</b>，待發版" in plain
    assert "&lt;b&gt;已修復&lt;/b&gt;" in mail.get_body(("html",)).get_content()


def test_reply_to_is_set_when_configured(smtp_server):
    EmailChannel(["a@acme.example"], smtp_settings(smtp_server, reply_to="cs@cocreate.example")).send(render(notice()))
    assert smtp_server.last.message["Reply-To"] == "cs@cocreate.example"


@pytest.mark.parametrize(
    ("reply", "retryable"), [("550 5.1.1 mailbox unavailable", False), ("450 4.2.1 mailbox busy", True)]
)
def test_refused_recipient(smtp_server, reply, retryable):
    smtp_server.reject_rcpt["nobody@acme.example"] = reply
    channel = EmailChannel(["nobody@acme.example"], smtp_settings(smtp_server))
    with pytest.raises(ChannelError) as caught:
        channel.send(render(notice()))
    assert caught.value.retryable is retryable
    assert caught.value.code == int(reply[:3])
    assert reply[4:] in str(caught.value)
    assert smtp_server.messages == []


def test_some_recipients_refused_is_a_delivery_that_lists_them(smtp_server):
    smtp_server.reject_rcpt["nobody@acme.example"] = "550 5.1.1 mailbox unavailable"
    channel = EmailChannel(["nobody@acme.example", "li.lei@acme.example"], smtp_settings(smtp_server))
    result = channel.send(render(notice()))
    assert result.refused == ("nobody@acme.example",)
    assert smtp_server.last.rcpt_tos == ["li.lei@acme.example"]


@pytest.mark.parametrize(
    ("reply", "retryable"), [("451 4.3.0 try again later", True), ("554 5.7.1 rejected as spam", False)]
)
def test_data_refused(smtp_server, reply, retryable):
    smtp_server.data_reply = reply
    with pytest.raises(ChannelError) as caught:
        EmailChannel(["a@acme.example"], smtp_settings(smtp_server)).send(render(notice()))
    assert caught.value.retryable is retryable
    assert "try again later" in str(caught.value) or "rejected as spam" in str(caught.value)


def test_connection_refused_is_retryable():
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", sender="noreply@cocreate.example")
    with pytest.raises(ChannelError) as caught:
        EmailChannel(["a@acme.example"], settings).send(render(notice()))
    assert caught.value.retryable is True
    assert "could not connect to 127.0.0.1" in str(caught.value)


def test_a_server_that_never_greets_times_out_retryably():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever says 220
        settings = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], security="none",
                                sender="noreply@cocreate.example", timeout=0.3)
        with pytest.raises(ChannelError) as caught:
            EmailChannel(["a@acme.example"], settings).send(render(notice()))
    assert caught.value.retryable is True


def test_starttls_required_but_not_offered_is_a_config_error(smtp_server):
    with pytest.raises(ChannelError) as caught:
        EmailChannel(["a@acme.example"], smtp_settings(smtp_server, security="starttls")).send(render(notice()))
    assert caught.value.retryable is False
    assert "STARTTLS" in str(caught.value)


def test_implicit_tls_against_a_plain_server_is_a_config_error(smtp_server):
    with pytest.raises(ChannelError) as caught:
        EmailChannel(["a@acme.example"], smtp_settings(smtp_server, security="ssl")).send(render(notice()))
    assert caught.value.retryable is False
    assert "TLS" in str(caught.value)


@pytest.fixture
def auth_server():
    server = SmtpRecorder(auth={"cocreate": "s3cret"}).start()
    yield server
    server.stop()


def test_login_with_username_and_password(auth_server):
    settings = smtp_settings(auth_server, username="cocreate", password="s3cret")
    EmailChannel(["a@acme.example"], settings).send(render(notice()))
    assert auth_server.logins == ["cocreate"]
    assert len(auth_server.messages) == 1


def test_wrong_password_is_not_retried_and_never_shown(auth_server):
    settings = smtp_settings(auth_server, username="cocreate", password="wrong-password")
    with pytest.raises(ChannelError) as caught:
        EmailChannel(["a@acme.example"], settings).send(render(notice()))
    assert caught.value.retryable is False
    assert caught.value.code == 535
    assert "wrong-password" not in str(caught.value)
    assert "wrong-password" not in repr(settings)


def test_starttls_and_login_with_a_private_ca(tmp_path):
    pytest.importorskip("cryptography")
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpRecorder(auth={"cocreate": "s3cret"}, tls_context=context).start()
    try:
        settings = smtp_settings(server, security="starttls", username="cocreate", password="s3cret", ca_file=cert)
        EmailChannel(["a@acme.example"], settings).send(render(notice()))
        assert server.logins == ["cocreate"] and len(server.messages) == 1
        # Without the private CA the certificate is not trusted: a config problem, not retried.
        with pytest.raises(ChannelError) as caught:
            EmailChannel(["a@acme.example"], smtp_settings(server, security="starttls")).send(render(notice()))
        assert caught.value.retryable is False
    finally:
        server.stop()


def test_smtp_settings_validate_and_default_the_port():
    assert SmtpSettings(host="mail", sender="noreply@x.example").port == 587
    assert SmtpSettings(host="mail", sender="noreply@x.example", security="ssl").port == 465
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(host="mail", sender="noreply@x.example", security="tls")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both username and password"):
        SmtpSettings(host="mail", sender="noreply@x.example", username="u")
    with pytest.raises(ValueError, match="sender"):
        SmtpSettings(host="mail", sender="Cocreate")


def test_channel_for_email_needs_smtp_settings(smtp_server):
    channel = Channel(kind="email", to=["a@acme.example"])
    with pytest.raises(ChannelError) as caught:
        channel_for(channel, None)
    assert caught.value.retryable is False and "notifications.smtp" in str(caught.value)
    result = send_notice(notice(), channel, smtp_settings(smtp_server))
    assert result.channel == "email" and smtp_server.last.rcpt_tos == ["a@acme.example"]
