"""What every ``cocreate`` command shares: the ``--config`` option, loading the settings (exit 2 with every
problem listed) and building the runtime."""

from __future__ import annotations

import os
import sys

import click

from plugin.catalogs import Catalog, catalog
from plugin.errors import ConfigError
from plugin.loading import load_settings
from plugin.settings import Settings
from sync.runtime import Runtime, build_runtime

EXIT_CONFIG = 2


def settings_or_exit(config: str | None) -> Settings:
    """The settings of ``config`` (or the default file); on a bad file, every problem on stderr and exit 2."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_CONFIG)


_ENVIRONMENT_LANGUAGES = (
    (("zh_tw", "zh_hk", "zh_mo", "zh_hant"), "zh_Hant"),
    (("zh_cn", "zh_sg", "zh_hans", "zh"), "zh_Hans"),
    (("en",), "en"),
)


def cli_locale(settings: Settings, environ: dict | None = None) -> str:
    """The language a command speaks: the first of ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set (as POSIX
    reads them), when it names one Cocreate speaks (``zh_TW.UTF-8`` -> zh_Hant); else the config's ``locale``
    (``C``, ``POSIX`` and other languages say nothing Cocreate can use)."""
    environ = os.environ if environ is None else environ
    value = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "")
    wanted = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_").lower()
    for prefixes, locale in _ENVIRONMENT_LANGUAGES:
        if any(wanted == prefix or wanted.startswith(prefix + "_") for prefix in prefixes):
            return locale
    return settings.locale


def cli_catalog(settings: Settings) -> Catalog:
    """The catalog of the language a command speaks (:func:`cli_locale`)."""
    return catalog(cli_locale(settings))


def runtime_for(config: str | None, **kwargs) -> Runtime:
    """The runtime of ``config``'s settings (``build_runtime``'s keyword arguments pass through)."""
    return build_runtime(settings_or_exit(config), **kwargs)


config_option = click.option(
    "--config", "-c", envvar="COCREATE_CONFIG", default=None, metavar="FILE",
    help="YAML config file (default: $COCREATE_CONFIG or ./cocreate.yaml).",
)
