"""Test factories: a need as the form submits it (``need_data(**overrides)``), one filed through intake, a
runtime on a copy of the migrated store, and the default test config."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from plugin.need import validate_need
from sync.intake import create_need
from sync.runtime import build_runtime

DEFAULT_YAML = """
locale: en
secret_key: test-secret
customers:
  - key: acme
    name: ACME Corp
    locale: en
categories:
  - key: billing
    name: {zh-Hans: 计费, zh-Hant: 計費, en: Billing}
  - key: reports
    name: {zh-Hans: 报表, zh-Hant: 報表, en: Reports}
people:
  - name: Wang Wei
    email: wang.wei@example.com
"""


def migrated_runtime(settings, home: Path, migrated_store: Path, *, immediate: bool = True):
    """A runtime whose data folder ``home`` starts with a copy of ``migrated_store`` (no migration run)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_store, home / "cocreate.db")
    runtime = build_runtime(settings, {"COCREATE_HOME": str(home)}, immediate=immediate, migrate=False)
    runtime.customers()  # stores the config's customers and people, as build_runtime does after migrating
    runtime.people()
    return runtime


NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # "now" for every need the tests file


def need_data(**overrides) -> dict:
    """A valid submitted need as a dict; a test names only what differs."""
    data = {
        "category": "billing",
        "title": "Invoices should show the tax number",
        "description": "Customer needs the tax number on every PDF invoice.",
        "urgency": "high",
        "reporter_name": "Li Na",
        "reporter_email": "li.na@acme.example",
        "reported_at": "2026-11-20T09:30:00+00:00",
        "owner": "Wang Wei",
        "remarks": "",
        "stage": "rollout",
        "customer": "acme",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def file_need(runtime, uploads=(), **overrides):
    """A need checked at ``NOW`` and stored through intake on ``runtime`` (its sync job runs as the queue runs it)."""
    return create_need(runtime, validate_need(need_data(**overrides), runtime.settings, now=NOW), uploads)
