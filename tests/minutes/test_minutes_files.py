"""Minutes written elsewhere come in as Markdown or YAML; a minutes page goes out as Markdown and as a
printable page."""

from __future__ import annotations

import io
import textwrap

from sync.minutes.files import minutes_markdown, parse_markdown
from sync.minutes.records import as_input, load_minutes, snapshot, validate_minutes
from tests.factories import file_need
from tests.minutes.helpers import TODAY, file_minutes, row_counts

YAML_FILE = """\
customer: acme
topic: Quarterly review
date: 2026-12-01
time: 14:30
place: ACME HQ
attendees: [Li Na, Wang Wei]
visibility: shared
decisions: Ship the tax number in January.
needs: [N-0001]
action_items:
  - text: Send a sample invoice
    owner: Wang Wei
    due_date: 2099-12-10
"""

MARKDOWN_FILE = """\
# 季度回顾

- 客户: acme
- 日期: 2026-12-01
- 时间: 09:00
- 参会人员: 李娜、王伟
- 可见范围: 与客户共享

## 决议

一月上线税号。

## 待办事项

| 事项 | 负责人 | 截止日期 |
|---|---|---|
| 发送样本发票 \\| 含税号 | Wang Wei | 2099-12-10 |

## 关联需求

- N-0001 发票显示税号
"""


