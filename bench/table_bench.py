"""The requirement table at scale: 100,000 needs, each figure printed beside its floor measured in the same run.

    .venv/bin/python bench/table_bench.py                  # 100,000 needs on SQLite (the embedded default)
    .venv/bin/python bench/table_bench.py --postgres       # the same on a PostgreSQL started here
    .venv/bin/python bench/table_bench.py --smoke          # 300 needs, 3 requests a figure: seconds (CI)
    .venv/bin/python bench/table_bench.py --only reports   # only some figures (see --help); the import always runs

It builds the needs as CS would have them after years of use: a generated sheet (several customers,
categories and urgencies, a year of dates, Chinese text) imported with ``cocreate import``, then a status
history for most of them. On PostgreSQL that history, written in one bulk update, is then vacuumed, as autovacuum
would have done many times over in a year of use. Then it measures, each in its own process where memory is the figure:

- ``cocreate serve`` from start to its first answer; floor: a bare waitress app started the same way;
- ``/needs``: page 1, a deep page, every sort, every filter, a Chinese and an English search (p50 and p95);
  floor: a static file from the same server;
- ``/needs/export`` as xlsx and csv (seconds, the server's RSS growth); floor: the same rows, read with one
  query, written by the same writer (``sync.table.workbook``; csv: the csv module) without names or formatting;
- ``/reports`` (p50, p95; a past month's first request too) and the VOC report in-process: computed from the
  history, first asked (computed and kept) and kept (``sync.report.cache``); floor: one GROUP BY over the month;
- the import of the sheet and its re-import (seconds, peak RSS); floor: the sheet read and its cells inserted
  into a plain table.

Targets (issue "the table at 100,000 needs"): serve < 2 s, every ``/needs`` p95 < 150 ms, xlsx < 10 s with RSS
growth < 50 MB and within 2x of the bare writer, csv < 3 s, ``/reports`` < 300 ms, import < 90 s with peak RSS
< 300 MB. The verdict column says which are met; the exit status is 0 either way (a figure, not a test).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CUSTOMERS = (("acme", "ACME Corp"), ("globex", "Globex"), ("initech", "Initech"), ("umbrella", "Umbrella"),
             ("goodthings", "台灣好物股份有限公司"), ("hooli", "Hooli"))
CATEGORIES = (("billing", "计费", "計費", "Billing"), ("reports", "报表", "報表", "Reports"),
              ("mobile", "移动端", "行動端", "Mobile"), ("search", "搜索", "搜尋", "Search"),
              ("admin", "管理后台", "管理後台", "Admin"))
CONFIG = "locale: zh-Hant\nsecret_key: bench-secret\ncustomers:\n" + "".join(
    f"  - {{key: {key}, name: {name}}}\n" for key, name in CUSTOMERS) + "categories:\n" + "".join(
    f"  - {{key: {key}, name: {{zh-Hans: {hans}, zh-Hant: {hant}, en: {en}}}}}\n"
    for key, hans, hant, en in CATEGORIES)
HEADER = ["序號", "產品類別", "問題詳細描述", "問題截圖", "緊急程度", "反饋人", "反饋時間", "跟進人", "狀態", "說明", "客戶"]
TOPICS = ("發票抬頭", "報表匯出", "登入逾時", "權限設定", "Invoice PDF", "CSV export", "SSO login", "推播通知")
USER, PASSWORD = "bench", "bench-password-2026"
TARGETS = {"serve": 2.0, "page": 0.150, "xlsx": 10.0, "xlsx_rss": 50.0, "csv": 3.0, "reports": 0.300,
           "import": 90.0, "import_rss": 300.0}


# The sheet --------------------------------------------------------------------------------------------------


def generate(path: Path, rows: int) -> None:
    """A year of needs as CS keeps them, written by openpyxl in streaming mode."""
    from openpyxl import Workbook

    rng = random.Random(7)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("需求收集表")
    sheet.append(HEADER)
    start = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=365)
    step = 365 * 86400 / max(rows, 1)
    for number in range(1, rows + 1):
        topic = rng.choice(TOPICS)
        sheet.append([
            number, rng.choice(CATEGORIES)[2],
            f"{topic}需要改善（第 {number} 項）\n客戶說明：{'重現步驟與背景說明，' * rng.randint(2, 12)}",
            None, rng.choice(["緊急", "高", "中", "低"]), rng.choice(["李娜", "王偉", "Lin Chen", "陳美玲"]),
            start + dt.timedelta(seconds=int(step * number)), rng.choice(["Wang Wei", "Chen Jie", "林志明", None]),
            "已登記", rng.choice(["", "已回覆客戶", "等待研發評估", "Waiting for R&D"]),
            rng.choice(CUSTOMERS)[1],
        ])
    workbook.save(path)


# Processes and servers --------------------------------------------------------------------------------------


def python(code: str, env: dict, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line, returned with the child's peak RSS (MB)."""
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec.
    wrapped = code + "\nimport json as _j\n_h = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]" \
        "\nprint(_j.dumps({**RESULT, 'rss_mb': int(_h[0].split()[1]) / 1024}))\n"
    done = subprocess.run([sys.executable, "-c", wrapped, *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_until_answers(url: str, started: float, process: subprocess.Popen, limit: float = 600) -> float:
    """Seconds from ``started`` until ``url`` answers at all."""
    import urllib.error
    import urllib.request

    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return time.perf_counter() - started
        except urllib.error.HTTPError:
            return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer within {limit} s")


@contextlib.contextmanager
def server(command: list[str], env: dict, port: int, probe: str = "/login"):
    """A server process; yields (its pid, seconds from launch to its first answer)."""
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            seconds = wait_until_answers(f"http://127.0.0.1:{port}{probe}", started, process)
        except RuntimeError:
            log.seek(0)
            print(log.read().decode(errors="replace")[-3000:], file=sys.stderr)
            raise
        yield process.pid, seconds
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


BARE_SERVER = """
import sys
from waitress import serve
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=16)
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssPeak:
    """Samples a process's resident memory every 20 ms while in use; ``growth`` is the peak over the start."""

    def __init__(self, pid: int):
        self.pid, self.start, self.peak = pid, rss_mb(pid), 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))

    @property
    def growth(self) -> float:
        return self.peak - self.start


