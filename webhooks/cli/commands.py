"""The ``cocreate`` commands that run and look after a server: serve, worker, check-config, user, token, jobs,
reconcile and customer."""

from __future__ import annotations

import getpass
import os
import signal
import sys
import unicodedata

import click
from sqlalchemy import func, select

from plugin.loading import config_path, config_source
from plugin.need import N_
from webhooks.cli.common import cli_catalog, config_option, runtime_for, settings_or_exit

SERVE_THREADS = 16
"""``cocreate serve``'s default thread count. A webhook request keeps its thread while its delivery is committed
(a group commit every few milliseconds under load), so there are more threads than cores: with 8, sixteen
concurrent deliveries left the receiver waiting for threads with CPU to spare (``bench/load_bench.py``)."""

PRIVATE_UMASK = 0o077
"""What ``serve`` and ``worker`` create (the SQLite store, screenshots, imports) only their own user reads: the
data holds customers' names and contacts. The systemd units in ``deploy/`` say ``UMask=0077`` as well."""


@click.command()
@config_option
@click.option("--host", default=os.environ.get("COCREATE_HOST", "127.0.0.1"), show_default=True)
@click.option("--port", default=int(os.environ.get("COCREATE_PORT", "8080")), show_default=True, type=int)
@click.option("--threads", default=SERVE_THREADS, show_default=True, type=int, help="WSGI server threads.")
@click.option("--no-worker", is_flag=True, help="Do not run jobs here (they run in 'cocreate worker').")
def serve(config: str | None, host: str, port: int, threads: int, no_worker: bool) -> None:
    """Migrate the store, run the job consumer in-process and serve the web app (waitress)."""
    from waitress import serve as waitress_serve

    os.umask(PRIVATE_UMASK)

    from sync.loop.outbound import queue_resume
    from webhooks.app import create_app, freeze_startup_heap

    runtime = runtime_for(config)
    source = config_source(config)
    click.echo(f"config: {source}" if source is not None else
               f"config: no file found ({config_path()}); running on the embedded defaults, with no tracker")
    app = create_app(runtime=runtime)
    if not no_worker:
        runtime.queue.start_consumer(runtime.settings.queue.workers)
    resuming = queue_resume(runtime)  # the needs themselves are read by the job, in chunks, after the port opens
    freeze_startup_heap()
    click.echo(f"Cocreate serving on http://{host}:{port}/ (data in {runtime.home}; "
               f"{'jobs in-process' if not no_worker else 'jobs in cocreate worker'}"
               f"{'; needs whose sync never started are being synced' if resuming else ''})")
    # SIGTERM (systemctl stop) ends waitress's loop like Ctrl-C: requests in flight finish, then jobs in flight.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="cocreate",
                       **waitress_options(runtime.settings))
    finally:
        runtime.queue.stop_consumer()


def waitress_options(settings) -> dict:
    """waitress's connection limits from ``server:`` (see :class:`plugin.settings.ServerSettings`). ``poll`` instead
    of ``select``, which cannot watch more than 1,024 sockets; bodies larger than an upload are refused by waitress
    before Flask reads them."""
    server = settings.server
    return {"connection_limit": server.connection_limit, "channel_timeout": server.channel_timeout,
            "cleanup_interval": server.cleanup_interval, "backlog": server.backlog,
            "max_request_header_size": server.max_request_header_bytes,
            "max_request_body_size": max(settings.upload_max_bytes, settings.webhooks.max_body_bytes) * 8,
            "asyncore_use_poll": True}


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


@click.command()
@config_option
@click.option("--workers", default=None, type=int, help="Worker threads (default: queue.workers).")
def worker(config: str | None, workers: int | None) -> None:
    """Run jobs from the shared queue (Redis or the SQLite queue file) until stopped."""
    from sync.loop.outbound import queue_resume

    os.umask(PRIVATE_UMASK)

    runtime = runtime_for(config)
    if queue_resume(runtime):  # needs filed before a tracker was configured, or whose job was lost
        click.echo("needs whose sync never started are being synced")
    runtime.queue.run_consumer(workers or runtime.settings.queue.workers)


