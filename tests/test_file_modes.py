"""What ``cocreate serve`` and ``cocreate worker`` write (the store, screenshots) only Cocreate's user can read,
and the shipped systemd units and gunicorn config say so too."""

from __future__ import annotations

import io
import os
import runpy
import stat
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner

from plugin.loading import parse_settings
from sync.ledger import accounts
from sync.runtime import build_runtime
from tests.factories import DEFAULT_YAML, need_data
from tests.images import png_bytes
from tests.web.pages import log_in
from webhooks.app import create_app
from webhooks.cli import main

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


@pytest.fixture(autouse=True)
def usual_umask(monkeypatch):
    """Start from the common 022 and give the test process its own umask back afterwards."""
    monkeypatch.setattr("signal.signal", lambda *args: None)  # keep pytest's own SIGTERM handling
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_creates_the_store_and_screenshots_for_its_user_only(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("COCREATE_HOME", str(home))
    with mock.patch("waitress.serve"):
        result = CliRunner().invoke(main, ["serve", "--no-worker", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert _mode(home / "cocreate.db") == 0o600

    # The same process (umask as serve left it) takes a need with a screenshot.
    runtime = build_runtime(parse_settings(DEFAULT_YAML, "test.yaml"), {"COCREATE_HOME": str(home)}, immediate=True)
    with runtime.Session.begin() as session:
        accounts.add_user(session, "cs1", "password1", "cs")
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, runtime=runtime).test_client()
    log_in(client)
    response = client.post("/needs/new", data={**need_data(), "screenshots": [(io.BytesIO(png_bytes()), "a.png")]})
    runtime.close()

    assert response.status_code == 302, response.text
    [screenshot] = list(runtime.uploads.iterdir())
    assert _mode(screenshot) == 0o600


def test_worker_creates_the_store_for_its_user_only(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("COCREATE_HOME", str(home))
    with mock.patch("sync.jobs.queue.Queue.run_consumer"):
        result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 0, result.output
    assert _mode(home / "cocreate.db") == 0o600


@pytest.mark.parametrize("unit", ["cocreate-web.service", "cocreate-worker.service"])
def test_systemd_units_set_a_private_umask(unit):
    assert "\nUMask=0077\n" in (DEPLOY / unit).read_text()


def test_gunicorn_sets_a_private_umask_before_the_web_processes_start():
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    conf["on_starting"](server=None)
    assert os.umask(0o022) == 0o077
