"""Response headers every page gets (frames, sniffing, referrers, HSTS, a Content-Security-Policy) and the
guard that holds every ``/admin/`` page for admins."""

from __future__ import annotations

import secrets

from flask import g, request

ADMIN_PREFIX = "/admin/"

HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """This response's nonce: the only inline ``<script>`` and ``<style>`` blocks that run carry it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    """Scripts and styles from this site or with this response's nonce; no inline ``style=`` or ``on...=``
    attributes, no plugins, no framing, forms post only here; images also as ``data:`` (the report's charts)."""
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def secure_cookies(base_url: str) -> bool:
    """Cookies are ``Secure`` (sent only over https) when the site is served over https."""
    return base_url.lower().startswith("https://")


def init_app(app) -> None:
    https = app.config.get("SESSION_COOKIE_SECURE", False)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _hold_admin_pages():
        # Every page under /admin/ is for admins, whether or not its view remembers to say so.
        if request.path.startswith(ADMIN_PREFIX):
            from webhooks.auth import admin_check

            return admin_check()
        return None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        # A view that serves something other than a page (a screenshot, a saved report) sets its own policy.
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
