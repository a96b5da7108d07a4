"""The CS workspace in Chromium, in Traditional Chinese, against the fake GitHub: file a need, edit it with a
screenshot, talk in its thread, see what the customer's status page shows, receive R&D's ``[customer]`` comment
by a signed webhook, search 1,000 needs, set three owners in one bulk action; and two people editing one need.

Screenshots of every step go to ``$COCREATE_SCREENSHOTS`` when it is set, else to the test's ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import urllib.request
import uuid
from pathlib import Path

import pytest
import responses
from playwright.sync_api import expect
from sqlalchemy import insert, select

from sync.ledger import accounts
from sync.ledger.customers import issue_status_token
from sync.ledger.store import Need, NeedEdit
from tests.browser import open_page, serve, submit_login  # noqa: F401  the browser fixture
from tests.e2e.loop import github_issue_comment
from tests.github.fake_github import FakeGitHub
from tests.images import png_bytes
from tests.notify.servers import smtp_server  # noqa: F401  fixture
from tests.sync.trackers import stored, tracker_runtime
from webhooks.app import create_app

ISSUE = "acme/billing#1"
NOTE = "內部：客戶合約下月到期，先別承諾日期"
REPLY = "感謝您的耐心，研發已排入十二月的版本。"
RND = "統一編號將於 4.2 版顯示在 PDF 發票上。"


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where this test's screenshots go."""
    folder = Path(os.environ.get("COCREATE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def workspace(tmp_path, smtp_server):
    """The app (CSRF on) on the fake GitHub with ACME's contact told by e-mail at a real SMTP server, served on a
    free port, with CS users ``cs1`` and ``cs2``; yields the fake site, the runtime and the URL."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        fake = FakeGitHub(mock, repos=["acme/billing"])
        runtime = tracker_runtime("github", tmp_path / "home", replace={"    locale: en\n    channels":
                                                                        "    locale: zh-Hant\n    channels"},
                                  extra_yaml=(f"notifications:\n  smtp: {{host: 127.0.0.1, port: {smtp_server.port}, "
                                              "security: none, sender: 'Cocreate <cocreate@example.com>'}\n"))
        with runtime.Session.begin() as session:
            accounts.add_user(session, "cs1", "password1", "cs")
            accounts.add_user(session, "cs2", "password2", "cs")
        with serve(create_app({}, runtime=runtime)) as url:
            yield fake, runtime, url
        runtime.close()


def log_in(page, url: str, name: str = "cs1", password: str = "password1") -> None:
    """Log in through the form and switch the interface to Traditional Chinese."""
    page.goto(f"{url}/login")
    submit_login(page, name, password)
    page.click("nav.langs >> text=繁體中文")


def deliver_github(url: str, event: str, payload: dict, secret: str = "github-secret") -> int:
    """POST ``payload`` to the served receiver as GitHub does: over HTTP, signed with ``X-Hub-Signature-256``."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}/webhooks/github", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def many_needs(count: int, first: int) -> list[dict]:
    """``count`` needs of ACME as store rows, refs from ``N-<first>``, none of them about exports."""
    moment = dt.datetime(2026, 11, 2, 9, 0)
    topics = ["登入逾時", "行動版選單跑版", "發票金額四捨五入", "權限設定", "通知信延遲", "報表欄位順序"]
    return [{"ref": f"N-{number:04d}", "category": "billing", "title": f"{topics[number % len(topics)]} #{number}",
             "description": "客戶回報的問題。", "urgency": "medium", "reporter_name": "林小姐",
             "reported_at": moment + dt.timedelta(minutes=number), "owner": "Wang Wei", "status": "new",
             "remarks": "", "customer": "acme", "created_at": moment, "updated_at": moment,
             "status_changed_at": moment, "sync_state": "pending", "synced_fields": {}}
            for number in range(first, first + count)]


def test_a_cs_day_in_traditional_chinese(workspace, open_page, shots):
    fake, runtime, url = workspace
    page = open_page()
    log_in(page, url)

    # File a need.
    page.goto(f"{url}/needs/new")
    page.select_option("#category", "billing")
    page.select_option("#urgency", "high")
    page.fill("#title", "匯出的發票缺少統一編號")
    page.fill("#description", "客戶的財務部門需要在每張匯出的 PDF 發票上看到統一編號。")
    page.fill("#customer", "acme")
    page.fill("#reporter_name", "林小姐")
    page.fill("#reporter_email", "lin@acme.example")
    page.fill("#reported_at", "2026-11-20T09:30")
    page.fill("#owner", "Wang Wei")
    page.screenshot(path=shots / "01-new-need.png", full_page=True)
    page.click("button.primary")
    expect(page).to_have_url(f"{url}/needs/N-0001")
    expect(page.locator(".flash-success")).to_be_visible()
    assert stored(runtime, "N-0001").issue_key == ISSUE  # synced inline to the fake GitHub

    # Edit two fields and add a screenshot; both changes are in the field history.
    page.click("#edit-need")
    page.fill("#title", "匯出的發票缺少統一編號與地址")
    page.select_option("#urgency", "critical")
    page.set_input_files("#screenshots", files=[
        {"name": "發票.png", "mimeType": "image/png", "buffer": png_bytes(320, 200, (40, 110, 190))}])
    page.screenshot(path=shots / "02-edit.png", full_page=True)
    page.click("button.primary")
    expect(page).to_have_url(f"{url}/needs/N-0001")
    expect(page.locator(".flash-success")).to_have_text("需求 N-0001 已儲存")
    expect(page.locator("#screenshots img")).to_have_count(1)
    history = page.locator("#field-history tbody tr")
    expect(history.locator("td:nth-child(2)")).to_have_text(["問題截圖", "緊急程度", "標題"])
    expect(history.nth(0)).to_contain_text("新增 發票.png")
    expect(history.nth(1)).to_contain_text("高")
    expect(history.nth(1)).to_contain_text("緊急")
    expect(history.nth(2)).to_contain_text("匯出的發票缺少統一編號與地址")
    page.screenshot(path=shots / "03-field-history.png", full_page=True)

    # An internal note and a reply to the customer.
    page.fill("#body", NOTE)
    page.click("#add-note")
    page.fill("#body", REPLY)
    page.click("#send-reply")
    thread = page.locator("#thread")
    expect(thread.locator(".message")).to_have_count(2)
    expect(thread.locator(".message-internal")).to_contain_text("內部備註")
    expect(thread.locator(".message-internal")).to_contain_text(NOTE)
    expect(thread.locator(".message-customer")).to_contain_text("回覆客戶")
    expect(thread.locator(".message-customer")).to_contain_text(REPLY)
    page.screenshot(path=shots / "04-thread.png", full_page=True)

    # The customer's status page shows the reply, never the note.
    status_url = f"{url}/s/{issue_status_token(runtime, 'acme')}"
    customer = open_page("zh-TW")
    customer.goto(status_url)
    expect(customer.locator("body")).to_contain_text(REPLY)
    expect(customer.locator("body")).not_to_contain_text(NOTE)
    customer.screenshot(path=shots / "05-status-page.png", full_page=True)

    # R&D writes a [customer] comment on the issue; GitHub delivers it signed.
    comment = fake.comment(ISSUE, f"[customer] {RND}", login="octo-dev", association="MEMBER")
    assert deliver_github(url, "issue_comment", github_issue_comment(fake.issue(ISSUE), comment,
                                                                     "acme/billing")) == 202
    page.reload()
    rnd = page.locator("#thread .message-rnd")
    expect(rnd).to_have_count(1)
    expect(rnd).to_contain_text("來自研發團隊")
    expect(rnd).to_contain_text("octo-dev")
    expect(rnd).to_contain_text(RND)
    # The reply and the forwarded comment each went to ACME's e-mail, named in the page's language.
    expect(page.locator("#deliveries tbody tr td:nth-child(2)")).to_have_text(["ACME Corp (電子郵件)"] * 2)
    page.screenshot(path=shots / "06-thread-rnd.png", full_page=True)
    customer.reload()
    expect(customer.locator(".message-rnd")).to_contain_text("來自研發團隊")
    expect(customer.locator(".message-rnd")).to_contain_text(RND)
    expect(customer.locator("body")).not_to_contain_text(NOTE)
    customer.screenshot(path=shots / "07-status-page-rnd.png", full_page=True)

    # 1,000 more needs; the search finds the one about exports, the word marked.
    with runtime.Session.begin() as session:
        session.execute(insert(Need), many_needs(1000, first=2))
    page.goto(f"{url}/needs")
    page.fill("input[name=q]", "匯出")
    page.press("input[name=q]", "Enter")
    rows = page.locator("table.needs tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator(".page-head")).to_contain_text("共 1 筆需求")
    expect(rows.locator(".col-ref")).to_have_text("N-0001")
    expect(rows.locator(".col-title a mark")).to_have_text("匯出")
    page.screenshot(path=shots / "08-search.png", full_page=True)

    # Tick three rows and set their owner in one bulk action.
    page.goto(f"{url}/needs")
    boxes = page.locator("table.needs tbody input[type=checkbox][name=ref]")
    refs = [boxes.nth(index).get_attribute("value") for index in range(3)]
    for index in range(3):
        boxes.nth(index).check()
    expect(page.locator("#bulk-count")).to_have_text("已選取 3 筆需求")
    page.select_option("#bulk-action", "owner")
    page.fill("#bulk-owner", "陳志明")
    page.screenshot(path=shots / "09-bulk-choose.png", full_page=True)
    page.click("#bulk-submit")
    expect(page.locator(".count-changed")).to_have_text("3")
    page.screenshot(path=shots / "10-bulk-review.png", full_page=True)
    page.click("#confirm-bulk")
    expect(page.locator(".flash-success")).to_contain_text("3")
    page.screenshot(path=shots / "11-bulk-applied.png", full_page=True)
    with runtime.Session() as session:
        owners = dict(session.execute(select(Need.ref, Need.owner).where(Need.ref.in_(refs))).all())
        edited = session.scalars(select(Need.ref).join(NeedEdit).where(NeedEdit.field == "owner")).all()
    assert owners == {ref: "陳志明" for ref in refs}
    assert sorted(edited) == sorted(refs)


def test_two_people_edit_one_need_and_the_second_loses_nothing(workspace, open_page, shots):
    fake, runtime, url = workspace
    first, second = open_page(), open_page()
    log_in(first, url)
    log_in(second, url, "cs2", "password2")
    first.goto(f"{url}/needs/new")
    first.select_option("#category", "billing")
    first.select_option("#urgency", "medium")
    first.fill("#title", "匯出的發票缺少統一編號")
    first.fill("#customer", "acme")
    first.fill("#reporter_name", "林小姐")
    first.fill("#reported_at", "2026-11-20T09:30")
    first.click("button.primary")
    expect(first).to_have_url(f"{url}/needs/N-0001")

    first.goto(f"{url}/needs/N-0001/edit")
    second.goto(f"{url}/needs/N-0001/edit")
    first.fill("#title", "匯出的發票缺少統一編號與地址")
    first.click("button.primary")
    expect(first.locator(".flash-success")).to_have_text("需求 N-0001 已儲存")

    second.fill("#title", "發票缺少統一編號（財務部）")
    second.fill("#remarks", "客戶週五前要答覆")
    second.click("button.primary")
    conflict = second.locator(".conflict")
    expect(conflict).to_contain_text("未儲存任何內容：在你開啟後，有人儲存了這筆需求。")
    expect(conflict.locator("tbody tr")).to_have_count(1)
    expect(conflict.locator("tbody tr")).to_contain_text("cs1")
    expect(conflict.locator("tbody tr")).to_contain_text("匯出的發票缺少統一編號與地址")
    expect(conflict.locator("tbody tr")).to_contain_text("發票缺少統一編號（財務部）")
    expect(second.locator("#title")).to_have_value("發票缺少統一編號（財務部）")
    expect(second.locator("#remarks")).to_have_value("客戶週五前要答覆")
    expect(second.locator("#title-error")).to_have_text("cs1 在你開啟表單後修改了此欄位。")
    second.screenshot(path=shots / "12-edit-conflict.png", full_page=True)
    need = stored(runtime, "N-0001")
    assert (need.title, need.remarks, need.version) == ("匯出的發票缺少統一編號與地址", "", 2)

    # Saving the form as the conflict shows it applies what the second person typed, knowingly.
    second.click("button.primary")
    expect(second.locator(".flash-success")).to_have_text("需求 N-0001 已儲存")
    assert (stored(runtime, "N-0001").title, stored(runtime, "N-0001").remarks) == ("發票缺少統一編號（財務部）",
                                                                                    "客戶週五前要答覆")

    # Each changes a field the other left alone: the second's form takes the first's value, so saving it again
    # keeps both changes rather than undoing the first.
    first.goto(f"{url}/needs/N-0001/edit")
    second.goto(f"{url}/needs/N-0001/edit")
    first.select_option("#urgency", "critical")
    first.click("button.primary")
    expect(first.locator(".flash-success")).to_be_visible()
    second.fill("#owner", "陳志明")
    second.click("button.primary")
    conflict = second.locator(".conflict tbody tr")
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text("緊急程度")
    expect(conflict).to_contain_text("你沒有改過：表單現在顯示對方的值")
    expect(second.locator("#urgency")).to_have_value("critical")
    expect(second.locator("#owner")).to_have_value("陳志明")
    second.screenshot(path=shots / "13-edit-conflict-other-field.png", full_page=True)
    assert stored(runtime, "N-0001").owner is None
    second.click("button.primary")
    expect(second.locator(".flash-success")).to_have_text("需求 N-0001 已儲存")
    need = stored(runtime, "N-0001")
    assert (need.urgency, need.owner, need.title) == ("critical", "陳志明", "發票缺少統一編號（財務部）")
