"""Import of a 10,000-row requirement table: time and peak memory of the dry run, the import, a re-import
(every row unchanged) and an export, on SQLite, with no tracker configured (so no sync job is queued: the
needs wait for a tracker).

Targets: import under 30 s and under 300 MB.
Run: ``.venv/bin/python bench/import_bench.py [ROWS]`` (``--smoke``: 200 rows, that every step runs).
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from _data import CONFIG  # bench/, the script's folder
from openpyxl import Workbook

from plugin.loading import parse_settings
from sync.runtime import build_runtime
from sync.table.export import export_table
from sync.table.importer import SYNC_CHUNK, import_table

ROWS = 200 if "--smoke" in sys.argv else int(next((arg for arg in sys.argv[1:] if arg.isdigit()), 10_000))
TARGET_SECONDS = 30
TARGET_MB = 300

HEADER = ["序號", "產品類別", "問題詳細描述", "問題截圖", "緊急程度", "反饋人", "反饋時間", "跟進人", "狀態", "說明", "客戶"]


def generate(path: Path, rows: int) -> None:
    """A sheet as CS keeps it, written in openpyxl's streaming mode."""
    rng = random.Random(42)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("需求收集表")
    sheet.append(["客戶需求收集表"])
    sheet.append(HEADER)
    start = dt.datetime(2025, 1, 1, 9, 0)
    for number in range(1, rows + 1):
        sheet.append([
            number, rng.choice(["計費", "報表", "行動端"]),
            f"需求 {number}：{rng.choice(['發票', '報表匯出', '登入', '權限'])}要改善\n"
            f"客戶說明：{'詳細的背景與重現步驟。' * rng.randint(1, 6)}",
            None, rng.choice(["緊急", "高", "中", "低"]), rng.choice(["李娜", "王偉", "Li Na <li.na@acme.example>"]),
            start + dt.timedelta(minutes=47 * number), rng.choice(["Wang Wei", "Chen Jie", None]),
            rng.choice(["已登記", "已受理", "已排期", "開發中", "已完成", "暫不處理"]),
            rng.choice(["", "已回覆客戶", "等待研發評估"]), rng.choice(["ACME Corp", "Globex", "Initech"]),
        ])
    workbook.save(path)


def peak_rss_mb() -> float:
    """The process's peak resident memory so far: VmHWM, which starts afresh with the program (``ru_maxrss``
    keeps the peak of the process that started it, e.g. a test runner's, across ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, function):
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:7.2f} s   peak RSS {peak_rss_mb():6.1f} MB")
    return result, seconds


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="cocreate-bench-"))
    try:
        return measure(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(folder: Path) -> int:
    sheet = folder / "needs.xlsx"
    settings = parse_settings(CONFIG, "bench.yaml")
    # A queue that keeps jobs for a worker (SQLite under the data folder): no tracker call happens here.
    runtime = build_runtime(settings, {"COCREATE_HOME": str(folder / "home")})
    print(f"Cocreate table import, {ROWS} rows (Python {sys.version.split()[0]}, SQLite)")
    _nothing, _seconds = timed("generate the sheet", lambda: generate(sheet, ROWS))
    print(f"{'':<34} {sheet.stat().st_size / 1e6:7.2f} MB on disk")

    def run(dry_run: bool):
        return import_table(runtime, sheet, dry_run=dry_run, timezone="Asia/Shanghai")

    dry, _seconds = timed("dry run", lambda: run(True))
    real, import_seconds = timed("import", lambda: run(False))
    again, _seconds = timed("re-import (all unchanged)", lambda: run(False))
    _count, _seconds = timed("export .xlsx", lambda: export_table(runtime, folder / "out.xlsx", "xlsx",
                                                                   timezone="Asia/Shanghai"))
    assert dry.ok and dry.created == ROWS, dry.problems[:3]
    assert real.created == ROWS and not real.problems
    assert again.unchanged == ROWS and again.created == again.updated == 0
    print(f"sync jobs queued: {real.sync_jobs} (no tracker configured; with one: up to {SYNC_CHUNK} needs a job)")

    tracemalloc.start()
    run(True)
    heap_peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"{'Python heap peak of a dry run':<34} {heap_peak:7.1f} MB (tracemalloc)")

    rss = peak_rss_mb()
    verdict = "OK" if import_seconds < TARGET_SECONDS and rss < TARGET_MB else "OVER TARGET"
    print(f"import {import_seconds:.1f} s (target < {TARGET_SECONDS} s), peak RSS {rss:.0f} MB "
          f"(target < {TARGET_MB} MB): {verdict}")
    runtime.engine.dispose()
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
