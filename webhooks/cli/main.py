"""The ``cocreate`` command line: the top-level group and, in one list, every command it offers."""

from __future__ import annotations

import os

import click

from sync.jobs.logs import configure
from webhooks.cli import commands, install, projects, table


@click.group()
@click.option("--log-level", default=os.environ.get("COCREATE_LOG_LEVEL", "INFO"), show_default=True)
@click.option("--log-format", type=click.Choice(["json", "text"]), default=os.environ.get("COCREATE_LOG_FORMAT"),
              help="Default: text on a terminal, JSON lines otherwise.")
def main(log_level: str, log_format: str | None) -> None:
    """Cocreate: customer needs in, tracker issues out, status back to customers."""
    configure(log_level, log_format)


for command in (
    commands.serve, commands.worker, commands.check_config, commands.user, commands.token, commands.jobs,
    commands.reconcile_command, commands.customer, projects.project,
    install.install,
    table.import_command, table.export_command, table.report, table.sla,
):
    main.add_command(command)
