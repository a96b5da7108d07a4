"""What every ``cocreate`` command shares: the ``--config`` option, loading the settings (exit 2 with every
problem listed) and building the runtime."""

from __future__ import annotations

import sys

import click

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


def runtime_for(config: str | None, **kwargs) -> Runtime:
    """The runtime of ``config``'s settings (``build_runtime``'s keyword arguments pass through)."""
    return build_runtime(settings_or_exit(config), **kwargs)


config_option = click.option(
    "--config", "-c", envvar="COCREATE_CONFIG", default=None, metavar="FILE",
    help="YAML config file (default: $COCREATE_CONFIG or ./cocreate.yaml).",
)
