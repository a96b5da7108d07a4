"""Chat bots and the generic webhook against a real local HTTP server: payloads, signatures, error mapping.

Signatures are recomputed here the way each service documents its own check, not with Cocreate's helpers.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs

import pytest

from plugin.errors import parse_retry_after
from plugin.settings import Channel
from sync.notify import (
    ChannelError,
    DingTalkChannel,
    EscalationNotice,
    FeishuChannel,
    SlackChannel,
    StatusNotice,
    WebhookChannel,
    WeComChannel,
    channel_for,
    render,
    send_notice,
    verify_webhook_signature,
)
from tests.notify.servers import Reply, free_port

SECRET = "SECtest0123456789abcdef"
WECOM_OK = {"errcode": 0, "errmsg": "ok"}


def message(**overrides):
    fields = {
        "customer_name": "ACME",
        "locale": "zh_Hans",
        "need_ref": "N-0042",
        "need_title": "登录页白屏 @all <!here>",
        "old_status_label": "已受理",
        "new_status_label": "开发中",
        "issue_url": "https://jira.example.com/browse/APP-7",
        "event_key": "status_history:7",
    }
    fields.update(overrides)
    return render(StatusNotice(**fields))


# WeCom ----------------------------------------------------------------------------------------------


def test_wecom_posts_markdown_and_reads_errcode(http_recorder):
    http_recorder.reply(200, WECOM_OK)
    msg = message()
    url = http_recorder.url("/cgi-bin/webhook/send?key=wecom-key-123")
    result = WeComChannel(url).send(msg)

    request = http_recorder.last
    assert request.method == "POST" and request.path == "/cgi-bin/webhook/send"
    assert request.query == {"key": ["wecom-key-123"]}
    assert request.header("Content-Type").startswith("application/json")
    assert request.json() == {"msgtype": "markdown", "markdown": {"content": msg.markdown("wecom")}}
    assert "您的需求 **N-0042**" in request.json()["markdown"]["content"]
    assert result.channel == "wecom" and result.status == 200
    assert result.target == http_recorder.base_url.removeprefix("http://")
    assert "wecom-key-123" not in result.target


def test_wecom_content_is_capped_at_4096_bytes_keeping_headline_links_and_footer(http_recorder):
    http_recorder.reply(200, WECOM_OK)
    long_text = "长文本" * 2000
    msg = message(remarks_for_customer=long_text, comment_for_customer=long_text)
    WeComChannel(http_recorder.url("/send?key=k")).send(msg)
    content = http_recorder.last.json()["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "状态已更新" in content and "](https://jira.example.com/browse/APP-7)" in content
    assert content.endswith("本通知由系统自动发送；如有疑问，请联系您的客户成功团队。")


@pytest.mark.parametrize(("cls", "limit"), [(SlackChannel, 3000), (DingTalkChannel, 5000)])
def test_long_free_text_is_shortened_before_the_links(http_recorder, cls, limit):
    http_recorder.reply(200, "ok" if cls is SlackChannel else {"errcode": 0, "errmsg": "ok"})
    long_text = "long text " * 600
    cls(http_recorder.url("/hook")).send(message(remarks_for_customer=long_text, comment_for_customer=long_text))
    body = http_recorder.last.json()
    text = body["blocks"][0]["text"]["text"] if cls is SlackChannel else body["markdown"]["text"]
    assert len(text) <= limit and "jira.example.com/browse/APP-7" in text


@pytest.mark.parametrize(
    ("answer", "retryable", "retry_after"),
    [
        ({"errcode": 45009, "errmsg": "api freq out of limit"}, True, 60.0),
        ({"errcode": -1, "errmsg": "system busy"}, True, None),
        ({"errcode": 93000, "errmsg": "invalid webhook url, hint: [xyz]"}, False, None),
        ({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}, False, None),
    ],
)
def test_wecom_error_codes(http_recorder, answer, retryable, retry_after):
    http_recorder.reply(200, answer)
    with pytest.raises(ChannelError) as caught:
        WeComChannel(http_recorder.url("/send?key=secret-key")).send(message())
    error = caught.value
    assert error.retryable is retryable and error.retry_after == retry_after
    assert error.code == answer["errcode"] and answer["errmsg"] in str(error)
    assert "secret-key" not in str(error)


# DingTalk -------------------------------------------------------------------------------------------


def dingtalk_expected_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented check: HmacSHA256 over timestamp + "\\n" + secret, keyed by the secret, Base64."""
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_dingtalk_signs_the_url_as_documented(http_recorder):
    http_recorder.reply(200, {"errcode": 0, "errmsg": "ok"})
    msg = message()
    before = int(time.time() * 1000)
    DingTalkChannel(http_recorder.url("/robot/send?access_token=ding-token"), SECRET).send(msg)
    after = int(time.time() * 1000)

    request = http_recorder.last
    assert request.query["access_token"] == ["ding-token"]
    (timestamp,) = request.query["timestamp"]
    (sign,) = request.query["sign"]  # parse_qs has already URL-decoded it
    assert before <= int(timestamp) <= after  # milliseconds
    assert hmac.compare_digest(sign, dingtalk_expected_sign(SECRET, timestamp))
    # The Base64 signature was URL-encoded on the wire: no raw '+', '/' or '=' inside the sign value.
    raw_sign = request.raw_query.split("sign=", 1)[1].split("&", 1)[0]
    assert not set(raw_sign) & set("+/=")
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"] == {"title": msg.subject[:64], "text": msg.markdown("dingtalk")}
    assert body["at"] == {"isAtAll": False}
    assert "<!here>" not in body["markdown"]["text"] and "@all" not in body["markdown"]["text"]


