"""The CS pages in zh-Hans, zh-Hant and English: from the browser's languages or the switch on every page."""

from __future__ import annotations

import pytest

from tests.factories import need_data
from tests.web.pages import field_errors, header_labels

HEADERS = {
    "zh_Hans": ["序号", "产品类别", "问题详细描述", "问题截图", "紧急程度", "反馈人", "反馈时间", "跟进人", "状态",
                "说明", "客户", "研发工单"],
    "zh_Hant": ["序號", "產品類別", "問題詳細描述", "問題截圖", "緊急程度", "反饋人", "反饋時間", "跟進人", "狀態",
                "說明", "客戶", "研發工單"],
    "en": ["Ref", "Product category", "Description", "Screenshots", "Urgency", "Reporter", "Time reported", "Owner",
           "Status", "Remarks", "Customer", "Tracker issue"],
}


@pytest.mark.parametrize(("accept_language", "locale"), [
    ("zh-CN,zh;q=0.9,en;q=0.5", "zh_Hans"),
    ("zh-Hans", "zh_Hans"),
    ("zh-TW,zh;q=0.8", "zh_Hant"),
    ("zh-HK", "zh_Hant"),
    ("en-US,en;q=0.9", "en"),
])
def test_the_table_speaks_the_browsers_language(cs_client, make_need, accept_language, locale):
    make_need()

    html = cs_client.get("/needs", headers={"Accept-Language": accept_language}).text

    assert header_labels(html) == HEADERS[locale]
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    category, urgency, status = {"zh_Hans": ("计费", "高", "已登记"), "zh_Hant": ("計費", "高", "已登記"),
                                 "en": ("Billing", "High", "Received")}[locale]
    assert f">{category}<" in html and f">{urgency}</span>" in html and f">{status}</span>" in html
    assert {"zh_Hans": "等待连接工单系统", "zh_Hant": "等待連接工單系統", "en": "waiting for tracker"}[locale] in html


def test_the_switch_remembers_the_language_and_returns_to_the_page(cs_client):
    response = cs_client.get("/lang/zh_Hant?next=/needs/new")

    assert response.status_code == 302 and response.location == "/needs/new"
    html = cs_client.get("/needs/new", headers={"Accept-Language": "en"}).text
    assert "緊急程度" in html and "問題截圖" in html and "提交需求" in html
    assert '<a href="/lang/zh_Hant?next=/needs/new" lang="zh-Hant" aria-current="true">繁體中文</a>' in html

    cs_client.get("/lang/zh_Hans?next=/needs")
    assert "紧急程度" in cs_client.get("/needs").text
    cs_client.get("/lang/en?next=/needs")
    assert "Urgency" in cs_client.get("/needs").text


def test_the_switch_ignores_unknown_languages_and_foreign_targets(cs_client):
    response = cs_client.get("/lang/klingon?next=https://evil.example/")

    assert response.location == "/needs"
    assert "cocreate_lang" not in response.headers.get("Set-Cookie", "")


def test_every_page_has_the_language_switch(cs_client, make_need):
    make_need()
    for path in ("/needs", "/needs/new", "/needs/N-0001", "/needs/N-0404"):
        html = cs_client.get(path).text
        for code, name in (("zh_Hans", "简体中文"), ("zh_Hant", "繁體中文"), ("en", "English")):
            assert f'href="/lang/{code}?next={path}"' in html and name in html, (path, code)


@pytest.mark.parametrize(("accept_language", "required", "email", "urgency"), [
    ("zh-CN", "此项为必填项。", "邮箱地址无效。", "未知的紧急程度 someday。"),
    ("zh-TW", "此欄位為必填。", "電子郵件地址無效。", "未知的緊急程度 someday。"),
    ("en", "This field is required.", "Not a valid e-mail address.", "Unknown urgency someday."),
])
def test_validation_messages_are_translated(cs_client, accept_language, required, email, urgency):
    data = need_data(title="", reporter_email="nope", urgency="someday")

    html = cs_client.post("/needs/new", data=data, headers={"Accept-Language": accept_language}).text

    assert field_errors(html, "title") == [required]
    assert field_errors(html, "reporter_email") == [email]
    assert field_errors(html, "urgency") == [urgency]


def test_the_flash_and_the_selects_are_translated(cs_client):
    cs_client.get("/lang/zh_Hans?next=/needs")

    form = cs_client.get("/needs/new").text
    response = cs_client.post("/needs/new", data=need_data(), follow_redirects=True)

    assert '<option value="critical">紧急</option>' in form and '<option value="billing">计费</option>' in form
    assert '<option value="acceptance">验收</option>' in form
    assert "需求 N-0001 已登记" in response.text
    assert "推广上线" in response.text


def test_the_login_page_is_translated(web_app):
    html = web_app.test_client().get("/login", headers={"Accept-Language": "zh-TW"}).text

    assert "登入 Cocreate" in html and "使用者名稱" in html and "密碼" in html
