"""The catalogs: every message of the pages and of plugin/need.py is translated, and the .mo files are current."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from plugin.need import STAGE_NAMES, STAGES, stage_name
from plugin.settings import LOCALES
from webhooks.forms import STAGE_NAMES as FORM_STAGE_NAMES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webhooks" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}


def catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


def extracted_ids() -> set:
    """Every message babel.cfg names, extracted as ``pybabel extract`` does."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {message for _file, _line, message, _comments, _context in
            extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}


def as_map(messages) -> dict:
    """msgid -> msgstr; plural entries as tuples, however the reader gave them."""

    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {key(message.id): key(message.string) for message in messages if message.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_extracted_message_is_translated(locale):
    translations = as_map(catalog(locale))
    missing = []
    for message in sorted(extracted_ids(), key=str):
        key = message if isinstance(message, str) else tuple(message)
        value = translations.get(key)
        if not value or (isinstance(value, tuple) and not all(value)):
            missing.append(key)
    assert not missing, f"untranslated in {locale} (see babel.cfg for how to update): {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_are_clean(locale):
    po = catalog(locale)

    assert not [message.id for message in po if message.id and message.fuzzy], "fuzzy entries"
    problems = [(message.id, [str(error) for error in errors]) for message, errors in po.check()]
    assert not problems, f"placeholders that do not match their msgid: {problems}"


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogs_are_current(locale):
    compiled = io.BytesIO()
    write_mo(compiled, catalog(locale))
    compiled.seek(0)
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        shipped = read_mo(handle)

    assert as_map(shipped) == as_map(read_mo(compiled)), \
        "messages.mo is stale: run .venv/bin/pybabel compile -d webhooks/translations"


def test_every_stage_has_a_display_name():
    assert set(FORM_STAGE_NAMES) == set(STAGES) == set(STAGE_NAMES)


@pytest.mark.parametrize("locale", LOCALES)
def test_pages_issues_and_sheets_name_the_stages_alike(app, locale):
    """The web pages translate the stage names through the catalogs; issue bodies and sheets through
    plugin.need.stage_name: the same words in every language."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(locale):
        shown = {stage: str(FORM_STAGE_NAMES[stage]) for stage in STAGES}
    assert shown == {stage: stage_name(stage, locale) for stage in STAGES}