def test_dingtalk_without_secret_sends_the_url_unchanged(http_recorder):
    http_recorder.reply(200, {"errcode": 0, "errmsg": "ok"})
    DingTalkChannel(http_recorder.url("/robot/send?access_token=t")).send(message())
    assert http_recorder.last.query == {"access_token": ["t"]}


@pytest.mark.parametrize(
    ("answer", "retryable", "retry_after"),
    [
        ({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}, True, 600.0),
        ({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/x]"}, False, None),
        ({"errcode": 300001, "errmsg": "token is not exist"}, False, None),
    ],
)
def test_dingtalk_error_codes(http_recorder, answer, retryable, retry_after):
    http_recorder.reply(200, answer)
    with pytest.raises(ChannelError) as caught:
        DingTalkChannel(http_recorder.url("/robot/send?access_token=t"), SECRET).send(message())
    assert caught.value.retryable is retryable and caught.value.retry_after == retry_after
    assert answer["errmsg"].split(",")[0] in str(caught.value)


# Feishu ---------------------------------------------------------------------------------------------


def feishu_expected_sign(secret: str, timestamp: str) -> str:
    """Feishu's documented check: timestamp + "\\n" + secret is the HmacSHA256 KEY, the message is empty."""
    key = f"{timestamp}\n{secret}".encode("utf-8")
    return base64.b64encode(hmac.new(key, b"", digestmod=hashlib.sha256).digest()).decode("utf-8")


def test_feishu_signs_the_body_as_documented(http_recorder):
    http_recorder.reply(200, {"code": 0, "msg": "success", "data": {}})
    msg = message()
    before = int(time.time())
    result = FeishuChannel(http_recorder.url("/open-apis/bot/v2/hook/abc"), SECRET).send(msg)
    body = http_recorder.last.json()
    assert isinstance(body["timestamp"], str) and before <= int(body["timestamp"]) <= int(time.time())  # seconds
    assert hmac.compare_digest(body["sign"], feishu_expected_sign(SECRET, body["timestamp"]))
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == msg.feishu_post()["zh_cn"]["title"]
    assert post["content"][1] == [{"tag": "text", "text": msg.feishu_post()["zh_cn"]["content"][1][0]["text"]}]
    assert {"tag": "a", "text": "查看研发进度", "href": "https://jira.example.com/browse/APP-7"} in post["content"][-2]
    assert result.status == 200


def test_feishu_english_notice_uses_en_us_and_no_secret_means_no_sign(http_recorder):
    http_recorder.reply(200, {"StatusCode": 0, "StatusMessage": "success"})  # older bots answer like this
    FeishuChannel(http_recorder.url("/hook/abc")).send(message(locale="en"))
    body = http_recorder.last.json()
    assert "sign" not in body and "timestamp" not in body
    assert list(body["content"]["post"]) == ["en_us"]


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        ({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, False),
        ({"code": 9499, "msg": "Bad Request", "data": {}}, False),
        ({"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}, True),
    ],
)
def test_feishu_error_codes(http_recorder, answer, retryable):
    http_recorder.reply(200, answer)
    with pytest.raises(ChannelError) as caught:
        FeishuChannel(http_recorder.url("/hook/abc"), SECRET).send(message())
    assert caught.value.retryable is retryable and caught.value.code == answer["code"]
    assert answer["msg"][:20] in str(caught.value)


def test_feishu_gateway_429_uses_its_reset_header(http_recorder):
    answer = {"code": 99991400, "msg": "request trigger frequency limit"}
    http_recorder.reply(429, answer, {"x-ogw-ratelimit-reset": "52"})
    with pytest.raises(ChannelError) as caught:
        FeishuChannel(http_recorder.url("/hook/abc")).send(message())
    assert caught.value.retryable is True and caught.value.retry_after == 52.0


# Slack ----------------------------------------------------------------------------------------------


def test_slack_posts_text_and_blocks_and_expects_ok(http_recorder):
    http_recorder.reply(200, "ok")
    msg = message()
    result = SlackChannel(http_recorder.url("/services/T000/B000/XXXX")).send(msg)
    body = http_recorder.last.json()
    assert set(body) == {"text", "blocks"}
    assert body["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": msg.markdown("slack")}}]
    assert "&lt;!here&gt;" in body["text"] and "<!here>" not in json.dumps(body)
    assert result.response == "ok"


