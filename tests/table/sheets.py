"""Helpers for the table tests: write sheets as CS keeps them, read exported ones back, add needs with history."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from sync.ledger.store import Need, StatusChange

SEED_HEADERS = {
    "zh_Hant": ["序號", "產品類別", "問題詳細描述", "問題截圖", "緊急程度", "反饋人", "反饋時間", "跟進人", "狀態", "說明"],
    "zh_Hans": ["序号", "产品类别", "问题详细描述", "问题截图", "紧急程度", "反馈人", "反馈时间", "跟进人", "状态", "说明"],
    "en": ["Ref", "Product category", "Description", "Screenshots", "Urgency", "Reporter", "Time reported", "Owner",
           "Status", "Remarks"],
}


def write_xlsx(path: Path, rows: list[list], title_rows: list[list] = ()) -> Path:
    """A workbook whose first sheet holds ``title_rows`` then ``rows`` (the header row first)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in [*title_rows, *rows]:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_cells(path: Path) -> list[list]:
    """Every row of an exported .xlsx or .csv file as text ('' for empty cells; times as text)."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return [list(row) for row in csv.reader(handle)]
    sheet = load_workbook(path).active
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(["" if value is None else (f"{value:%Y-%m-%d %H:%M}" if isinstance(value, dt.datetime)
                                               else str(value)) for value in row])
    return rows


def need_count(runtime) -> int:
    with runtime.Session() as session:
        return session.scalar(select(func.count(Need.id)))


def needs_by_ref(runtime) -> dict[str, Need]:
    with runtime.Session() as session:
        return {need.ref: need for need in session.scalars(select(Need))}


def at(text: str) -> dt.datetime:
    """``"10-02 06:00"`` -> 2026-10-02 06:00 UTC; a full ``2026-...`` date is taken as written."""
    value = dt.datetime.fromisoformat(text if text.startswith("20") else f"2026-{text}")
    return value.replace(tzinfo=dt.UTC)


def add_need(runtime, ref: str, reported: str, history: list[tuple[str, str, str]], *, urgency: str = "high",
             category: str = "billing", customer: str = "acme", issue_key: str | None = None,
             owner: str | None = "Wang Wei", created: str | None = None, title: str | None = None) -> None:
    """Store a need directly with its status history ``[(status, at, source), ...]`` (the last is current)."""
    with runtime.Session.begin() as session:
        need = Need(ref=ref, category=category, title=title or f"Need {ref}", description="", urgency=urgency,
                    reporter_name="Li Na", reported_at=at(reported), owner=owner, status=history[-1][0],
                    customer=customer, created_at=at(created or history[0][1]),
                    status_changed_at=at(history[-1][1]), issue_key=issue_key,
                    issue_url=f"https://jira.example/browse/{issue_key}" if issue_key else None,
                    sync_state="synced" if issue_key else "waiting_for_tracker")
        previous = None
        for status, moment, source in history:
            need.history.append(StatusChange(status=status, previous=previous, source=source, at=at(moment)))
            previous = status
        session.add(need)
