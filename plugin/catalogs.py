"""Cocreate's Babel catalogs (webhooks/translations, read as package data) in a language the caller names, in a
request or not."""

from __future__ import annotations

import functools
from importlib.resources import files

from babel.support import Translations

CATALOGS = files("webhooks") / "translations"


class Catalog:
    """The messages of one language; like Flask-Babel, values given are put in with ``%``."""

    def __init__(self, locale: str):
        self._translations = Translations.load(str(CATALOGS), [locale])

    def gettext(self, message: str, **values) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def pgettext(self, context: str, message: str, **values) -> str:
        text = self._translations.pgettext(context, message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, num: int, **values) -> str:
        return self._translations.ngettext(singular, plural, num) % {"num": num, **values}


@functools.cache
def catalog(locale: str) -> Catalog:
    """The catalog of ``locale`` (``zh_Hans``, ``zh_Hant``, ``en``), read once; another locale gets the msgids."""
    return Catalog(locale)
