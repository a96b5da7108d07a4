"""gunicorn settings for Cocreate's web processes in a scaled-out deployment (see docs/deployment.md).

    gunicorn -c deploy/gunicorn.conf.py

Every web process serves the app built by ``webhooks.app:create_app()`` from ``COCREATE_CONFIG``; jobs run in
``cocreate worker`` processes on any number of machines, sharing the PostgreSQL store and the Redis queue
(``COCREATE_DATABASE_URL``, ``COCREATE_QUEUE_URL``). The settings below are read from the environment so the
same file serves every machine.
"""

import multiprocessing
import os

wsgi_app = "webhooks.app:create_app()"

bind = os.environ.get("COCREATE_BIND", "127.0.0.1:8080")
# Requests wait on the database and on nothing else (webhooks answer before any tracker call: a delivery waits
# for its group's commit), so threads cover the waits and processes use the cores; 8 threads a process took
# webhook load better than 4 (bench/load_bench.py).
worker_class = "gthread"
workers = int(os.environ.get("COCREATE_WEB_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("COCREATE_WEB_THREADS", "8"))

# No preloading: each process opens its own database pool after the fork (a pool shared across a fork
# corrupts connections). Processes starting together migrate in turn under a PostgreSQL advisory lock.
preload_app = False

timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle processes now and then so that a slow leak never builds up; the jitter keeps them from recycling at once.
max_requests = 5000
max_requests_jitter = 500

# Behind a load balancer or reverse proxy on the same host or network: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("COCREATE_FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Before the web processes start: what they write (screenshots, imports, a SQLite store) is readable by
    their own user only, as under ``cocreate serve`` (gunicorn's own ``umask`` setting covers only its sockets)."""
    from webhooks.cli.commands import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)


def post_worker_init(worker):
    """The process has built the app: keep what it built out of the garbage collector's full collections (a
    pause of about 90 ms under webhook load otherwise; see ``webhooks.app.freeze_startup_heap``)."""
    from webhooks.app import freeze_startup_heap

    freeze_startup_heap()


accesslog = "-"
# Secret links (Jira's ?token=, customers' /s/<token>) are blanked in every field of the access log.
logger_class = "webhooks.access_log.RedactingLogger"
errorlog = "-"
loglevel = os.environ.get("COCREATE_LOG_LEVEL", "info").lower()