def upload(client, name: str, text: str):
    return client.post("/minutes/import", data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_a_yaml_file_becomes_minutes(runtime, cs_client):
    file_need(runtime)
    response = upload(cs_client, "review.yaml", YAML_FILE)
    assert response.status_code == 302, response.text
    with runtime.Session() as session:
        minutes = load_minutes(session, 1)
    assert (minutes.topic, minutes.meeting_date.isoformat(), minutes.meeting_time.strftime("%H:%M")) == (
        "Quarterly review", "2026-12-01", "14:30")  # an unquoted YAML 14:30 is read as a time, not 870
    assert minutes.attendees == ["Li Na", "Wang Wei"] and minutes.visibility == "shared"
    assert [(i.text, i.owner, i.due_date.isoformat()) for i in minutes.action_items] == [
        ("Send a sample invoice", "Wang Wei", "2099-12-10")]
    assert [link.need.ref for link in minutes.need_links] == ["N-0001"]
    assert minutes.created_by == "cs1"


def test_a_markdown_file_in_chinese_becomes_minutes(runtime, cs_client):
    file_need(runtime)
    response = upload(cs_client, "季度回顾.md", MARKDOWN_FILE)
    assert response.status_code == 302, response.text
    with runtime.Session() as session:
        minutes = load_minutes(session, 1)
    assert minutes.topic == "季度回顾" and minutes.attendees == ["李娜", "王伟"]
    assert minutes.visibility == "shared" and minutes.decisions == "一月上线税号。"
    assert minutes.action_items[0].text == "发送样本发票 | 含税号"
    assert [link.need.ref for link in minutes.need_links] == ["N-0001"]


def test_a_file_with_a_wrong_field_is_refused_by_name(runtime, cs_client):
    file_need(runtime)
    before = row_counts(runtime)
    cases = [
        ("review.yaml", YAML_FILE.replace("attendees:", "atendees:"), "atendees: Unknown field."),
        ("review.yaml", YAML_FILE.replace("    owner: Wang Wei", "    owner: Wang Wei\n    prio: high"),
         "Action item 1 · prio: Unknown field."),
        ("review.yaml", YAML_FILE.replace("2099-12-10", "2020-12-10"),
         "Action item 1 · Due date: 2020-12-10 is in the past."),
        ("review.yaml", "topic: [unclosed", "File: Not valid YAML (line 1)"),
        ("review.md", MARKDOWN_FILE.replace("- 时间", "- 房间"), "房间: Unknown field (line 5)."),
        ("review.md", MARKDOWN_FILE.replace("## 决议", "## Minutes"), "Minutes: Unknown section (line 9)."),
        ("review.md", MARKDOWN_FILE.replace("| 负责人 |", "| Priority |"),
         "Priority: Unknown column of the action items."),
        ("review.txt", "topic: x", "File: Upload a .md, .yaml or .yml file."),
    ]
    for name, text, message in cases:
        response = upload(cs_client, name, text)
        assert response.status_code == 400, name
        assert message in response.text.replace("&#39;", "'"), (message, response.text)
        assert "Nothing was saved." in response.text
    assert row_counts(runtime) == before


def test_markdown_export_reads_back_as_the_same_minutes(runtime, cs_client):
    file_need(runtime)
    minutes = file_minutes(runtime, needs="N-0001", visibility="shared", external_url="https://wiki.example/m/1",
                           decisions="# not a heading\nShip it | soon", action_items=[
                               {"text": "Send a sample\nwith the tax number", "owner": "Wang Wei",
                                "due_date": "2026-12-01"}])
    response = cs_client.get(f"/minutes/{minutes.id}/export.md")
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="minutes-1-2026-11-20.md"'
    text = response.text
    assert text.startswith("# Invoice workshop\n\n- Customer: acme (ACME Corp)\n- Date: 2026-11-20\n- Time: 14:00\n")
    assert "| Send a sample<br>with the tax number | Wang Wei | 2026-12-01 |" in text
    assert "- N-0001 Invoices should show the tax number" in text

    with runtime.Session() as session:
        again = validate_minutes(parse_markdown(text), runtime.settings, session, today=TODAY)
        original = as_input(load_minutes(session, minutes.id))
    assert snapshot(again) == snapshot(original)


def test_markdown_export_speaks_the_readers_language(runtime):
    minutes = file_minutes(runtime, action_items=[{"text": "寄樣本", "owner": "Wang Wei", "due_date": ""}])
    with runtime.Session() as session:
        text = minutes_markdown(load_minutes(session, minutes.id), runtime.settings, "zh_Hant")
    assert textwrap.dedent("""\
        - 可見範圍: 僅內部

        ## 要點""") in text
    assert "| 事項 | 負責人 | 截止日期 |" in text


def test_the_printable_page_has_everything_and_no_navigation(runtime, cs_client):
    file_need(runtime)
    minutes = file_minutes(runtime, needs="N-0001", action_items=[
        {"text": "Send a sample", "owner": "Wang Wei", "due_date": "2026-12-01"}])
    html = cs_client.get(f"/minutes/{minutes.id}/print").text
    assert "<h1>Invoice workshop</h1>" in html and "window.print()" in html and "@media print" in html
    assert "ACME Corp" in html and "Li Na, Wang Wei" in html and "Show the tax number on every PDF invoice." in html
    assert "<td>2026-12-01</td>" in html and "Invoices should show the tax number" in html and "Received" in html
    assert 'class="mainnav"' not in html


def _laughs(levels: int) -> str:
    """The "billion laughs": each level an anchored list of ten aliases of the one before (475 bytes at 9)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\ntopic: *a{levels - 1}\ncustomer: acme\ndate: 2026-12-01\n"


def test_a_yaml_file_with_aliases_is_refused_before_it_expands(runtime, cs_client):
    import tracemalloc

    laughs = _laughs(9)
    assert len(laughs) < 600
    before = row_counts(runtime)
    tracemalloc.start()
    try:
        response = upload(cs_client, "laughs.yaml", laughs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 400
    assert "File: Line 1: anchors and aliases (&amp; and *) are not accepted; write each value out." in response.text
    assert peak < 50 * 2**20
    assert row_counts(runtime) == before


def test_a_list_or_mapping_where_text_belongs_is_refused_by_name(runtime, cs_client):
    file_need(runtime)
    cases = [
        (YAML_FILE.replace("topic: Quarterly review", "topic: [Quarterly, review]"), "Topic: Write this as plain text"),
        (YAML_FILE.replace("place: ACME HQ", "place: {city: Paris}"), "Place: Write this as plain text"),
        (YAML_FILE.replace("attendees: [Li Na, Wang Wei]", "attendees: [[Li Na], Wang Wei]"),
         "Attendees: Write each entry of this list as plain text."),
        (YAML_FILE.replace("owner: Wang Wei", "owner: [Wang Wei]"), "Action item 1 · Owner: Write this as plain"),
    ]
    for text, message in cases:
        response = upload(cs_client, "review.yaml", text)
        assert response.status_code == 400
        assert message in response.text, (message, response.text)


def test_minutes_errors_are_in_the_page_language(runtime, cs_client):
    response = cs_client.post("/minutes/import", data={"file": (io.BytesIO(_laughs(3).encode()), "x.yaml")},
                              content_type="multipart/form-data", headers={"Accept-Language": "zh-TW"})
    assert response.status_code == 400
    assert "不接受錨點" in response.text
