"""Export of a 100,000-need requirement table from SQLite: seconds, time to the first bytes a download sends, and
server memory growth of the .xlsx and .csv export, each in a fresh process (so one format's peak does not hide
the other's).

Targets (the issue's): xlsx under 10 s, csv under 3 s, memory growing less than 50 MB.
Run: ``.venv/bin/python bench/export_bench.py [--smoke] [NEEDS]`` (``--smoke``: 200 needs, no targets).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import CONFIG, words  # bench/, the script's folder
from sqlalchemy import insert, select

from plugin.loading import parse_settings
from sync.ledger.store import Attachment, Need
from sync.runtime import build_runtime
from sync.table.export import TableExport, export_table

TARGET_SECONDS = {"xlsx": 10, "csv": 3}
TARGET_MB = 50




def need_rows(count: int, start: int = 1):
    """``count`` needs as the store's rows: Chinese descriptions of 100-300 characters, every fifth one with
    a tracker issue, every tenth with a screenshot."""
    rng = random.Random(42)
    reported = dt.datetime(2025, 1, 1, 9, 0)
    for number in range(start, start + count):
        moment = reported + dt.timedelta(minutes=47 * number, seconds=30 * (number % 3 == 0))
        linked = number % 5 == 0
        yield {
            "id": number, "ref": f"N-{number:06d}", "category": rng.choice(["billing", "reports", "mobile"]),
            "title": f"需求 {number}：{words(rng, 12)}",
            "description": words(rng, rng.randint(100, 300)),
            "urgency": rng.choice(["critical", "high", "medium", "low"]),
            "reporter_name": rng.choice(["李娜", "王偉", "Li Na"]), "reporter_email": "li.na@acme.example",
            "reporter_channel": rng.choice(["WeCom", "e-mail", None]), "reported_at": moment,
            "owner": rng.choice(["Wang Wei", "Chen Jie", None]),
            "status": rng.choice(["new", "accepted", "scheduled", "in_progress", "done"]),
            "remarks": rng.choice(["", "已回覆客戶", "=SUM(A1) 不是公式"]), "stage": rng.choice(["rollout", None]),
            "customer": rng.choice(["acme", "globex", "initech"]), "created_at": moment, "updated_at": moment,
            "status_changed_at": moment, "issue_key": f"CS-{number}" if linked else None,
            "issue_url": f"https://jira.example/browse/CS-{number}" if linked else None,
            "sync_state": "synced" if linked else "waiting_for_tracker", "synced_fields": {},
        }


def fill(runtime, count: int, batch: int = 5000) -> None:
    """Store ``count`` needs (and their screenshots) with bulk inserts."""
    with runtime.Session.begin() as session:
        for start in range(1, count + 1, batch):
            rows = list(need_rows(min(batch, count + 1 - start), start))
            session.execute(insert(Need), rows)
            session.execute(insert(Attachment), [
                {"need_id": row["id"], "filename": f"截圖-{row['id']}.png", "stored_name": f"{row['id']}.png",
                 "content_type": "image/png", "size": 1000, "sha256": "0" * 64}
                for row in rows if row["id"] % 10 == 0])


def memory_mb(field: str) -> float:
    """``VmRSS`` (resident memory now) or ``VmHWM`` (its peak since :func:`reset_peak`) from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> float:
    """Start the peak (``VmHWM``) afresh at the memory in use now, which this returns (Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")
    return memory_mb("VmRSS")


def child(home: str, fmt: str) -> None:
    """One export in this fresh process: print its figures as JSON."""
    runtime = build_runtime(parse_settings(CONFIG, "bench.yaml"), {"COCREATE_HOME": home}, migrate=False)
    out = Path(home) / f"out.{fmt}"
    export_table(runtime, out, fmt, filters={"ref": "none"})  # imports and first queries out of the figures
    before = reset_peak()
    started = time.perf_counter()
    export, first = TableExport(runtime, fmt, timezone="Asia/Shanghai"), None
    with open(out, "wb") as handle:  # as export_table writes it, timing the first chunk a download would send
        for chunk in export.chunks():
            first = time.perf_counter() - started if first is None else first
            handle.write(chunk)
    seconds = time.perf_counter() - started
    peak = memory_mb("VmHWM")
    print(json.dumps({"rows": export.rows, "seconds": seconds, "first": first, "growth": peak - before,
                      "size": out.stat().st_size}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("needs", nargs="?", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="200 needs, figures only")
    parser.add_argument("--child", nargs=2, metavar=("HOME", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    count = 200 if args.smoke else args.needs
    home = Path(tempfile.mkdtemp(prefix="cocreate-export-bench-")) / "home"
    runtime = build_runtime(parse_settings(CONFIG, "bench.yaml"), {"COCREATE_HOME": str(home)})
    started = time.perf_counter()
    fill(runtime, count)
    with runtime.Session() as session:
        assert session.scalar(select(Need.ref).order_by(Need.id.desc()).limit(1)) == f"N-{count:06d}"
    runtime.engine.dispose()
    print(f"Cocreate table export, {count} needs (Python {sys.version.split()[0]}, SQLite), "
          f"filled in {time.perf_counter() - started:.1f} s")
    ok = True
    for fmt in ("xlsx", "csv"):
        result = subprocess.run([sys.executable, __file__, "--child", str(home), fmt], capture_output=True,
                                text=True, check=True)
        figures = json.loads(result.stdout.splitlines()[-1])
        assert figures["rows"] == count, figures
        within = figures["seconds"] < TARGET_SECONDS[fmt] and figures["growth"] < TARGET_MB
        ok = ok and within
        print(f"export .{fmt:<5} {figures['seconds']:7.2f} s   first bytes after {figures['first'] * 1000:5.1f} ms   "
              f"RSS +{figures['growth']:6.1f} MB   "
              f"{figures['size'] / 1e6:7.1f} MB file   (target < {TARGET_SECONDS[fmt]} s, < {TARGET_MB} MB"
              f"{'' if args.smoke else ': OK' if within else ': OVER TARGET'})")
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
