"""A large upload to /needs/import is checked by the ``check_import`` job, not in the request: a status page shows
its progress, then the same dry run and confirmation as a small upload."""

from __future__ import annotations

import re
from html import unescape

import pytest

from plugin.loading import parse_settings
from sync.runtime import JOBS
from sync.table import checking, importer
from sync.table.sheets import estimate_rows
from tests.table.helpers import TABLE_YAML
from tests.table.sheets import need_count, needs_by_ref, write_xlsx
from tests.table.test_table_web import HEADER, changes_shown, row, upload
from tests.web.pages import log_in


@pytest.fixture
def settings():
    return parse_settings(TABLE_YAML + "table:\n  inline_rows: 3\n", "table.yaml")


def large_sheet(tmp_path):
    return write_xlsx(tmp_path / "large.xlsx", [HEADER, row("1"), row("2"), row("3", urgency="超急"), row("4"),
                                                row("5")])


def test_a_large_upload_is_checked_by_a_job_with_progress_then_confirmed(cs_client, runtime, tmp_path,
                                                                          monkeypatch):
    answer = upload(cs_client, large_sheet(tmp_path))

    assert answer.status_code == 303
    status = answer.headers["Location"]
    token = status.rsplit("/", 1)[1]
    assert runtime.queue.named("check_import") == [(token,)]
    meta = checking.read_meta(runtime.home / "imports", token)
    assert "report" not in meta and meta["progress"] == {"done": 0, "total": 6}  # nothing checked in the request

    waiting = cs_client.get(status)
    assert waiting.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in waiting.text
    assert "0 of about 6 rows checked" in waiting.text and "confirm-import" not in waiting.text

    snapshots = []
    write_meta = checking.write_meta
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    monkeypatch.setattr(checking, "PROGRESS_ROWS", 2)
    monkeypatch.setattr(checking, "write_meta", lambda folder, name, data: (snapshots.append(data),
                                                                            write_meta(folder, name, data)))
    JOBS["check_import"](runtime, token)

    assert [snapshot["progress"]["done"] for snapshot in snapshots] == [2, 4, 5]
    assert "report" not in snapshots[0] and snapshots[-1]["report"]["created"] == 4
    assert need_count(runtime) == 0
    done = cs_client.get(status)
    assert "refresh" not in done.text
    assert "未知的緊急程度 超急。" in unescape(done.text) and "Import 4 rows" in done.text
    confirm = re.search(r'action="(/needs/import/[A-Za-z0-9_-]+)"', done.text).group(1)
    assert confirm == status

    imported = cs_client.post(confirm)

    assert imported.status_code == 200
    assert "Imported large.xlsx: 4 new, 0 updated, 0 unchanged, 1 refused." in unescape(imported.text)
    assert sorted(needs_by_ref(runtime)) == ["1", "2", "4", "5"]
    assert list((runtime.home / "imports").iterdir()) == []


def test_the_jobs_result_lists_the_changed_fields(cs_client, runtime, tmp_path):
    importer.import_table(runtime, large_sheet(tmp_path), dry_run=False)
    sheet = write_xlsx(tmp_path / "large.xlsx", [HEADER, row("1"), row("2", urgency="低"), row("3"), row("4"),
                                                 row("5")])
    status = upload(cs_client, sheet).headers["Location"]
    JOBS["check_import"](runtime, status.rsplit("/", 1)[1])

    page = cs_client.get(status)

    assert changes_shown(page.text) == [("2", "3", "Urgency", "High", "Low")]
    assert re.search(r'class="count-updated">1<', page.text) and "Import 2 rows" in page.text


def test_running_the_job_again_changes_nothing(cs_client, runtime, tmp_path):
    token = upload(cs_client, large_sheet(tmp_path)).headers["Location"].rsplit("/", 1)[1]
    JOBS["check_import"](runtime, token)
    first = checking.read_meta(runtime.home / "imports", token)
    JOBS["check_import"](runtime, token)
    assert checking.read_meta(runtime.home / "imports", token) == first


def test_only_the_uploader_sees_the_check(web_app, cs_client, make_user, runtime, tmp_path):
    status = upload(cs_client, large_sheet(tmp_path)).headers["Location"]
    token = status.rsplit("/", 1)[1]
    make_user("cs2", "password2", "cs")
    other = web_app.test_client()
    log_in(other, "cs2", "password2")

    assert other.get(status).status_code == 404
    JOBS["check_import"](runtime, token)
    assert other.get(status).status_code == 404
    assert other.post(status).status_code == 404
    assert other.get("/needs/import/..%2Fsecret_key").status_code == 404
    assert need_count(runtime) == 0
    assert web_app.test_client().get(status).status_code in (302, 401)  # no login


def test_a_small_upload_is_still_checked_in_the_request(cs_client, runtime, tmp_path):
    page = upload(cs_client, write_xlsx(tmp_path / "small.xlsx", [HEADER, row("1"), row("2")]))
    assert page.status_code == 200 and "Import 2 rows" in page.text
    assert runtime.queue.named("check_import") == []


def test_a_large_file_that_is_no_table_is_refused_on_the_status_page(cs_client, runtime, tmp_path):
    sheet = tmp_path / "notes.csv"
    sheet.write_text("hello,world\n" * 6)
    answer = upload(cs_client, sheet)
    assert answer.status_code == 303
    JOBS["check_import"](runtime, answer.headers["Location"].rsplit("/", 1)[1])

    page = cs_client.get(answer.headers["Location"])

    assert page.status_code == 400 and "Nothing was imported." in page.text
    assert list((runtime.home / "imports").iterdir()) == []


def test_estimate_rows_counts_lines_and_reads_the_stated_size(tmp_path):
    csv = tmp_path / "needs.csv"
    csv.write_text("a,b\n1,2\n3,4")
    assert estimate_rows(csv) == 3
    assert estimate_rows(large_sheet(tmp_path)) == 6
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    assert estimate_rows(tmp_path / "junk.xlsx") is None
