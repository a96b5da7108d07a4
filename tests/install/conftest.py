"""Fixtures for ``cocreate install``: a CLI runner in a temporary folder and config files written there."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from plugin.github.adapter import Pacer
from webhooks.cli import main


@pytest.fixture(autouse=True)
def _no_write_pacing(monkeypatch):
    """GitHub writes are spaced a second apart in production; tests need not wait."""
    monkeypatch.setattr(Pacer, "wait", lambda self: 0.0)


@pytest.fixture
def cocreate(tmp_path, monkeypatch):
    """``cocreate(*args)`` runs the command in ``tmp_path`` and returns click's Result."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COCREATE_HOME", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def write_config(tmp_path, monkeypatch):
    """``write_config(yaml_text, **environ)`` writes cocreate.yaml, sets the variables and returns its path."""

    def write(text: str, **environ: str) -> str:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        path = tmp_path / "cocreate.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write