# Requests ---------------------------------------------------------------------------------------------------


def logged_in(base: str):
    import requests

    session = requests.Session()
    form = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', form)
    data = {"name": USER, "password": PASSWORD, "csrf_token": next(group for group in token.groups() if group)}
    answer = session.post(f"{base}/login", data=data, allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: {answer.status_code}")
    return session


def latencies(session, url: str, count: int) -> tuple[float, float]:
    """p50 and p95 seconds of ``count`` GETs of ``url`` (after one warm-up)."""
    session.get(url).raise_for_status()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(url)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]


def download(session, url: str, pid: int) -> tuple[float, float, float, int]:
    """Seconds to the first byte and to the last, the server's RSS growth (MB) and the bytes received."""
    with RssPeak(pid) as memory:
        started = time.perf_counter()
        first, size = None, 0
        with session.get(url, stream=True) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_content(64 * 1024):
                first = first or time.perf_counter() - started
                size += len(chunk)
        total = time.perf_counter() - started
    return first or total, total, memory.growth, size


# Children: work measured in a process of its own ------------------------------------------------------------


IMPORT_CHILD = """
import sys, time
from plugin.loading import load_settings
from sync.runtime import build_runtime
from sync.table.importer import import_table
import os
runtime = build_runtime(load_settings(os.environ["COCREATE_CONFIG"]), os.environ)
started = time.perf_counter()
report = import_table(runtime, sys.argv[1], dry_run=False, timezone="Asia/Taipei", actor="bench")
RESULT = {"seconds": time.perf_counter() - started, "created": report.created, "updated": report.updated,
          "unchanged": report.unchanged, "problems": len(report.problems)}
"""

IMPORT_FLOOR_CHILD = """
import sys, time, os
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
url = os.environ.get("COCREATE_DATABASE_URL") or "sqlite:///" + os.environ["COCREATE_HOME"] + "/floor.db"
engine = create_engine(url)
started = time.perf_counter()
with engine.begin() as db:
    db.execute(text("DROP TABLE IF EXISTS floor_rows"))
    db.execute(text("CREATE TABLE floor_rows (" + ", ".join(f"c{i} TEXT" for i in range(11)) + ")"))
    batch = []
    rows = load_workbook(sys.argv[1], read_only=True).active.iter_rows(min_row=2, values_only=True)
    insert = text("INSERT INTO floor_rows VALUES (" + ", ".join(f":c{i}" for i in range(11)) + ")")
    for row in rows:
        batch.append({f"c{i}": None if value is None else str(value) for i, value in enumerate(row[:11])})
        if len(batch) == 1000:
            db.execute(insert, batch); batch = []
    if batch:
        db.execute(insert, batch)
    db.execute(text("DROP TABLE floor_rows"))
RESULT = {"seconds": time.perf_counter() - started}
"""

