"""Notice wording in zh-Hans, zh-Hant and English, and escaping of hostile text for every format."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from plugin.settings import Settings
from plugin.text import neutralise_mentions
from sync.notify import (
    EscalationNotice,
    OwnerNotice,
    StatusNotice,
    escape,
    notice_data,
    notice_from_data,
    render,
)
from sync.notify.formats import CHAT_QUOTE_LIMIT
from sync.notify.templates import format_duration, normalise_locale

SETTINGS = Settings()
HOSTILE_TITLE = '<script>alert("x")</script> @all <@U123> <!here> <at user_id="all">所有人</at> [点我](http://evil.example)'
HOSTILE_REMARKS = "# 大标题\n<font color=\"warning\">红字</font> @所有人 @everyone\n&amp; done"


def label(key: str, locale: str) -> str:
    return SETTINGS.status(key).name.get(locale)


def status_notice(**overrides) -> StatusNotice:
    """A StatusNotice for N-0042 (accepted -> in progress, zh-Hans); pass only what a test changes."""
    locale = overrides.get("locale", "zh_Hans")
    fields = {
        "customer_name": "ACME",
        "locale": locale,
        "need_ref": "N-0042",
        "need_title": "登录页白屏",
        "old_status_label": label("accepted", locale),
        "new_status_label": label("in_progress", locale),
        "issue_url": "https://jira.example.com/browse/APP-7",
        "status_page_url": "https://cocreate.example.com/s/token123",
    }
    fields.update(overrides)
    return StatusNotice(**fields)


def owner_notice(**overrides) -> OwnerNotice:
    locale = overrides.get("locale", "zh_Hans")
    fields = {
        "owner_name": "王伟",
        "locale": locale,
        "customer_name": "ACME",
        "need_ref": "N-0042",
        "need_title": "登录页白屏",
        "old_status_label": label("accepted", locale),
        "new_status_label": label("in_progress", locale),
        "need_url": "https://cocreate.example.com/needs/N-0042",
        "issue_url": "https://jira.example.com/browse/APP-7",
        "customers_notified": ("ACME", "Globex"),
    }
    fields.update(overrides)
    return OwnerNotice(**fields)


def escalation_notice(**overrides) -> EscalationNotice:
    fields = {
        "locale": "zh_Hans",
        "customer_name": "ACME",
        "need_ref": "N-0042",
        "need_title": "登录页白屏",
        "urgency_label": "紧急",
        "status_label": "已受理",
        "sla": "first_response",
        "due_at": dt.datetime(2024, 5, 6, 2, 0, tzinfo=dt.UTC),
        "overdue_by": dt.timedelta(days=1, hours=3, minutes=20),
        "owner_name": "王伟",
        "timezone": "Asia/Shanghai",
        "need_url": "https://cocreate.example.com/needs/N-0042",
    }
    fields.update(overrides)
    return EscalationNotice(**fields)


# Wording ------------------------------------------------------------------------------------------


def test_status_notice_reads_naturally_in_simplified_chinese():
    message = render(status_notice())
    assert message.subject == "需求 N-0042「登录页白屏」状态更新：开发中"
    assert "ACME 您好：" in message.text
    assert "您的需求 N-0042「登录页白屏」状态已更新：已受理 → 开发中" in message.text
    assert "查看研发进度：https://jira.example.com/browse/APP-7" in message.text
    assert "查看您的全部需求：https://cocreate.example.com/s/token123" in message.text


def test_status_notice_reads_naturally_in_traditional_chinese():
    message = render(status_notice(locale="zh-Hant", need_title="登入頁白屏"))
    assert message.locale == "zh_Hant"
    assert message.subject == "需求 N-0042「登入頁白屏」狀態更新：開發中"
    assert "您的需求 N-0042「登入頁白屏」狀態已更新：已受理 → 開發中" in message.text
    assert "查看研發進度" in message.text and "系統自動發送" in message.text
    assert '<html lang="zh-Hant">' in message.html


def test_status_notice_reads_naturally_in_english():
    message = render(status_notice(locale="en", need_title="Blank login page"))
    assert message.subject == "Your request N-0042 “Blank login page” is now In progress"
    assert "Hello ACME," in message.text
    assert "The status of your request N-0042 “Blank login page” has changed: Accepted → In progress" in message.text
    assert "Follow development: https://jira.example.com/browse/APP-7" in message.text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh_Hans", "您的需求 N-0042「登录页白屏」当前状态：开发中"),
        ("zh_Hant", "您的需求 N-0042「登录页白屏」目前狀態：開發中"),
        ("en", "Your request N-0042 “登录页白屏” is now In progress."),
    ],
)
def test_first_notice_without_a_previous_status(locale, expected):
    message = render(status_notice(locale=locale, old_status_label=None))
    assert expected in message.text
    assert "→" not in message.text


def test_remarks_and_comment_appear_under_their_headings_and_links_are_optional():
    message = render(
        status_notice(
            remarks_for_customer="预计下周发布\n请留意版本说明",
            comment_for_customer="感谢您的耐心",
            issue_url=None,
            status_page_url=None,
        )
    )
    assert "说明：\n    预计下周发布\n    请留意版本说明" in message.text
    assert "我们的留言：\n    感谢您的耐心" in message.text
    assert "查看研发进度" not in message.text
    assert "<blockquote" in message.html and "预计下周发布<br>" in message.html


@pytest.mark.parametrize(
    ("locale", "subject", "line"),
    [
        ("zh_Hans", "[Cocreate] ACME：需求 N-0042 已受理 → 开发中", "你跟进的需求 N-0042「登录页白屏」（客户：ACME）状态已从 已受理 变为 开发中。"),
        ("zh_Hant", "[Cocreate] ACME：需求 N-0042 已受理 → 開發中", "你跟進的需求 N-0042「登录页白屏」（客戶：ACME）狀態已從 已受理 變為 開發中。"),
        ("en", "[Cocreate] ACME: N-0042 Accepted → In progress",
         "The need N-0042 “登录页白屏” you follow for ACME moved from Accepted to In progress."),
    ],
)
def test_owner_notice_in_each_locale(locale, subject, line):
    message = render(owner_notice(locale=locale))
    assert message.kind == "owner"
    assert message.subject == subject
    assert line in message.text
    separator = ", " if locale == "en" else "、"
    assert f"ACME{separator}Globex" in message.text
    assert ("do not forward" in message.text) if locale == "en" else ("客" in message.document.footer)


def test_owner_notice_says_when_no_customer_was_told():
    assert "本次没有通知任何客户。" in render(owner_notice(customers_notified=())).text
    unknown = render(owner_notice(customers_notified=None)).text
    assert "已通知客户" not in unknown and "本次没有通知" not in unknown


@pytest.mark.parametrize(
    ("locale", "subject", "line"),
    [
        ("zh_Hans", "【SLA 超时】需求 N-0042「登录页白屏」已超过首次响应时限",
         "需求 N-0042「登录页白屏」已超过首次响应时限 1 天 3 小时（应于 2024-05-06 10:00 Asia/Shanghai 前完成）。"),
        ("zh_Hant", "【SLA 逾時】需求 N-0042「登录页白屏」已超過首次回應時限",
         "需求 N-0042「登录页白屏」已超過首次回應時限 1 天 3 小時（應於 2024-05-06 10:00 Asia/Shanghai 前完成）。"),
        ("en", "[SLA breach] N-0042 “登录页白屏” missed its first response target",
         "Need N-0042 “登录页白屏” is 1 day 3 hours past its first response target (due 2024-05-06 10:00 Asia/Shanghai)."),
    ],
)
def test_escalation_notice_in_each_locale(locale, subject, line):
    message = render(escalation_notice(locale=locale))
    assert message.kind == "escalation"
    assert message.subject == subject
    assert line in message.text


def test_escalation_without_owner_says_unassigned_and_rejects_unknown_sla():
    assert "跟进人：未指定" in render(escalation_notice(owner_name=None)).text
    with pytest.raises(ValueError, match="sla must be"):
        escalation_notice(sla="lunch")


@pytest.mark.parametrize(
    ("minutes", "locale", "expected"),
    [
        (0, "en", "1 minute"),
        (45, "en", "45 minutes"),
        (61, "en", "1 hour 1 minute"),
        (60 * 24 * 3 + 5, "en", "3 days"),
        (60 * 26, "zh_Hans", "1 天 2 小时"),
        (90, "zh_Hant", "1 小時 30 分鐘"),
    ],
)
def test_format_duration(minutes, locale, expected):
    assert format_duration(dt.timedelta(minutes=minutes), locale) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zh-Hans", "zh_Hans"), ("zh_CN", "zh_Hans"), ("zh-Hant", "zh_Hant"), ("zh_TW", "zh_Hant"), ("zh-HK", "zh_Hant"),
     ("EN", "en"), ("fr", "en"), (None, "en")],
)
def test_locale_normalisation(given, expected):
    assert normalise_locale(given) == expected


# Ids and input hygiene ----------------------------------------------------------------------------


def test_notice_id_is_stable_and_follows_the_event_key():
    assert render(status_notice()).notice_id == render(status_notice()).notice_id
    assert render(status_notice()).notice_id != render(status_notice(new_status_label="已完成")).notice_id
    first = status_notice(event_key="status_history:1")
    assert first.notice_id == status_notice(event_key="status_history:1", comment_for_customer="x").notice_id
    assert first.notice_id != status_notice(event_key="status_history:2").notice_id


@pytest.mark.parametrize("make", [status_notice, owner_notice, escalation_notice])
def test_notices_survive_a_json_round_trip(make):
    original = make(event_key="outbox:9")
    stored = json.loads(json.dumps(notice_data(original)))
    again = notice_from_data(stored)
    assert again == original and again.notice_id == original.notice_id
    assert render(again).text == render(original).text


def test_escalation_accepts_its_json_forms_directly():
    stored = {key: value for key, value in notice_data(escalation_notice()).items() if key != "kind"}
    assert EscalationNotice(**stored).overdue_by == dt.timedelta(days=1, hours=3, minutes=20)
    with pytest.raises(ValueError, match="unknown notice kind"):
        notice_from_data({"kind": "postcard"})


def test_non_http_links_are_refused():
    with pytest.raises(ValueError, match="issue_url must be an http"):
        status_notice(issue_url="javascript:alert(1)")


def test_titles_are_one_line_and_control_characters_go():
    message = render(status_notice(need_title="登录\r\n页\x07白屏\n\n"))
    assert message.subject == "需求 N-0042「登录 页白屏」状态更新：开发中"
    assert "\x07" not in message.text


def test_long_titles_are_clipped_in_the_subject_only():
    title = "很长的标题" * 20
    message = render(status_notice(need_title=title))
    assert len(message.subject) < 70 and "…" in message.subject
    assert title in message.text


def test_long_remarks_are_clipped_for_chat_but_complete_in_email():
    remarks = "长" * (CHAT_QUOTE_LIMIT + 500)
    message = render(status_notice(remarks_for_customer=remarks))
    assert remarks in message.text
    assert remarks not in message.markdown("wecom") and "…" in message.markdown("wecom")
    assert sum(len(row[0]["text"]) for row in message.feishu_post()["zh_cn"]["content"]) < CHAT_QUOTE_LIMIT + 500


def test_render_refuses_other_objects():
    with pytest.raises(TypeError):
        render("N-0042")  # type: ignore[arg-type]


# Hostile input, every locale and every format -------------------------------------------------------


@pytest.fixture(params=["zh_Hans", "zh_Hant", "en"])
def hostile(request):
    return render(
        status_notice(
            locale=request.param,
            customer_name="<b>ACME</b>",
            need_title=HOSTILE_TITLE,
            remarks_for_customer=HOSTILE_REMARKS,
            comment_for_customer="@channel please [see](javascript:alert(1))",
            issue_url="https://jira.example.com/browse/APP-7?a=1&b=|x|",
        )
    )


def test_html_escapes_everything_the_customer_or_cs_wrote(hostile):
    page = hostile.html
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>ACME</b>" not in page and "&lt;b&gt;ACME&lt;/b&gt;" in page
    assert "<font" not in page and "&lt;font color=&quot;warning&quot;&gt;" in page
    assert "&amp;amp; done" in page
    assert 'href="https://jira.example.com/browse/APP-7?a=1&amp;b=|x|"' in page
    assert 'href="http://evil.example"' not in page and 'href="javascript' not in page
    # the plain-text part keeps the characters as typed
    assert HOSTILE_TITLE in hostile.text


def test_slack_text_cannot_mention_or_link(hostile):
    body = hostile.markdown("slack")
    for forbidden in ("<!here>", "<@U123>", "<script>", "<b>", "<at "):
        assert forbidden not in body
    assert "&lt;!here&gt;" in body and "&lt;@U123&gt;" in body
    assert "@all" not in body and "@channel" not in body and "@everyone" not in body and "@所有人" not in body
    assert "@\u2060all" in body
    # our own link survives, with & escaped and | encoded so the label cannot be forged
    assert "<https://jira.example.com/browse/APP-7?a=1&amp;b=%7Cx%7C|" in body
    assert body.count("<http") == 2


@pytest.mark.parametrize("flavour", ["wecom", "dingtalk"])
def test_chinese_bot_markdown_cannot_mention_link_or_style(hostile, flavour):
    body = hostile.markdown(flavour)
    assert "<" not in body and ">" not in body.replace("\n> ", "\n").replace("\n>\n", "\n").lstrip(">")
    assert "＜script＞" in body and "＜@U123＞" in body and "＜font" in body
    assert "[点我](http" not in body and "[see](javascript" not in body
    assert "@all" not in body and "@所有人" not in body and "@everyone" not in body
    assert "\n> \u200b# 大标题" in body
    assert body.count("](https://") == 2  # only our two links


def test_feishu_post_cannot_mention(hostile):
    post = hostile.feishu_post()
    (language,) = post
    assert language == ("en_us" if hostile.locale == "en" else "zh_cn")
    texts = [element["text"] for row in post[language]["content"] for element in row]
    joined = "".join(texts) + post[language]["title"]
    assert "<at" not in joined and "<" not in joined
    assert "@all" not in joined and "@所有人" not in joined
    links = [element for row in post[language]["content"] for element in row if element["tag"] == "a"]
    assert [link["href"] for link in links] == [
        "https://jira.example.com/browse/APP-7?a=1&b=|x|",
        "https://cocreate.example.com/s/token123",
    ]


def test_commonmark_escapes_markup(hostile):
    body = hostile.markdown("commonmark")
    assert "\\<script\\>" in body and "\\[点我\\](http://evil.example)" in body
    assert "@\u2060all" in body


def test_escape_rejects_unknown_flavour_and_mentions_need_an_at_sign():
    with pytest.raises(ValueError):
        escape("x", "bbcode")  # type: ignore[arg-type]
    assert neutralise_mentions("mail me at a@all.example or @allison", "chat") == "mail me at a@all.example or @allison"
    assert neutralise_mentions("@ALL, @Here!", "chat") == "@\u2060ALL, @\u2060Here!"
