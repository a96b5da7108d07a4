"""A project's acceptance report, in the customer's language: each criterion with its state and evidence, the
needs behind it with their status, and a sign-off block; as a page (with print styles) and as a PDF printed by
headless Chromium (``COCREATE_CHROMIUM``, else the first Chromium or Chrome on the PATH)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from flask import Blueprint, abort, render_template
from flask_babel import force_locale, gettext
from flask_login import login_required

from sync.ledger.projects import UnknownProject, get_project
from sync.ledger.store import utcnow
from webhooks import project_view
from webhooks.cli.table import chromium
from webhooks.context import customers, runtime

bp = Blueprint("project_reports", __name__)

PRINT_SECONDS = 120


def report_html(key: str, for_print: bool = False) -> str:
    """The report of project ``key`` as one self-contained HTML document in its customer's language."""
    rt = runtime()
    try:
        with rt.Session() as session:
            project = get_project(session, key)
            summary = project_view.summarise(rt.settings, session, project)
    except UnknownProject:
        abort(404)
    customer = customers().get(project.customer)
    locale = customer.locale if customer else rt.settings.locale
    with force_locale(locale):
        return render_template("projects/acceptance.html", project=project, summary=summary, customer=customer,
                               report_locale=locale, for_print=for_print, printed_at=utcnow())


@bp.route("/projects/<key>/acceptance")
@login_required
def acceptance(key: str):
    return report_html(key)


class PrintFailed(RuntimeError):
    """Chromium is missing or could not print."""


def print_pdf(document: str) -> bytes:
    """``document`` printed to PDF by headless Chromium; raises :class:`PrintFailed` saying why not."""
    browser = chromium()
    if browser is None or not Path(browser).exists():
        raise PrintFailed(gettext("Printing the PDF needs Chromium, which is not installed here (set "
                                  "COCREATE_CHROMIUM to its path). The report itself can be opened as a page and "
                                  "printed from the browser."))
    with tempfile.TemporaryDirectory() as folder:
        page, output = Path(folder) / "acceptance.html", Path(folder) / "acceptance.pdf"
        page.write_text(document, encoding="utf-8")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--no-pdf-header-footer", f"--user-data-dir={folder}/profile", f"--print-to-pdf={output}",
                   page.as_uri()]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PRINT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrintFailed(gettext("Chromium could not print the PDF: %(problem)s", problem=str(exc))) from exc
        if result.returncode != 0 or not output.exists():
            raise PrintFailed(gettext("Chromium could not print the PDF: %(problem)s",
                                      problem=result.stderr.strip()[-300:]))
        return output.read_bytes()


@bp.route("/projects/<key>/acceptance.pdf")
@login_required
def acceptance_pdf(key: str):
    document = report_html(key, for_print=True)
    try:
        data = print_pdf(document)
    except PrintFailed as exc:
        return render_template("projects/print_failed.html", key=key, message=str(exc)), 503
    return data, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'inline; filename="acceptance-{key}.pdf"',
                       "Content-Security-Policy": "default-src 'none'"}
