"""The ``cocreate`` command line (``webhooks.cli:main`` is the console script)."""

from webhooks.cli.main import main

__all__ = ["main"]