@pytest.mark.parametrize(
    ("status", "answer", "headers", "retryable", "retry_after"),
    [
        (429, "rate_limited", {"Retry-After": "30"}, True, 30.0),
        (400, "invalid_payload", {}, False, None),
        (403, "action_prohibited", {}, False, None),
        (404, "no_service", {}, False, None),
        (410, "channel_is_archived", {}, False, None),
        (500, "rollup_error", {}, True, None),
        (200, "<html>captive portal</html>", {}, False, None),
    ],
)
def test_slack_answers(http_recorder, status, answer, headers, retryable, retry_after):
    http_recorder.reply(status, answer, headers)
    with pytest.raises(ChannelError) as caught:
        SlackChannel(http_recorder.url("/services/T000/B000/SECRETPATH")).send(message())
    error = caught.value
    assert error.retryable is retryable and error.retry_after == retry_after
    assert answer.split("<")[0] in str(error) or "captive portal" in str(error)
    assert "SECRETPATH" not in str(error)


# Generic webhook ------------------------------------------------------------------------------------


def test_webhook_is_signed_over_the_raw_body(http_recorder):
    http_recorder.reply(202, {"received": True})
    msg = message()
    channel = WebhookChannel(http_recorder.url("/hooks/cocreate"), "whsec-123")
    result = channel.send(msg)

    request = http_recorder.last
    expected = "sha256=" + hmac.new(b"whsec-123", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.header("X-Cocreate-Signature"), expected)
    body = request.json()
    assert request.header("X-Cocreate-Timestamp") == str(body["sent_at"])
    assert abs(int(body["sent_at"]) - time.time()) < 5
    assert request.header("X-Cocreate-Notice-Id") == msg.notice_id == body["id"]
    assert request.header("Idempotency-Key") == channel.delivery_key(msg) == body["delivery_key"] == result.delivery_key
    assert body["type"] == "cocreate.notice" and body["kind"] == "status" and body["locale"] == "zh_Hans"
    assert body["subject"] == msg.subject and body["text"] == msg.text and body["html"] == msg.html
    assert body["data"]["need_ref"] == "N-0042" and body["data"]["new_status_label"] == "开发中"
    assert verify_webhook_signature("whsec-123", request.body, request.header("X-Cocreate-Signature"),
                                    request.header("X-Cocreate-Timestamp"))
    assert not verify_webhook_signature("whsec-123", request.body + b" ", request.header("X-Cocreate-Signature"))
    assert not verify_webhook_signature("other", request.body, request.header("X-Cocreate-Signature"))
    assert not verify_webhook_signature("whsec-123", request.body, request.header("X-Cocreate-Signature"), "1")
    assert result.status == 202


def test_webhook_idempotency_key_is_stable_across_retries_and_differs_per_url(http_recorder):
    http_recorder.reply(200)
    WebhookChannel(http_recorder.url("/a")).send(message())
    WebhookChannel(http_recorder.url("/a")).send(message())
    WebhookChannel(http_recorder.url("/b")).send(message())
    keys = [request.header("Idempotency-Key") for request in http_recorder.requests]
    assert keys[0] == keys[1] != keys[2]
    assert http_recorder.requests[0].header("X-Cocreate-Signature") is None  # no secret, no signature


def test_webhook_carries_an_escalation_as_json_ready_data(http_recorder):
    http_recorder.reply(204)
    notice = EscalationNotice(
        locale="en", customer_name="ACME", need_ref="N-0042", need_title="Blank login page", urgency_label="Critical",
        status_label="Accepted", sla="resolution", due_at=dt.datetime(2024, 5, 6, 2, 0, tzinfo=dt.UTC),
        overdue_by=dt.timedelta(hours=5), event_key="sla:N-0042:resolution",
    )
    send_notice(notice, Channel(kind="webhook", url=http_recorder.url("/hooks"), secret="whsec"))
    body = http_recorder.last.json()
    assert body["kind"] == "escalation" and body["id"] == notice.notice_id
    assert body["data"]["due_at"] == "2024-05-06T02:00:00+00:00" and body["data"]["overdue_by"] == 18000
    assert body["subject"] == "[SLA breach] N-0042 “Blank login page” missed its resolution target"


# Error mapping shared by every HTTP channel ---------------------------------------------------------

HTTP_CHANNELS = [WeComChannel, DingTalkChannel, FeishuChannel, SlackChannel, WebhookChannel]


