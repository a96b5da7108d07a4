"""Interface language: zh-Hans, zh-Hant or en, from the user's switch, else the browser, else the config."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import Babel, get_locale, get_timezone

from plugin.settings import LOCALES
from webhooks.context import runtime
from webhooks.safety import safe_target
from webhooks.status_page import customer_locale, is_customer_path

COOKIE = "cocreate_lang"
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
# Browser language tags that mean each script; a bare "zh" is taken as Simplified.
_TAG_TO_LOCALE = {
    "zh-hans": "zh_Hans", "zh-cn": "zh_Hans", "zh-sg": "zh_Hans", "zh-my": "zh_Hans", "zh": "zh_Hans",
    "zh-hant": "zh_Hant", "zh-tw": "zh_Hant", "zh-hk": "zh_Hant", "zh-mo": "zh_Hant",
    "en": "en",
}

bp = Blueprint("i18n", __name__)


def locale_from_accept_language(header_values) -> str | None:
    """The best of our locales for an ``Accept-Language`` header (werkzeug's parsed form)."""
    for tag, _quality in header_values:
        tag = tag.lower().replace("_", "-")
        for candidate in (tag, "-".join(tag.split("-")[:2]), tag.split("-")[0]):
            if candidate.startswith("zh-hans"):
                return "zh_Hans"
            if candidate.startswith("zh-hant"):
                return "zh_Hant"
            if candidate in _TAG_TO_LOCALE:
                return _TAG_TO_LOCALE[candidate]
    return None


def page_locale() -> str:
    """The current request's locale as Cocreate's modules take it (``zh_Hant``)."""
    return str(get_locale())


def page_timezone() -> str:
    """The current request's time zone name (``Asia/Taipei``)."""
    return str(get_timezone())


def select_locale() -> str:
    """The language chosen with the switch; on a customer's status page, the customer's own; else the browser's,
    else the config's."""
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    if is_customer_path(request.path) and (locale := customer_locale()):
        return locale
    return locale_from_accept_language(request.accept_languages) or runtime().settings.locale


@bp.route("/lang/<code>")
def switch(code: str):
    """Remember the chosen language in a cookie and go back to the page the switch was on."""
    response = redirect(safe_target(request.args.get("next"), url_for("needs.table")))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def init_app(app) -> None:
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)

    @app.context_processor
    def _languages():
        return {"LANGUAGE_NAMES": LANGUAGE_NAMES, "current_locale": page_locale()}
