"""The pages: /needs/import (upload, dry run, confirm), /needs/export, /reports and the SLA mark for /needs."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from flask import render_template_string
from openpyxl import load_workbook
from sqlalchemy import select

from sync.ledger.store import Need
from tests.factories import file_need
from tests.table.sheets import SEED_HEADERS, add_need, need_count, needs_by_ref, write_xlsx
from tests.web.pages import log_in

HEADER = SEED_HEADERS["zh_Hant"] + ["客戶"]


def row(ref, description="發票要顯示稅號", urgency="高"):
    return [ref, "計費", description, "", urgency, "Li Na", "2026-11-20 09:30", "", "", "", "acme"]


def upload(client, path, customer=""):
    with open(path, "rb") as handle:
        return client.post("/needs/import", data={"file": (io.BytesIO(handle.read()), path.name), "customer": customer},
                           content_type="multipart/form-data")


def problems_shown(html: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="import-problems problems">(.*?)</table>', html, re.S)
    cells = re.findall(r'<td class="col-row">(.*?)</td>\s*<td class="col-column">(.*?)</td>\s*'
                       r'<td class="col-problem">(.*?)</td>', table.group(1), re.S) if table else []
    return [tuple(unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in found) for found in cells]


def test_upload_shows_the_dry_run_then_confirm_imports_the_good_rows(cs_client, runtime, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1"), row("2", description=""),
                                                 row("3", urgency="超急"), row("4")])
    page = upload(cs_client, sheet)

    assert page.status_code == 200
    # The page is in English, the problems in the sheet's language: its headers are zh-Hant.
    assert problems_shown(page.text) == [
        ("3", "問題詳細描述 (C)", "此欄位為必填。"),
        ("4", "緊急程度 (E)", "未知的緊急程度 超急。"),
    ]
    assert "Import 2 rows" in page.text and "2 rows with problems will be left out." in page.text
    assert need_count(runtime) == 0
    confirm = re.search(r'action="(/needs/import/[A-Za-z0-9_-]+)"', page.text).group(1)

    done = cs_client.post(confirm)

    assert done.status_code == 200
    assert "Imported needs.xlsx: 2 new, 0 updated, 0 unchanged, 2 refused." in unescape(done.text)
    assert sorted(needs_by_ref(runtime)) == ["1", "4"] and needs_by_ref(runtime)["1"].created_by == "cs1"
    assert runtime.queue.named("sync_needs") == [(["1", "4"],)]
    assert list((runtime.home / "imports").iterdir()) == []
    assert cs_client.post(confirm).status_code == 410  # one confirmation per upload


def changes_shown(html: str) -> list[tuple[str, ...]]:
    table = re.search(r'<table class="import-changes">(.*?)</table>', html, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:] if table else []
    return [tuple(unescape(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", found, re.S))
            for found in rows]


def test_reuploading_the_export_changes_nothing_and_one_changed_cell_is_shown_old_and_new(cs_client, runtime,
                                                                                         tmp_path):
    upload(cs_client, write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1"), row("2", description="報表要能篩選")]))
    confirm = cs_client.post("/needs/import/" + next((runtime.home / "imports").glob("*.json")).stem)
    assert confirm.status_code == 200 and sorted(needs_by_ref(runtime)) == ["1", "2"]
    exported = tmp_path / "export.xlsx"
    exported.write_bytes(cs_client.get("/needs/export").data)

    again = upload(cs_client, exported)
    assert again.status_code == 200
    assert re.search(r'class="count-updated">0<', again.text) and re.search(r'class="count-unchanged">2<', again.text)
    assert changes_shown(again.text) == [] and "Nothing to import" in again.text

    workbook = load_workbook(exported)
    workbook.active["E3"] = "Critical"  # need 2's urgency
    workbook.active["C3"] = "報表要能篩選，" + "並且可以依照客戶與月份匯出成 PDF 檔案寄給財務部門的同事" * 3
    workbook.save(exported)
    changed = upload(cs_client, exported)

    assert re.search(r'class="count-updated">1<', changed.text) and "Import 1 row" in changed.text
    shown = changes_shown(changed.text)
    # The export's 標題 column keeps the title; the long new description is shortened.
    assert [found[:3] for found in shown] == [("2", "3", "Description"), ("2", "3", "Urgency")]
    assert shown[1][3:] == ("High", "Critical")
    assert shown[0][3] == "報表要能篩選" and shown[0][4].startswith("報表要能篩選，並且") and shown[0][4].endswith("…")
    assert len(shown[0][4]) <= 61
    assert needs_by_ref(runtime)["2"].urgency == "high"  # nothing written before the confirmation


def test_english_headers_get_english_problems_on_a_chinese_page(cs_client, tmp_path):
    header = SEED_HEADERS["en"] + ["Customer"]
    page = cs_client.get("/needs/import", headers={"Accept-Language": "zh-TW"})
    assert "匯入" in page.text
    with open(write_xlsx(tmp_path / "needs.xlsx", [header, row("1", description="")]), "rb") as handle:
        page = cs_client.post("/needs/import", data={"file": (io.BytesIO(handle.read()), "needs.xlsx")},
                              content_type="multipart/form-data", headers={"Accept-Language": "zh-TW"})
    assert problems_shown(page.text) == [("2", "Description (C)", "This field is required.")]
    assert "列" in page.text  # the page itself stays in zh-Hant


def test_only_the_uploader_can_confirm(web_app, cs_client, make_user, runtime, tmp_path):
    page = upload(cs_client, write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1")]))
    confirm = re.search(r'action="(/needs/import/[A-Za-z0-9_-]+)"', page.text).group(1)
    make_user("cs2", "password2", "cs")
    other = web_app.test_client()
    log_in(other, "cs2", "password2")

    assert other.post(confirm).status_code == 404
    assert other.post("/needs/import/..%2Fsecret_key").status_code == 404
    assert need_count(runtime) == 0


def test_upload_refuses_what_is_not_a_table(cs_client, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    page = upload(cs_client, text)
    assert page.status_code == 400 and "notes.txt is not an .xlsx or .csv file." in unescape(page.text)

    headless = write_xlsx(tmp_path / "plain.xlsx", [["a", "b"], ["1", "2"]])
    page = upload(cs_client, headless)
    assert page.status_code == 400 and "No header row found" in page.text


def test_nothing_to_import_offers_no_confirmation(cs_client, tmp_path):
    sheet = write_xlsx(tmp_path / "needs.xlsx", [HEADER, row("1", description="")])
    page = upload(cs_client, sheet)
    assert "Nothing to import" in page.text and "/needs/import/" not in page.text.replace('action="/needs/import"', "")


def test_export_downloads_with_filters_and_language(cs_client, runtime, tmp_path):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")], urgency="critical")
    add_need(runtime, "N-0002", "10-02 00:00", [("new", "10-02 00:00", "cs")], category="reports")

    response = cs_client.get("/needs/export?category=reports&lang=zh_Hans")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r"attachment; filename=cocreate-needs-\d{8}-\d{4}\.xlsx", disposition)
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("序号", "产品类别") and [row[0] for row in rows[1:]] == ["N-0002"]

    as_csv = cs_client.get("/needs/export?format=csv", headers={"Accept-Language": "zh-TW"})
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert re.fullmatch(r"attachment; filename=cocreate-needs-\d{8}-\d{4}\.csv", as_csv.headers["Content-Disposition"])
    assert as_csv.data.decode("utf-8-sig").startswith("序號,產品類別")
    for download in (response, as_csv):  # never kept by a browser or a proxy
        assert download.headers["Cache-Control"] == "no-cache, max-age=0" and "Expires" in download.headers
    assert cs_client.get("/needs/export?format=ods").status_code == 404


def test_export_download_is_a_stream_of_the_formatted_workbook(cs_client, runtime):
    file_need(runtime, urgency="critical")
    file_need(runtime, urgency="low", reported_at="2026-11-21T10:15:30+00:00")
    with runtime.Session.begin() as session:
        need = session.scalars(select(Need).where(Need.ref == "N-0001")).one()
        need.issue_key, need.issue_url = "CS-12", "https://jira.example/browse/CS-12"
        need.remarks = "=SUM(A1:A3) is text\x07, not a formula"

    response = cs_client.get("/needs/export?lang=en")

    assert response.is_streamed and "Content-Length" not in response.headers
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Requirements" and sheet.freeze_panes == "B2"
    assert sheet["A1"].value == "Ref" and sheet["A1"].font.bold and sheet["A1"].fill.fgColor.rgb.endswith("1F4E8C")
    assert sheet.column_dimensions["C"].width == 60 and sheet.auto_filter.ref == "A1:R3"
    assert sheet["E2"].fill.fgColor.rgb.endswith("FEF3F2") and sheet["E3"].fill.fgColor.rgb.endswith("F2F4F7")
    assert sheet["C2"].alignment.wrap_text and sheet["C2"].alignment.vertical == "top"
    assert sheet["J2"].value == "=SUM(A1:A3) is text, not a formula" and sheet["J2"].data_type == "s"
    assert sheet["Q2"].hyperlink.target == sheet["R2"].hyperlink.target == "https://jira.example/browse/CS-12"
    assert sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["G3"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_export_download_starts_before_the_needs_are_read(cs_client, runtime):
    add_need(runtime, "N-0001", "10-01 00:00", [("new", "10-01 00:00", "cs")])

    response = cs_client.get("/needs/export?format=csv&lang=en")
    chunks = iter(response.response)
    first = next(chunks)
    # The header row is sent before the query runs: a need stored now is still in the download.
    add_need(runtime, "N-0002", "10-02 00:00", [("new", "10-02 00:00", "cs")])
    rest = b"".join(chunks)
    response.close()

    assert first.decode("utf-8-sig") == ",".join(SEED_HEADERS["en"]) + ",Customer,Stage,Reporter e-mail," \
        "Reporter channel,Linked to,Title,Tracker issue,Tracker link\r\n"
    assert [line.split(",")[0] for line in rest.decode().splitlines()] == ["N-0001", "N-0002"]


def test_reports_page_and_its_html_document(cs_client, runtime):
    add_need(runtime, "N-0001", "2026-11-01 00:00", [("new", "2026-11-01 00:00", "cs")], urgency="critical",
             title="Tax number on invoices")

    page = cs_client.get("/reports?month=2026-11")
    assert page.status_code == 200
    assert "Voice of the customer, 2026-11" in page.text
    assert page.text.count('<img class="chart"') == 6
    overdue = re.search(r'<table class="overdue">(.*?)</table>', page.text, re.S).group(1)
    assert "N-0001" in overdue and "Tax number on invoices" in overdue and "First response" in overdue

    document = cs_client.get("/reports/voc-2026-11.html?download=1")
    assert document.headers["Content-Disposition"] == 'attachment; filename="cocreate-voc-2026-11.html"'
    assert document.text.startswith("<!doctype html>")
    assert cs_client.get("/reports?month=2026-13").status_code == 404
    assert cs_client.get("/reports").status_code == 200



@pytest.mark.parametrize("month", ["0000-01", "0001-01", "9999-12", "1969-12"])
def test_a_month_outside_the_reported_ones_is_a_page_saying_so(cs_client, month):
    for path in (f"/reports?month={month}", f"/reports/voc-{month}.html"):
        response = cs_client.get(path, headers={"Accept-Language": "zh-TW"})
        assert response.status_code == 404
        assert "沒有這個月份" in response.text and "1970-01" in response.text and "N-0042" not in response.text

def test_pages_need_a_login(web_app):
    client = web_app.test_client()
    for path in ("/reports", "/needs/export", "/needs/import"):
        assert client.get(path).status_code == 302


def test_sla_badge_marks_overdue_needs_for_the_table(web_app, runtime):
    add_need(runtime, "N-0001", "2026-01-01 00:00", [("new", "2026-01-01 00:00", "cs")], urgency="critical")
    add_need(runtime, "N-0002", "2026-01-01 00:00", [("new", "2026-01-01 00:00", "cs")], urgency="low")
    needs = needs_by_ref(runtime)
    with web_app.test_request_context("/needs"):
        html = render_template_string(
            '{% from "table/_sla.html" import sla_badge %}'
            '<tr class="{{ sla_state(a).css_class }}">{{ sla_badge(a) }}</tr><tr>{{ sla_badge(b) }}</tr>',
            a=needs["N-0001"], b=needs["N-0002"])
    assert html.startswith('<tr class="sla-overdue"><span class="badge sla-overdue"')
    assert "Overdue" in html and html.endswith("<tr></tr>")