@click.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
def check_config(file: str | None) -> None:
    """Validate a config file; prints every problem as FILE:LINE: key: message and exits 2 if any."""
    settings = settings_or_exit(file)
    tracker = settings.tracker.kind if settings.tracker else "no tracker"
    if config_source(file) is None:
        click.echo(f"no config file found ({config_path()}): Cocreate runs on its embedded defaults "
                   f"({tracker}, {_count(settings.categories, 'category', 'categories')}, "
                   f"{_count(settings.urgencies, 'urgency level', 'urgency levels')}, "
                   f"{_count(settings.statuses, 'status', 'statuses')}); start from "
                   "config/cocreate.github.example.yaml or config/cocreate.jira.example.yaml")
        return
    click.echo(f"{file or config_path()}: OK ({tracker}, {_count(settings.categories, 'category', 'categories')}, "
               f"{_count(settings.customers, 'customer', 'customers')}, {_count(settings.people, 'person', 'people')})")


def _count(items, one: str, many: str) -> str:
    """``1 category``, ``3 categories``."""
    return f"{len(items)} {one if len(items) == 1 else many}"


@click.group()
def user() -> None:
    """Manage the people who log in to Cocreate."""


@user.command("add")
@config_option
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "cs"]), default="cs", show_default=True)
def user_add(config: str | None, name: str, role: str) -> None:
    """Add a user; the password is read from standard input (asked twice on a terminal)."""
    from sync.ledger.accounts import AccountError, add_user

    password = _read_password()
    runtime = runtime_for(config)
    try:
        with runtime.Session.begin() as session:
            add_user(session, name, password, role)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {name} added ({role})")


def _read_password() -> str:
    """The password from standard input: asked twice on a terminal, else its first line."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def _change_user(config: str | None, name: str, change) -> None:
    from sync.ledger.accounts import AccountError, user_id_of

    runtime = runtime_for(config)
    try:
        with runtime.Session.begin() as session:
            change(session, user_id_of(session, name))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@user.command("passwd")
@config_option
@click.argument("name")
def user_passwd(config: str | None, name: str) -> None:
    """Set a new password for NAME (read like 'user add'); the user's sessions end everywhere."""
    from sync.ledger.accounts import set_password

    password = _read_password()
    _change_user(config, name, lambda session, user_id: set_password(session, user_id, password))
    click.echo(f"password of {name} changed; their sessions have ended")


@user.command("disable")
@config_option
@click.argument("name")
def user_disable(config: str | None, name: str) -> None:
    """Stop NAME from logging in: their sessions end and their API tokens stop working."""
    from sync.ledger.accounts import deactivate

    _change_user(config, name, deactivate)
    click.echo(f"user {name} disabled; their sessions have ended and their API tokens are refused")


@user.command("enable")
@config_option
@click.argument("name")
def user_enable(config: str | None, name: str) -> None:
    """Let a disabled user log in again; their API tokens work again unless revoked."""
    from sync.ledger.accounts import enable

    _change_user(config, name, enable)
    click.echo(f"user {name} enabled")


@click.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@config_option
@click.argument("name")
def token_create(config: str | None, name: str) -> None:
    """Print a new API token for user NAME (shown once; only its hash is kept)."""
    from sync.ledger.accounts import AccountError, create_token

    runtime = runtime_for(config)
    try:
        with runtime.Session.begin() as session:
            value = create_token(session, name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(value)


@token.command("list")
@config_option
@click.argument("name", required=False)
def token_list(config: str | None, name: str | None) -> None:
    """List API tokens (of user NAME only, if given): id, user, created, last used, revoked."""
    from sync.ledger.accounts import AccountError, list_tokens, user_id_of

    runtime = runtime_for(config)
    try:
        with runtime.Session() as session:
            rows = list_tokens(session, user_id_of(session, name) if name else None)
            lines = [f"{row.id}\t{row.user.name}\tcreated {_when(row.created_at)}"
                     f"\tlast used {_when(row.last_used_at)}"
                     f"\t{'revoked ' + _when(row.revoked_at) if row.revoked_at else 'active'}" for row in rows]
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("\n".join(lines) if lines else "no API tokens")


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "never"


@token.command("revoke")
@config_option
@click.argument("token_id", type=int)
def token_revoke(config: str | None, token_id: int) -> None:
    """Revoke API token TOKEN_ID (from 'token list') for good: requests with it get 401."""
    from sync.ledger.accounts import AccountError, revoke_token

    runtime = runtime_for(config)
    try:
        with runtime.Session.begin() as session:
            revoked = revoke_token(session, token_id)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"API token {token_id} {'revoked' if revoked else 'was revoked already'}")


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


