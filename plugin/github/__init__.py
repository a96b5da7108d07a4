"""GitHub tracker: the PyGithub client built from settings, and the adapter Cocreate's sync uses."""

from plugin.github.adapter import GitHubAdapter, Pacer
from plugin.github.client import build_github

__all__ = ["GitHubAdapter", "Pacer", "build_github"]
