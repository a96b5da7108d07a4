"""Throwaway PostgreSQL and Redis servers from Debian's packages, on free ports in temporary folders.

PostgreSQL's ``initdb`` and ``postgres`` refuse to run as root. Run as root (a CI container, ``make test`` under
sudo), the cluster is owned by and run as an unprivileged account instead: ``cocreate-test`` when it exists
(``useradd --system --no-create-home cocreate-test``), else ``nobody``; through ``runuser -u USER --`` (util-linux).
Run as anyone else, it runs as that user. Redis runs as whoever runs the tests.

Both keep their data under a fresh ``/tmp/cocreate-*`` folder (reachable by the unprivileged account, unlike
pytest's ``tmp_path``) that ``close()`` removes; PostgreSQL also puts its Unix socket there, so it never clashes
with a system cluster on ``/var/run/postgresql``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.notify.servers import free_port

PG_USER = "cocreate"
"""The cluster's superuser (trust authentication on 127.0.0.1 only)."""


def postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian's layout), else wherever ``pg_ctl`` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL is not installed: run `make system-deps` (Debian package postgresql)")
    return Path(pg_ctl).parent


def unprivileged_account() -> str | None:
    """The account PostgreSQL runs as when the tests run as root; None when they do not."""
    if os.geteuid() != 0:
        return None
    for name in ("cocreate-test", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root, and neither a cocreate-test nor a nobody account exists to run PostgreSQL")


class PostgresServer:
    """One PostgreSQL cluster: ``start()``, ``create_database(name)``, ``url(name)``, ``restart()``, ``close()``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cocreate-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.account = unprivileged_account()
        if self.account is not None:
            entry = pwd.getpwnam(self.account)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.account, "--"] if self.account else []
        return subprocess.run([*prefix, *command], check=check, timeout=timeout, capture_output=True, text=True,
                              cwd=self.folder)

    def start(self) -> PostgresServer:
        if not self.data.exists():
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", PG_USER, "-A", "trust",
                      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   f"-c shared_buffers=64MB")
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                           "-w", "-t", "30", "start", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {result.stdout}{result.stderr}\n{self.log_tail()}")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster: ``fast`` (roll back and disconnect every session) or ``immediate`` (crash-like)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop",
                  check=False)

    def restart(self, down_for: float = 0.0, mode: str = "fast") -> None:
        """Stop, stay down ``down_for`` seconds, start again on the same port with the same data."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    def close(self) -> None:
        if self.data.exists():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL (psycopg 3) of ``database``."""
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE DATABASE cannot run inside one)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname=database,
                             autocommit=True) as connection:
            connection.execute(statement)

    def create_database(self, name: str) -> str:
        """A fresh, empty database; returns its URL."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class RedisServer:
    """One ``redis-server`` without persistence (the job ledger in the database is the truth): ``url(db)``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cocreate-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("Redis is not installed: run `make system-deps` (Debian package redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--protected-mode", "no", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def flush(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()

    def close(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