_NO_JOBS = {"failed": N_("no failed jobs"), "queued": N_("no queued jobs"), "running": N_("no running jobs"),
            "done": N_("no done jobs"), "all": N_("no jobs")}


@click.group(invoke_without_command=True)
@config_option
@click.option("--state", type=click.Choice(["failed", "queued", "running", "done", "all"]), default="failed",
              show_default=True)
@click.pass_context
def jobs(ctx: click.Context, config: str | None, state: str) -> None:
    """List jobs (failed ones by default) with the tracker's last message, in the language of LANG/LC_ALL, else
    the config's."""
    ctx.obj = config
    if ctx.invoked_subcommand is not None:
        return
    from sync.ledger.store import Job

    runtime = runtime_for(config)
    translations = cli_catalog(runtime.settings)
    _, pgettext = translations.gettext, translations.pgettext
    with runtime.Session() as session:
        query = select(Job).order_by(Job.created_at)
        if state != "all":
            query = query.where(Job.state == state)
        rows = session.scalars(query).all()
    if not rows:
        click.echo(_(_NO_JOBS[state]))
        return
    states = {"failed": pgettext("job", "failed"), "queued": pgettext("job", "queued"),
              "running": pgettext("job", "running"), "done": pgettext("job", "done")}
    width = max(map(_columns, states.values()))
    for job in rows:
        attempts = _("attempts=%(count)d") % {"count": job.attempts}
        shown = states.get(job.state, job.state)
        click.echo(f"{job.id}  {shown}{' ' * (width - _columns(shown))}  "
                   f"{job.name}({', '.join(map(str, job.args))})  {attempts}  {job.updated_at:%Y-%m-%d %H:%M}Z  "
                   f"{job.last_error or ''}")


@jobs.command("retry")
@click.argument("job_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job.")
@click.pass_obj
def jobs_retry(config: str | None, job_id: str | None, retry_all: bool) -> None:
    """Queue a failed job (or all of them) again."""
    from sync.ledger.store import Job

    runtime = runtime_for(config)
    _ = cli_catalog(runtime.settings).gettext
    if not job_id and not retry_all:
        raise click.UsageError(_("give a job ID or --all"))
    if retry_all:
        with runtime.Session() as session:
            ids = session.scalars(select(Job.id).where(Job.state == "failed")).all()
    else:
        ids = [job_id]
    retried = [one for one in ids if runtime.queue.retry(one)]
    if job_id and not retried:
        raise click.ClickException(_("no failed job %(id)s") % {"id": job_id})
    click.echo(_("%(count)d job(s) queued again") % {"count": len(retried)})
    if retry_all:
        # Needs that never had a job (filed before a tracker was configured) are retried too: what a user
        # asking to retry everything means.
        from sync.ledger.store import Need
        from sync.loop.outbound import RESUME_STATES, queue_resume

        with runtime.Session() as session:
            waiting = session.scalar(select(func.count()).select_from(Need).where(
                Need.sync_state.in_(RESUME_STATES)))
        if not waiting:
            return
        if queue_resume(runtime):
            click.echo(_("%(count)d need(s) whose sync never started queued for sync") % {"count": waiting})
        else:
            click.echo(_("%(count)d need(s) wait for a tracker: configure one and they are synced")
                       % {"count": waiting})


