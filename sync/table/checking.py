"""The dry run of a large upload as a job: an upload waiting in ``<home>/imports`` is ``<token><suffix>`` beside
``<token>.json`` (who uploaded it, its name, the default customer and zone); the ``check_import`` job adds
``progress`` (rows checked so far, about how many there are, written every ``PROGRESS_ROWS`` rows) and at the end
the dry run's ``report``, or the ``problems`` that kept the file from being read at all (and the sheet's
``language`` they are told in, when its header row was read). The status page
(``/needs/import/<token>``) reads the same file."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from plugin.need import N_
from sync.table.changes import FieldChange
from sync.table.columns import ImportReport, Problem, TableError
from sync.table.importer import import_table

if TYPE_CHECKING:
    from sync.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_FAILED = N_("The check of %(name)s failed; the log says why. Please upload the file again.")
PROGRESS_ROWS = 1000
"""The job writes its progress after about this many more rows."""


def imports_folder(runtime: Runtime) -> Path:
    folder = runtime.home / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_meta(folder: Path, token: str) -> dict | None:
    """The upload's ``.json``, or None once it is gone."""
    try:
        return json.loads((folder / f"{token}.json").read_text())
    except FileNotFoundError:
        return None


def write_meta(folder: Path, token: str, meta: dict) -> None:
    """Replace the upload's ``.json`` whole, so that a page reading it never sees half of it."""
    path = folder / f"{token}.json"
    partial = folder / f"{token}.json.partial"
    partial.write_text(json.dumps(meta))
    os.replace(partial, path)


def report_data(report: ImportReport) -> dict:
    return asdict(report)


def report_from(data: dict) -> ImportReport:
    return ImportReport(**{**data, "problems": [Problem(**item) for item in data["problems"]],
                           "warnings": [Problem(**item) for item in data["warnings"]],
                           "changes": [FieldChange(**item) for item in data.get("changes", ())]})


def check_import(runtime: Runtime, token: str) -> None:
    """Dry-run the upload ``token`` and store its report beside it; nothing when the upload is gone or checked
    (so the job is safe to run again)."""
    folder = imports_folder(runtime)
    meta = read_meta(folder, token)
    if meta is None or "report" in meta or "problems" in meta:
        return
    written = {"done": -PROGRESS_ROWS}

    def progress(done: int, total: int | None) -> None:
        if done - written["done"] >= PROGRESS_ROWS:
            written["done"] = done
            write_meta(folder, token, {**meta, "progress": {"done": done, "total": total or meta.get("estimate")}})

    try:
        report = import_table(runtime, folder / f"{token}{meta['suffix']}", dry_run=True,
                              default_customer=meta["customer"] or None, timezone=meta.get("timezone", "UTC"),
                              actor=meta["user"], filename=meta["filename"], progress=progress)
    except TableError as exc:
        write_meta(folder, token, {**meta, "problems": [asdict(problem) for problem in exc.problems],
                                   "language": exc.language})
        return
    except Exception:  # the page must not wait for ever: say the check failed, keep the traceback in the log
        log.exception("check_import: the dry run of %s failed", meta["filename"])
        write_meta(folder, token, {**meta, "problems": [asdict(Problem(None, None, None, CHECK_FAILED,
                                                                       {"name": meta["filename"]}))]})
        return
    write_meta(folder, token, {**meta, "progress": {"done": report.rows, "total": report.rows},
                               "report": report_data(report)})
