"""Webhook load benchmark: signed GitHub deliveries against the real receiver, beside a bare 204 endpoint.

Starts PostgreSQL and Redis from Debian's packages (as the scale tests do), and one server process: the real
Cocreate app (``create_app`` on the PostgreSQL store and the Redis queue) under waitress, as ``cocreate serve``
runs it, plus one route added here only, ``POST /bench/bare``, which answers 204 and does nothing. Both endpoints
get the same requests (a signed ``issues`` delivery, a new ``X-GitHub-Delivery`` each) on the same server with the
same thread count, from a load generator in this process (asyncio), each request on its own connection as GitHub
delivers (waitress closes the connection after any 204 anyway). For each endpoint:

- saturation: ``--connections`` clients send back to back for ``--saturate`` seconds -> throughput, p50, p99 and
  the server's CPU time per answer; ``--rounds`` rounds alternating receiver and bare, so that a slow moment of
  the machine falls on both, and the median of the per-round ratios is reported;
- beside the server's CPU per answer, that of PostgreSQL, Redis, the waitress server's I/O thread and the load
  generator, since they all share the machine's cores;
- fixed rate: ``--rate`` requests a second for ``--duration`` seconds (open loop: latency counts from the moment
  a request was due, so a stall is not hidden) -> achieved rate, p50, p99.

The inbox write is durable: each 202 comes after the delivery and its job are committed on PostgreSQL with
``fsync`` and ``synchronous_commit`` on (printed); afterwards the stored deliveries are counted against the 202s.
No worker runs, so the numbers are the web tier's. Targets: the receiver's saturation throughput at least half
the bare endpoint's, and its p99 under 20 ms at 200 deliveries a second.

The inbox commits the deliveries waiting together in one statement (``sync.jobs.inbox``); since each group's rows
share one ``received_at``, the stored rows tell how many deliveries each commit took, printed per round.

Usage: ``.venv/bin/python bench/load_bench.py [--rate 200 --duration 5 --saturate 4 --rounds 3 --threads N]``,
or ``--server gunicorn --processes 2`` for the scaled-out web tier (``deploy/gunicorn.conf.py``). Without
``--threads`` each server runs with the product's own default (``cocreate serve``: 16, the gunicorn settings: 8).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-github-secret"
CONFIG = f"""
locale: en
secret_key: bench
tracker:
  kind: github
  github: {{token: bench-token, login: cocreate-bot}}
categories:
  - {{key: billing, name: Billing, github_repo: acme/billing}}
webhooks: {{github_secret: {SECRET}}}
"""
WEBHOOK, BARE = "/webhooks/github", "/bench/bare"


# The server process ---------------------------------------------------------------------------------


def bench_app():
    """The Cocreate app as ``cocreate serve`` and gunicorn build it (config from the environment), plus the bare
    endpoint, which exists only here."""
    from plugin.loading import load_settings
    from sync.runtime import build_runtime
    from webhooks import auth
    from webhooks.app import create_app

    app = create_app(runtime=build_runtime(load_settings()))

    def bare():
        return "", 204

    app.add_url_rule(BARE, "bench_bare", auth.csrf.exempt(bare), methods=["POST"])
    return app


def serve(port: int, threads: int) -> None:
    """``bench_app`` under waitress, as ``cocreate serve --no-worker`` runs the app."""
    from waitress import serve as waitress_serve

    from webhooks.app import freeze_startup_heap

    app = bench_app()
    freeze_startup_heap()
    waitress_serve(app, host="127.0.0.1", port=port, threads=threads, ident="cocreate")


# The load generator ---------------------------------------------------------------------------------


def delivery_request(path: str, port: int) -> bytes:
    """A signed GitHub ``issues.opened`` delivery (the captured payload) with a fresh delivery id."""
    return _template(path, port).replace(b"@@DELIVERY@@", uuid.uuid4().hex.encode())


_TEMPLATES: dict[tuple[str, int], bytes] = {}


def _template(path: str, port: int) -> bytes:
    if (path, port) not in _TEMPLATES:
        body = (ROOT / "tests" / "fixtures" / "webhooks" / "github" / "issues__opened.json").read_bytes()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: issues\r\nX-GitHub-Delivery: @@DELIVERY@@\r\n"
                f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n")
        _TEMPLATES[(path, port)] = head.encode() + body
    return _TEMPLATES[(path, port)]


async def send(port: int, request: bytes) -> int:
    """Connect, send one request, read the answer's status line, headers and body, close; returns the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


