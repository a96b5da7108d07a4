"""``cocreate import``, ``cocreate export``, ``cocreate report voc`` and ``cocreate sla check``: the table and
the figures from the command line. Messages are in the language of LANG/LC_ALL, else the config's; an import's
problems with the sheet are in the sheet's language (the language of its headers)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from plugin.catalogs import catalog
from plugin.settings import LOCALES, known_zone
from sync.table.changes import describe
from sync.table.columns import TableError
from sync.table.export import export_table
from sync.table.importer import import_table
from webhooks.cli.common import cli_locale, config_option, runtime_for

LANGUAGE_CHOICE = click.Choice(["zh-Hans", "zh-Hant", "en"], case_sensitive=False)


def _locale(value: str | None, default: str) -> str:
    """``zh-hant`` -> ``zh_Hant``; None -> ``default``."""
    if not value:
        return default
    return next(locale for locale in LOCALES if locale.lower() == value.replace("-", "_").lower())


def _known_zone(_ctx, _param, value: str | None) -> str | None:
    try:
        return None if value is None else known_zone(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


timezone_option = click.option("--timezone", "timezone", default=None, metavar="ZONE", callback=_known_zone,
                               help="IANA time zone of the sheet's times (default: the config's timezone).")


@click.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and list the problems; write nothing.")
@click.option("--customer", default=None, metavar="KEY", help="Customer of rows that name none.")
@click.option("--project", default=None, metavar="KEY", help="Co-creation project of rows that name none.")
@timezone_option
@click.option("--sheet", default=None, metavar="NAME", help="Worksheet to read (default: the first).")
@click.option("--encoding", default=None, metavar="CODEC", help="Encoding of a CSV file (default: detected).")
@click.option("--as", "actor", default=None, metavar="NAME", help="Who imports, for the status history.")
def import_command(config: str | None, file: Path, dry_run: bool, customer: str | None, timezone: str,
                   sheet: str | None, encoding: str | None, actor: str | None, project: str | None = None) -> None:
    """Import the requirement table FILE (.xlsx or .csv): rows are matched by 序號, so importing the same
    file again updates them. Rows with problems are not written; they are listed by row and column.
    Exits 1 when any row was refused, 2 when the file cannot be imported at all (not a readable table, no header
    row, ...)."""
    runtime = runtime_for(config)
    locale = cli_locale(runtime.settings)
    translations = catalog(locale)
    _, ngettext = translations.gettext, translations.ngettext
    with contextlib.ExitStack() as stack:
        bar = None

        def progress(done: int, total: int | None) -> None:
            nonlocal bar
            if total is None:  # a workbook that does not say its size: no bar
                return
            if bar is None:
                bar = stack.enter_context(click.progressbar(
                    length=total, label=_("Checking rows") if dry_run else _("Importing rows"),
                    file=sys.stderr, show_pos=True))
            bar.update(min(done, total) - bar.pos)

        try:
            report = import_table(runtime, file, dry_run=dry_run, default_customer=customer,
                                  timezone=timezone or runtime.settings.timezone,
                                  actor=actor, sheet=sheet, encoding=encoding, progress=progress,
                                  default_project=project)
        except TableError as exc:
            # The problems quote the sheet's headers: they are told in the sheet's language, as the rows are.
            sheet_ = catalog(exc.language).gettext if exc.language else _
            for problem in exc.problems:
                click.echo(problem.render(sheet_), err=True)
            raise SystemExit(2) from exc
    sheet_ = catalog(report.language).gettext
    for problem in report.problems:
        click.echo(problem.render(sheet_))
    if report.problems_left_off:
        click.echo(ngettext("and %(num)d more problem", "and %(num)d more problems", report.problems_left_off))
    for warning in report.warnings:
        click.echo(_("warning") + ": " + warning.render(sheet_), err=True)
    if report.warnings_left_off:
        click.echo(ngettext("and %(num)d more note", "and %(num)d more notes", report.warnings_left_off), err=True)
    book = runtime.customers()
    for change in report.changes:
        field, old, new = describe(change, runtime.settings, locale, book)
        click.echo(_("%(ref)s (row %(row)d), %(field)s: %(old)s -> %(new)s")
                   % {"ref": change.ref, "row": change.row, "field": field, "old": old, "new": new})
    if report.changes_left_off:
        click.echo(ngettext("and %(num)d more need changed", "and %(num)d more needs changed",
                            report.changes_left_off))
    counts = {"rows": report.rows, "created": report.created, "updated": report.updated,
              "unchanged": report.unchanged, "refused": report.refused, "name": report.filename}
    if dry_run:
        click.echo(_("Dry run of %(name)s: %(rows)d rows: %(created)d new, %(updated)d updated, "
                     "%(unchanged)d unchanged, %(refused)d refused. Nothing was written.") % counts)
    else:
        click.echo(_("Imported %(name)s: %(rows)d rows: %(created)d new, %(updated)d updated, "
                     "%(unchanged)d unchanged, %(refused)d refused (not written).") % counts)
        if report.sync_jobs or not report.synced_refs:
            click.echo(_("%(jobs)d sync job(s) queued for %(needs)d need(s).")
                       % {"jobs": report.sync_jobs, "needs": len(report.synced_refs)})
        else:
            click.echo(_("%(needs)d need(s) wait for a tracker: their issues are made once one is configured.")
                       % {"needs": len(report.synced_refs)})
    if report.problems:
        raise SystemExit(1)


@click.command("export")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", default=None, type=LANGUAGE_CHOICE, help="Language of the headers (default: the config's).")
@timezone_option
@click.option("--status", default=None, help="Only needs with this status key.")
@click.option("--urgency", default=None, help="Only needs with this urgency key.")
@click.option("--category", default=None, help="Only needs in this category key.")
@click.option("--customer", default=None, help="Only needs of this customer key.")
@click.option("--owner", default=None, help="Only needs followed by this person.")
def export_command(config: str | None, file: Path, lang: str | None, timezone: str, **filters: str | None) -> None:
    """Write the requirement table to FILE (.xlsx or .csv): the seed's columns, then customer, stage, reporter
    e-mail and channel, link, tracker issue and its link, with each need's live status."""
    fmt = file.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise click.UsageError("FILE must end in .xlsx or .csv")
    runtime = runtime_for(config)
    _ = catalog(cli_locale(runtime.settings)).gettext
    count = export_table(runtime, file, fmt, locale=_locale(lang, runtime.settings.locale),
                         timezone=timezone or runtime.settings.timezone,
                         filters={name: value for name, value in filters.items() if value})
    click.echo(_("%(count)d needs written to %(name)s") % {"count": count, "name": str(file)})