@click.command("reconcile")
@config_option
def reconcile_command(config: str | None) -> None:
    """Apply every tracker change since the last reconcile now (what a lost webhook would have said)."""
    from sync.loop.reconcile import reconcile

    runtime = runtime_for(config)
    if runtime.settings.tracker is None:
        raise click.ClickException("no tracker configured: nothing to reconcile")
    from plugin.errors import TrackerError

    try:
        result = reconcile(runtime)
    except TrackerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{result['checked']} issue(s) updated since {result['since']}; {result['changed']} need status change(s)")
    if "releases" in result:
        click.echo(f"{result['releases']} release(s) since the last reconcile; {result['shipped']} need(s) shipped")


@click.group()
def customer() -> None:
    """Customers' status pages."""


@customer.command("token")
@config_option
@click.argument("key")
@click.option("--revoke", is_flag=True, help="Revoke the customer's link without issuing a new one.")
def customer_token(config: str | None, key: str, revoke: bool) -> None:
    """Print a new status-page link for customer KEY (earlier links stop working), or revoke it."""
    from sync.ledger.customers import (
        issue_status_token,
        revoke_status_token,
        status_link,
    )

    runtime = runtime_for(config)
    if runtime.customers().get(key) is None:
        raise click.ClickException(f"no customer {key}")
    if revoke:
        click.echo(f"status page of {key} {'revoked' if revoke_status_token(runtime, key) else 'was not issued'}")
        return
    token = issue_status_token(runtime, key)
    click.echo(status_link(runtime.settings, token))


def _customer_options(view):
    for option in reversed([
            click.option("--name", help="The customer's name."),
            click.option("--alias", "aliases", multiple=True, help="Another name CS types (repeat for more)."),
            click.option("--locale", type=click.Choice(["zh_Hans", "zh_Hant", "en"]), help="Language of notices."),
            click.option("--tier", help="Tier, e.g. gold."),
            click.option("--annual-revenue", type=int, help="In whole units of the company's currency."),
            click.option("--channels", help='Channels as JSON, e.g. \'[{"kind": "wecom", "url": "..."}]\'.')]):
        view = option(view)
    return view


def _customer_data(name, aliases, locale, tier, annual_revenue, channels) -> dict:
    import json

    data = {"name": name, "aliases": list(aliases) or None, "locale": locale, "tier": tier,
            "annual_revenue": annual_revenue}
    if channels is not None:
        try:
            data["channels"] = json.loads(channels)
        except ValueError as exc:
            raise click.ClickException(f"--channels is not JSON: {exc}") from exc
    return {field: value for field, value in data.items() if value is not None}


@customer.command("list")
@config_option
def customer_list(config: str | None) -> None:
    """List the customers: key, name, other names, language, channels (count) and whether the file sets them."""
    for record in runtime_for(config).customers().active():
        mark = "  (config file)" if record.from_config else ""
        click.echo(f"{record.key}\t{record.name}\t{', '.join(record.aliases)}\t{record.locale}\t"
                   f"{len(record.channels)} channel(s){mark}")


@customer.command("add")
@config_option
@click.argument("key")
@_customer_options
def customer_add(config: str | None, key: str, **fields) -> None:
    """Add customer KEY (checked as on /admin/customers)."""
    from sync.ledger.customers import InvalidCustomer, add_customer

    try:
        record = add_customer(runtime_for(config), {"key": key, **_customer_data(**fields)})
    except InvalidCustomer as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"customer {record.key} added ({record.name})")


@customer.command("edit")
@config_option
@click.argument("key")
@_customer_options
def customer_edit(config: str | None, key: str, **fields) -> None:
    """Change the given fields of customer KEY; fields the config file sets are refused."""
    from sync.ledger.customers import InvalidCustomer, UnknownCustomer, edit_customer

    try:
        record = edit_customer(runtime_for(config), key, _customer_data(**fields))
    except UnknownCustomer as exc:
        raise click.ClickException(f"no customer {key}") from exc
    except InvalidCustomer as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"customer {record.key} saved")