HISTORY_CHILD = """
import os, random, datetime as dt
from sqlalchemy import select, update, insert
from plugin.loading import load_settings
from sync.runtime import build_runtime
from sync.ledger.store import Need, StatusChange
runtime = build_runtime(load_settings(os.environ["COCREATE_CONFIG"]), os.environ)
rng = random.Random(11)
now = dt.datetime.now(dt.UTC)
with runtime.Session.begin() as session:
    rows = session.execute(select(Need.id, Need.reported_at)).all()
    changes, statuses = [], {}
    for need_id, reported in rows:
        reported = reported if reported.tzinfo else reported.replace(tzinfo=dt.UTC)
        status, at = "received", reported
        for nxt, share, hours in (("accepted", 0.75, 48), ("in_progress", 0.6, 200), ("done", 0.5, 400)):
            if rng.random() > share:
                break
            at = min(at + dt.timedelta(hours=rng.uniform(1, hours)), now)
            changes.append({"need_id": need_id, "status": nxt, "previous": status, "source": "tracker",
                            "actor": "bench", "note": "", "at": at})
            status = nxt
        statuses.setdefault((status, at), []).append(need_id)
    for start in range(0, len(changes), 5000):
        session.execute(insert(StatusChange), changes[start:start + 5000])
    for (status, at), ids in statuses.items():
        if status != "received":
            for start in range(0, len(ids), 900):
                session.execute(update(Need).where(Need.id.in_(ids[start:start + 900]))
                                .values(status=status, status_changed_at=at))
if runtime.engine.dialect.name == "postgresql":
    # A year of history written in one bulk UPDATE leaves every need's old row version behind; in a year of use
    # autovacuum would have cleared them many times over. Clear them as it would, so that the figures are
    # those of a table in use, not of autovacuum running meanwhile.
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE) needs, status_history")
RESULT = {"changes": len(changes)}
"""

EXPORT_FLOOR_CHILD = """
import sys, time, os, csv, io
from sync.table.workbook import SheetStream
from sqlalchemy import create_engine, text
fmt, target = sys.argv[1], sys.argv[2]
url = os.environ.get("COCREATE_DATABASE_URL") or "sqlite:///" + os.environ["COCREATE_HOME"] + "/cocreate.db"
engine = create_engine(url)
query = text("SELECT ref, category, title, description, urgency, reporter_name, reported_at, owner, status, "
             "remarks, customer, stage, reporter_email, reporter_channel, linked_to, issue_key, issue_url "
             "FROM needs ORDER BY id")
started = time.perf_counter()
with engine.connect() as db:
    rows = db.execution_options(yield_per=1000).execute(query)
    if fmt == "csv":
        with open(target, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            for row in rows:
                writer.writerow(row)
    else:
        # The writer the export streams through, with the rows as they come from the database: no names looked
        # up, no styles, no links.
        stream = SheetStream("needs", [12] * 17)
        header = [str(index) for index in range(17)]
        plain = ((["" if value is None else value if isinstance(value, str) else str(value) for value in row],
                  [0] * 17, {}) for row in rows)
        with open(target, "wb") as handle:
            for chunk in stream.chunks(header, plain):
                handle.write(chunk)
RESULT = {"seconds": time.perf_counter() - started}
"""

VOC_CHILD = """
import os, time, datetime as dt
from plugin.loading import load_settings
from sync.runtime import build_runtime
from sync.report.figures import voc_report
from sqlalchemy import text
runtime = build_runtime(load_settings(os.environ["COCREATE_CONFIG"]), os.environ)
month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

def timed(**options):
    started = time.perf_counter()
    figures = voc_report(runtime, month, timezone="Asia/Taipei", **options)
    return time.perf_counter() - started, figures

timed(kept=False)
history, computed = timed(kept=False)
with runtime.engine.begin() as db:
    db.execute(text("DELETE FROM report_months"))  # kept by the pages measured before: computed again here
first, _figures = timed()
again, kept = timed()
assert kept == computed
first_day = dt.datetime.strptime(month + "-01", "%Y-%m-%d")
last_day = (first_day + dt.timedelta(days=32)).replace(day=1)
with runtime.engine.connect() as db:
    db.execute(text("SELECT category, count(*) FROM needs WHERE reported_at >= :a AND reported_at < :b "
                    "GROUP BY category"), {"a": first_day, "b": last_day}).all()
    started = time.perf_counter()
    db.execute(text("SELECT category, count(*) FROM needs WHERE reported_at >= :a AND reported_at < :b "
                    "GROUP BY category"), {"a": first_day, "b": last_day}).all()
    floor = time.perf_counter() - started
RESULT = {"history": history, "first": first, "kept": again, "floor": floor, "month": month}
"""