@dataclass
class Run:
    """The answers of one phase: latencies in seconds, statuses, and how long it took."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu: tuple[float, float] | None = None
    """User and system CPU seconds the server's processes used during the phase."""
    other_cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds the databases and the load generator used during the phase."""

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000 if ordered else float("nan")


async def saturate(port: int, path: str, connections: int, seconds: float, limit: int) -> Run:
    """``connections`` clients sending back to back for ``seconds`` (at most ``limit`` requests in all)."""
    run = Run()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def client() -> None:
        nonlocal sent
        while time.perf_counter() < deadline and sent < limit:
            sent += 1
            request = delivery_request(path, port)
            started = time.perf_counter()
            status = await send(port, request)
            run.record(status, time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    run.seconds = time.perf_counter() - started
    return run


async def fixed_rate(port: int, path: str, rate: float, seconds: float) -> Run:
    """``rate`` requests a second for ``seconds``; each latency counts from the moment its request was due."""
    run = Run()
    count = int(rate * seconds)
    started = time.perf_counter()

    async def one(due: float) -> None:
        status = await send(port, delivery_request(path, port))
        run.record(status, time.perf_counter() - due)

    tasks = []
    for number in range(count):
        due = started + number / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    run.seconds = time.perf_counter() - started
    return run


# Running it -------------------------------------------------------------------------------------------


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz")


def cpu_seconds(stat: str) -> tuple[str, str, float, float]:
    """A ``/proc/.../stat`` text -> (command name, parent pid, user CPU seconds, system CPU seconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = stat.rsplit(")", 1)[1].split()
    return stat[stat.index("(") + 1:stat.rindex(")")], fields[1], int(fields[11]) / ticks, int(fields[12]) / ticks


def cpu_snapshot(server_pid: int, waitress: bool) -> tuple[tuple[float, float], dict[str, float]]:
    """CPU seconds so far, from one pass over ``/proc``: user and system of the server's processes (``server_pid``
    and its children, gunicorn's workers), and beside them, user + system of PostgreSQL's processes, Redis, the
    waitress server's main thread (its I/O loop: accepting, reading, writing; ``waitress`` only) and this load
    generator."""
    user = system = 0.0
    others = {"pg": 0.0, "redis": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, parent, used, kernel = cpu_seconds(stat.read_text())
        except OSError:
            continue
        if str(server_pid) in (stat.parent.name, parent):
            user, system = user + used, system + kernel
        elif name.startswith("postgres"):
            others["pg"] += used + kernel
        elif name.startswith("redis"):
            others["redis"] += used + kernel
    if waitress:
        _name, _parent, used, kernel = cpu_seconds(Path(f"/proc/{server_pid}/task/{server_pid}/stat").read_text())
        others["io"] = used + kernel
    times = os.times()
    others["gen"] = times.user + times.system
    return (user, system), others


def query_one(database_url: str, sql: str, params: tuple = ()) -> tuple:
    """The first row of ``sql`` on the bench's database, on a connection of its own."""
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(sql, params).fetchone()


def durability(database_url: str) -> dict[str, str]:
    return {name: query_one(database_url, f"SHOW {name}")[0]
            for name in ("fsync", "synchronous_commit", "wal_sync_method")}


def stored_deliveries(database_url: str) -> int:
    return query_one(database_url, "SELECT count(*) FROM deliveries")[0]


def last_delivery(database_url: str) -> int:
    return query_one(database_url, "SELECT coalesce(max(id), 0) FROM deliveries")[0]


def per_commit(database_url: str, after: int, up_to: int) -> float:
    """Deliveries per inbox commit among the rows ``after < id <= up_to`` (a group's rows share ``received_at``)."""
    rows, commits = query_one(database_url, "SELECT count(*), count(DISTINCT received_at) FROM deliveries "
                                            "WHERE id > %s AND id <= %s", (after, up_to))
    return rows / commits if commits else float("nan")


def default_threads(server: str) -> int:
    """The thread count ``server`` runs with here: ``cocreate serve``'s default, or what the gunicorn settings
    read (their default unless ``COCREATE_WEB_THREADS`` is set)."""
    if server == "gunicorn":
        import runpy

        return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["threads"]
    from webhooks.cli.commands import SERVE_THREADS

    return SERVE_THREADS


def row(name: str, run: Run) -> str:
    statuses = ", ".join(f"{status}x{count}" for status, count in sorted(run.statuses.items()))
    cpu = others = ""
    if run.server_cpu and run.latencies:
        cpu = f"{1000 * sum(run.server_cpu) / len(run.latencies):.2f}"
        others = " ".join(f"{name} {1000 * seconds / len(run.latencies):.2f}"
                          for name, seconds in run.other_cpu.items())
    return (f"{name:<40} {len(run.latencies):>7} {run.throughput:>7.0f} {run.percentile(0.50):>7.2f} "
            f"{run.percentile(0.99):>7.2f} {cpu:>7} {others:>34}   {statuses}")


def measured(pid: int, phase, waitress: bool) -> Run:
    """Run the ``phase`` coroutine, recording the CPU time it took the server and the others."""
    before, others = cpu_snapshot(pid, waitress)
    run = asyncio.run(phase)
    after, others_after = cpu_snapshot(pid, waitress)
    run.server_cpu = (after[0] - before[0], after[1] - before[1])
    run.other_cpu = {name: others_after[name] - others[name] for name in others}
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests a second in the fixed-rate phase")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of the fixed-rate phase")
    parser.add_argument("--saturate", type=float, default=4.0, help="seconds of each saturation phase")
    parser.add_argument("--rounds", type=int, default=3, help="saturation rounds per endpoint (alternating)")
    parser.add_argument("--connections", type=int, default=16, help="clients in the saturation phase")
    parser.add_argument("--max-requests", type=int, default=20_000, help="bound on the requests of a phase")
    parser.add_argument("--server", choices=["waitress", "gunicorn"], default="waitress",
                        help="waitress (cocreate serve) or gunicorn with deploy/gunicorn.conf.py")
    parser.add_argument("--processes", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, help="threads per server process (both endpoints); default: the "
                        "product's (cocreate serve 16, deploy/gunicorn.conf.py 8)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="a second a phase, one round: that every step runs")
    args = parser.parse_args()
    if args.smoke:
        args.rate, args.duration, args.saturate, args.rounds, args.max_requests = 50.0, 0.5, 0.5, 1, 500
    if args.threads is None:
        args.threads = default_threads(args.server)
    if args.serve:
        serve(args.serve, args.threads)
        return 0

    from tests.notify.servers import free_port
    from tests.scale.servers import PostgresServer, RedisServer

    postgres, redis = PostgresServer(), RedisServer()
    server = None
    home = Path(tempfile.mkdtemp(prefix="cocreate-bench-"))
    try:
        postgres.start()
        redis.start()
        database_url = postgres.create_database("bench")
        (home / "cocreate.yaml").write_text(CONFIG, encoding="utf-8")
        port = free_port()
        environ = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
        environ.update(COCREATE_CONFIG=str(home / "cocreate.yaml"), COCREATE_HOME=str(home / "data"),
                       COCREATE_DATABASE_URL=database_url, COCREATE_QUEUE_URL=redis.url(),
                       COCREATE_LOG_LEVEL="WARNING", COCREATE_LOG_FORMAT="text")
        log = (home / "server.log").open("wb")
        if args.server == "gunicorn":
            environ.update(COCREATE_BIND=f"127.0.0.1:{port}", COCREATE_WEB_WORKERS=str(args.processes),
                           COCREATE_WEB_THREADS=str(args.threads), PYTHONPATH=str(ROOT))
            command = [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
                       "--access-logfile", "/dev/null", "--max-requests", "0", "bench.load_bench:bench_app()"]
        else:
            command = [sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads)]
        server = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        wait_healthy(port, server)
        settings = durability(database_url)

        paths = {"receiver": WEBHOOK, "bare 204": BARE}
        # Warm-up: pools, caches, prepared statements.
        warm_up = {name: asyncio.run(saturate(port, path, 4, 1.0, 500)) for name, path in paths.items()}
        # Saturation in alternating rounds (receiver, bare, receiver, bare, ...), so that a slow moment of the
        # machine falls on both; the ratio is taken per round and the median reported.
        rounds: list[dict[str, Run]] = []
        grouping: list[float] = []
        for number in range(1, args.rounds + 1):
            print(f"saturation round {number} of {args.rounds}", file=sys.stderr, flush=True)
            before = last_delivery(database_url)
            rounds.append({name: measured(server.pid, saturate(port, path, args.connections, args.saturate,
                                                               args.max_requests), args.server == "waitress")
                           for name, path in paths.items()})
            grouping.append(per_commit(database_url, before, last_delivery(database_url)))
        print("fixed rate", file=sys.stderr, flush=True)
        rates = {name: asyncio.run(fixed_rate(port, path, args.rate, args.duration)) for name, path in paths.items()}
        webhook_202 = sum(run.statuses.get(202, 0)
                          for run in (warm_up["receiver"], *(r["receiver"] for r in rounds), rates["receiver"]))
        stored = stored_deliveries(database_url)
    except BaseException:
        print((home / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        redis.close()
        postgres.close()
        shutil.rmtree(home, ignore_errors=True)

    shape = (f"gunicorn (deploy/gunicorn.conf.py), {args.processes} processes x {args.threads} threads"
             if args.server == "gunicorn" else f"waitress (cocreate serve), {args.threads} threads")
    print(f"Cocreate webhook load benchmark: {shape}; PostgreSQL {settings} + Redis; "
          f"{os.cpu_count()} CPUs shared by server, databases and load generator")
    print(f"{'phase':<40} {'answers':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'other CPU ms':>34}   statuses")
    ratios = []
    for number, measured_round in enumerate(rounds, 1):
        for name, run in measured_round.items():
            print(row(f"{name:<9} saturation round {number}, {args.connections} conn.", run))
        ratios.append(measured_round["receiver"].throughput / measured_round["bare 204"].throughput)
    for name, run in rates.items():
        print(row(f"{name:<9} fixed {args.rate:.0f}/s for {args.duration:.0f} s", run))
    ratio = statistics.median(ratios)
    p99 = rates["receiver"].percentile(0.99)
    print("(CPU ms: the server's CPU time, user + system, per answer; other CPU ms: the same for PostgreSQL (pg), "
          "Redis, the waitress server's I/O thread (io, part of CPU ms) and the load generator (gen))")
    print(f"throughput ratio receiver/bare at saturation: median {ratio:.2f} of rounds "
          f"{', '.join(f'{value:.2f}' for value in ratios)}  (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")
    print(f"p50 ratio receiver/bare at {args.rate:.0f}/s: "
          f"{rates['receiver'].percentile(0.5) / rates['bare 204'].percentile(0.5):.2f}; "
          f"receiver p99 at {args.rate:.0f}/s: {p99:.2f} ms  (target < 20 ms: {'met' if p99 < 20 else 'NOT met'})")
    print(f"inbox group commit at saturation: {', '.join(f'{value:.1f}' for value in grouping)} deliveries per "
          f"commit (rounds 1-{len(grouping)})")
    print(f"durable inbox: {stored} deliveries stored for {webhook_202} answers 202 "
          f"({'all kept' if stored == webhook_202 else 'MISMATCH'})")
    print(json.dumps({"receiver_saturation_rps": [round(r["receiver"].throughput) for r in rounds],
                      "bare_saturation_rps": [round(r["bare 204"].throughput) for r in rounds],
                      "ratio_median": round(ratio, 2),
                      "deliveries_per_commit": [round(value, 1) for value in grouping],
                      "receiver_p50_ms_at_rate": round(rates["receiver"].percentile(0.5), 2),
                      "receiver_p99_ms_at_rate": round(p99, 2),
                      "bare_p50_ms_at_rate": round(rates["bare 204"].percentile(0.5), 2),
                      "bare_p99_ms_at_rate": round(rates["bare 204"].percentile(0.99), 2)}))
    return 0 if stored == webhook_202 else 1

if __name__ == "__main__":
    sys.exit(main())