@click.group()
def report() -> None:
    """Reports on the needs."""


@report.command("voc")
@config_option
@click.option("--month", required=True, metavar="YYYY-MM", help="The month to report on.")
@click.option("--lang", default=None, type=LANGUAGE_CHOICE, help="Language (default: the config's).")
@timezone_option
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report with its charts: .html, or .pdf (printed by Chromium).")
def report_voc(config: str | None, month: str, lang: str | None, timezone: str, output: Path | None) -> None:
    """The monthly voice-of-customer report: needs by category, urgency and status, time to acceptance and to
    resolution, SLA breaches, the most requested issues and the share of needs delivered."""
    from sync.report.figures import voc_report
    from sync.report.render import render_document, summary_lines

    runtime = runtime_for(config)
    locale = _locale(lang, runtime.settings.locale)
    try:
        figures = voc_report(runtime, month, timezone=timezone or runtime.settings.timezone)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    book = runtime.customers()
    for line in summary_lines(figures, runtime.settings, locale, book):
        click.echo(line)
    if output is None:
        return
    document = render_document(figures, runtime.settings, locale, book)
    if output.suffix.lower() == ".pdf":
        print_pdf(document, output)
    elif output.suffix.lower() in (".html", ".htm"):
        output.write_text(document, encoding="utf-8")
    else:
        raise click.UsageError("--output must end in .html or .pdf")
    click.echo(str(output))


def chromium() -> str | None:
    """The Chromium (or Chrome) to print PDFs with: ``COCREATE_CHROMIUM``, else the first on the PATH."""
    configured = os.environ.get("COCREATE_CHROMIUM")
    if configured:
        return configured
    return next(filter(None, (shutil.which(name) for name in
                              ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"))), None)


def print_pdf(document: str, output: Path) -> None:
    """Print an HTML document to ``output`` with headless Chromium (the report's print styles apply)."""
    browser = chromium()
    if browser is None:
        raise click.ClickException("printing a PDF needs Chromium (set COCREATE_CHROMIUM); "
                                   "or write .html and print it from a browser")
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(document, encoding="utf-8")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--no-pdf-header-footer", f"--user-data-dir={folder}/profile",
                   f"--print-to-pdf={output.resolve()}", page.as_uri()]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not output.exists():
        raise click.ClickException(f"Chromium could not print the PDF: {result.stderr.strip()[-500:]}")


@click.group()
def sla() -> None:
    """Service-level targets per urgency."""


@sla.command("check")
@config_option
def sla_check(config: str | None) -> None:
    """Queue an escalation notice for every SLA breach not told yet (safe to run as often as wanted)."""
    from sync.sla import escalate_breaches, overdue_needs

    runtime = runtime_for(config)
    now = dt.datetime.now(dt.UTC)
    written = escalate_breaches(runtime, now)
    overdue = overdue_needs(runtime, now)
    click.echo(f"{len(overdue)} overdue need(s); {len(written)} escalation notice(s) queued")