# The run ----------------------------------------------------------------------------------------------------


class Table:
    """The printed figures: what, the figure, its floor, the ratio and the verdict against the target."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, what: str, value: float, floor: float | None = None, target: float | None = None,
            unit: str = "s", scale: float = 1.0) -> None:
        def shown(number: float | None) -> str:
            return "" if number is None else f"{number * scale:.1f} ms" if unit == "ms" else f"{number:.2f} {unit}"

        ratio = f"{value / floor:.2f}x" if floor else ""
        verdict = "" if target is None else ("OK" if value < target else "OVER")
        self.rows.append((what, shown(value), shown(floor), ratio, verdict))
        wide = sum(unicodedata.east_asian_width(char) in "WF" for char in what)  # CJK takes two columns
        print(f"  {what:<{44 - wide}} {shown(value):>12} {shown(floor):>12} {ratio:>8} {verdict:>5}", flush=True)


PARTS = ("import", "serve", "pages", "reports", "export", "voc")
"""The figures ``--only`` picks from; the needs are imported whichever are measured."""


def measure(needs: int, requests: int, database_url: str | None, parts: frozenset[str] = frozenset(PARTS)) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cocreate-table-bench-"))
    try:
        _measure(folder, needs, requests, database_url, parts)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(folder: Path, needs: int, requests: int, database_url: str | None, parts: frozenset[str]) -> None:
    (folder / "cocreate.yaml").write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "COCREATE_HOME": str(folder / "home"), "COCREATE_CONFIG": str(folder / "cocreate.yaml"),
           "PYTHONPATH": str(ROOT)}
    if database_url:
        env["COCREATE_DATABASE_URL"] = database_url
    cocreate = [str(Path(sys.executable).with_name("cocreate"))]
    subprocess.run([*cocreate, "user", "add", USER, "--role", "admin"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n",
                   text=True, check=True, capture_output=True, cwd=ROOT)
    sheet = folder / "needs.xlsx"
    started = time.perf_counter()
    generate(sheet, needs)
    print(f"Cocreate table bench: {needs:,} needs on {'PostgreSQL' if database_url else 'SQLite'} "
          f"(sheet {sheet.stat().st_size / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s)")
    print(f"  {'figure':<44} {'measured':>12} {'floor':>12} {'ratio':>8} {'':>5}")
    table = Table()

    floor = python(IMPORT_FLOOR_CHILD, env, str(sheet)) if "import" in parts else None
    first = python(IMPORT_CHILD, env, str(sheet))
    assert first["created"] == needs and first["problems"] == 0, first
    if floor:
        table.add("import (s)", first["seconds"], floor["seconds"], TARGETS["import"])
        table.add("import peak RSS (MB)", first["rss_mb"], floor["rss_mb"], TARGETS["import_rss"], unit="MB")
        again = python(IMPORT_CHILD, env, str(sheet))
        assert again["unchanged"] == needs, again
        table.add("re-import, all unchanged (s)", again["seconds"], floor["seconds"])
    python(HISTORY_CHILD, env)

    from tests.notify.servers import free_port

    port, bare_port = free_port(), free_port()
    serve = [*cocreate, "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    if parts & {"serve", "pages", "reports"}:
        with server([sys.executable, "-c", BARE_SERVER, str(bare_port)], env, bare_port, "/") as (_pid, bare):
            pass
        with server(serve, env, port) as (pid, seconds):
            if "serve" in parts:
                table.add("serve: start to first answer (s)", seconds, bare, TARGETS["serve"])
            session = logged_in(base)
            floor50, floor95 = latencies(session, f"{base}/static/cocreate.css", requests)
            table.add("floor: a static file from the same server p95 (ms)", floor95, None, unit="ms", scale=1000)
            if "pages" in parts:
                _pages(table, session, base, needs, requests, floor95)
            if "reports" in parts:
                _reports(table, session, base, requests, floor95)
    if "export" in parts:
        for fmt in ("xlsx", "csv"):
            bare = python(EXPORT_FLOOR_CHILD, env, fmt, str(folder / f"floor.{fmt}"))
            # A server of its own for each export: its memory growth is the export's, not earlier pages'.
            with server(serve, env, port) as (pid, _seconds):
                session = logged_in(base)
                first_byte, total, growth, size = download(session, f"{base}/needs/export?format={fmt}", pid)
            table.add(f"export {fmt}: whole download (s)", total, bare["seconds"], TARGETS[fmt])
            table.add(f"export {fmt}: first byte (s)", first_byte)
            table.add(f"export {fmt}: server RSS growth (MB)", growth, None,
                      TARGETS["xlsx_rss"] if fmt == "xlsx" else None, unit="MB")
            table.add(f"export {fmt}: file size (MB)", size / 1e6, None, unit="MB")
    if "voc" in parts:
        voc = python(VOC_CHILD, env)
        month = voc["month"]
        table.add(f"VOC report {month} from the history (ms)", voc["history"], voc["floor"], unit="ms", scale=1000)
        table.add(f"VOC report {month} first asked: computed, kept (ms)", voc["first"], voc["floor"], unit="ms",
                  scale=1000)
        table.add(f"VOC report {month} kept (ms)", voc["kept"], voc["floor"], TARGETS["reports"], unit="ms",
                  scale=1000)


def _pages(table: Table, session, base: str, needs: int, requests: int, floor95: float) -> None:
    pages = {"/needs page 1": "/needs", "/needs deep page": f"/needs?page={max(needs // 50 // 2, 1)}"}
    for column in ("ref", "category", "title", "screenshots", "urgency", "reporter", "reported_at", "owner",
                   "status", "remarks", "customer", "issue"):
        pages[f"/needs sort {column}"] = f"/needs?sort={column}&dir=asc"
    for name, value in (("status", "accepted"), ("urgency", "high"), ("category", "reports"),
                        ("customer", "globex"), ("owner", "Wang Wei")):
        pages[f"/needs filter {name}"] = f"/needs?{name}={value}"
    pages["/needs search 報表 (2 chars)"] = "/needs?q=報表"
    pages["/needs search 登入逾時 (4 chars)"] = "/needs?q=登入逾時"
    pages["/needs search 'csv export'"] = "/needs?q=csv+export"
    pages["/needs search + filter + sort"] = "/needs?q=匯出&urgency=high&sort=reported_at"
    for what, path in pages.items():
        p50, p95 = latencies(session, base + path, requests)
        table.add(f"{what} p95 (ms)", p95, floor95, TARGETS["page"], unit="ms", scale=1000)


def _reports(table: Table, session, base: str, requests: int, floor95: float) -> None:
    p50, p95 = latencies(session, f"{base}/reports", max(requests // 5, 3))
    table.add("/reports (this month so far) p95 (ms)", p95, floor95, TARGETS["reports"], unit="ms", scale=1000)
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    url = f"{base}/reports?month={last_month}"
    started = time.perf_counter()
    session.get(url).raise_for_status()
    table.add(f"/reports?month={last_month}: first request (ms)", time.perf_counter() - started, floor95,
              unit="ms", scale=1000)
    p50, p95 = latencies(session, url, max(requests // 5, 3))
    table.add(f"/reports?month={last_month} (a whole month) p50 (ms)", p50, floor95, unit="ms", scale=1000)
    table.add(f"/reports?month={last_month} (a whole month) p95 (ms)", p95, floor95, TARGETS["reports"],
              unit="ms", scale=1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per page figure")
    parser.add_argument("--postgres", action="store_true", help="on a PostgreSQL started for the run")
    parser.add_argument("--smoke", action="store_true", help="300 needs, 3 requests: that every step runs")
    parser.add_argument("--only", type=lambda value: value.split(","), default=list(PARTS),
                        help=f"comma-separated figures to measure, of {','.join(PARTS)} (default: all)")
    options = parser.parse_args()
    unknown = set(options.only) - set(PARTS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    parts = frozenset(options.only)
    if options.smoke:
        options.needs, options.requests = 300, 3
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"limit {resource.getrlimit(resource.RLIMIT_AS)[0]}")
    if not options.postgres:
        measure(options.needs, options.requests, None, parts)
        return 0
    from tests.scale.servers import PostgresServer

    postgres = PostgresServer()
    try:
        postgres.start()
        measure(options.needs, options.requests, postgres.create_database("table_bench"), parts)
    finally:
        postgres.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
