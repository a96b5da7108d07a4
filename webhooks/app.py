"""``create_app``: the table of contents of the web application."""

from __future__ import annotations

import gc

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from plugin.loading import load_settings
from plugin.settings import Settings
from sync.runtime import Runtime, build_runtime
from webhooks.security import secure_cookies


def create_app(overrides: dict | None = None, *, runtime: Runtime | None = None,
               settings: Settings | None = None) -> Flask:
    """Build the app. ``runtime`` (or ``settings``) may be given by the caller, e.g. ``cocreate serve`` or a test."""
    app = Flask(__name__)
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    app.config.update(
        SECRET_KEY=runtime.secret_key,
        MAX_CONTENT_LENGTH=runtime.settings.upload_max_bytes * 5 + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies(runtime.settings.base_url),
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_TIMEZONE=runtime.settings.timezone,
    )
    app.config.update(overrides or {})
    app.extensions["cocreate"] = runtime

    from webhooks import (
        admin,
        api,
        api_customers,
        api_projects,
        auth,
        demand,
        duplicates,
        edits,
        files,
        health,
        i18n,
        icons,
        metrics,
        minutes,
        needs,
        people,
        project_reports,
        projects,
        receiver,
        reports,
        security,
        status_page,
        table,
        users,
    )

    i18n.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(needs.bp)
    app.register_blueprint(edits.bp)
    app.register_blueprint(duplicates.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(demand.bp)
    app.register_blueprint(table.bp)
    app.register_blueprint(minutes.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(projects.bp)
    app.register_blueprint(project_reports.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_customers.bp)
    app.register_blueprint(demand.api_bp)
    app.register_blueprint(api_projects.bp)
    app.register_blueprint(receiver.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(status_page.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(icons.bp)
    app.register_blueprint(metrics.bp)
    # Machine-to-machine endpoints authenticate by token or signature, not by session cookie.
    auth.csrf.exempt(api.bp)
    auth.csrf.exempt(api_customers.bp)
    auth.csrf.exempt(demand.api_bp)
    auth.csrf.exempt(api_projects.bp)
    auth.csrf.exempt(receiver.bp)
    if runtime.settings.server.trusted_proxies:
        # Only then is X-Forwarded-For the client's address (login throttling by address relies on it).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=runtime.settings.server.trusted_proxies)
    return app


def freeze_startup_heap() -> None:
    """Put everything built at start-up (the app, its routes, the ORM's mappers, the libraries) out of the
    garbage collector's reach, once the web process is ready to serve.

    Those objects live as long as the process, yet the collector's oldest generation walks them all on every
    full collection: under webhook load (each delivery parses into many small objects) that came once every few
    thousand requests and stopped every thread for about 90 ms, the worst latency a tracker saw
    (``bench/load_bench.py``). After the freeze a full collection walks only what was made since. Called by
    ``cocreate serve`` and by gunicorn's ``post_worker_init`` (``deploy/gunicorn.conf.py``).
    """
    gc.collect()
    gc.freeze()