@pytest.mark.parametrize("cls", HTTP_CHANNELS)
def test_server_errors_are_retryable(http_recorder, cls):
    http_recorder.reply(503, "upstream unavailable")
    with pytest.raises(ChannelError) as caught:
        cls(http_recorder.url("/x?token=t0ken"), SECRET).send(message())
    assert caught.value.retryable is True and caught.value.code == 503
    assert "upstream unavailable" in str(caught.value)


@pytest.mark.parametrize("cls", HTTP_CHANNELS)
def test_429_honours_retry_after(http_recorder, cls):
    http_recorder.reply(429, "slow down", {"Retry-After": "7"})
    with pytest.raises(ChannelError) as caught:
        cls(http_recorder.url("/x"), SECRET).send(message())
    assert caught.value.retryable is True and caught.value.retry_after == 7.0


@pytest.mark.parametrize("cls", HTTP_CHANNELS)
def test_client_errors_are_not_retried(http_recorder, cls):
    http_recorder.reply(400, "bad request: field x")
    with pytest.raises(ChannelError) as caught:
        cls(http_recorder.url("/x"), SECRET).send(message())
    assert caught.value.retryable is False and "bad request: field x" in str(caught.value)


@pytest.mark.parametrize("cls", HTTP_CHANNELS)
def test_redirects_are_not_followed(http_recorder, cls):
    http_recorder.reply(302, "", {"Location": "http://127.0.0.1:9/elsewhere"})
    with pytest.raises(ChannelError) as caught:
        cls(http_recorder.url("/x"), SECRET).send(message())
    assert caught.value.retryable is False and "redirect" in str(caught.value)
    assert len(http_recorder.requests) == 1


@pytest.mark.parametrize("cls", HTTP_CHANNELS)
def test_connection_refused_is_retryable_and_hides_the_url(cls):
    with pytest.raises(ChannelError) as caught:
        cls(f"http://127.0.0.1:{free_port()}/send?key=very-secret", SECRET).send(message())
    assert caught.value.retryable is True
    assert "very-secret" not in str(caught.value) and "could not connect to 127.0.0.1" in str(caught.value)


def test_a_slow_service_times_out_retryably(http_recorder):
    http_recorder.reply(200, WECOM_OK, delay=1.0)
    with pytest.raises(ChannelError) as caught:
        WeComChannel(http_recorder.url("/send?key=k"), timeout=0.2).send(message())
    assert caught.value.retryable is True and "did not answer within 0.2 s" in str(caught.value)


def test_retry_after_reads_seconds_and_http_dates():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 90, usegmt=True)
    assert 85 <= parse_retry_after(later) <= 91


def test_exactly_one_attempt_per_send(http_recorder):
    http_recorder.reply(500, "boom")
    with pytest.raises(ChannelError):
        SlackChannel(http_recorder.url("/s")).send(message())
    assert len(http_recorder.requests) == 1


def test_the_job_queue_reads_retryable_and_retry_after(http_recorder):
    http_recorder.queue(429, "rate_limited", {"Retry-After": "3"}).queue(200, "ok")
    channel = SlackChannel(http_recorder.url("/s"))
    with pytest.raises(ChannelError) as caught:
        channel.send(message())
    assert getattr(caught.value, "retryable") is True and getattr(caught.value, "retry_after") == 3.0
    assert channel.send(message()).response == "ok"


# Factory --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("wecom", WeComChannel), ("dingtalk", DingTalkChannel), ("feishu", FeishuChannel), ("slack", SlackChannel),
     ("webhook", WebhookChannel)],
)
def test_channel_for_builds_each_kind(kind, cls):
    channel = channel_for(Channel(kind=kind, url="https://bots.example.com/hook?key=abc", secret="s"))
    assert type(channel) is cls
    assert channel.secret == "s" and channel.timeout == 10.0 and channel.target == "bots.example.com"


def test_channel_for_refuses_a_non_http_url():
    with pytest.raises(ChannelError) as caught:
        channel_for(Channel(kind="slack", url="ftp://hooks.example.com/x"))
    assert caught.value.retryable is False


def test_send_notice_end_to_end(http_recorder):
    http_recorder.respond_with(lambda request: Reply(200, {"errcode": 0, "errmsg": "ok"}))
    notice = StatusNotice("ACME", "zh-Hant", "N-0042", "登入頁白屏", "已受理", "開發中")
    channel = Channel(kind="dingtalk", url=http_recorder.url("/robot/send?access_token=t"), secret=SECRET)
    result = send_notice(notice, channel)
    text = http_recorder.last.json()["markdown"]["text"]
    assert "您的需求 **N-0042**「登入頁白屏」狀態已更新：**已受理** → **開發中**" in text
    assert parse_qs(http_recorder.last.raw_query)["access_token"] == ["t"]
    assert result.channel == "dingtalk" and result.notice_id == notice.notice_id
