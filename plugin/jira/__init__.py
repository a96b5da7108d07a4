"""Jira Cloud and Data Center support: ``JiraAdapter`` on the jira (pycontribs) client built by ``build_client``."""

from plugin.jira.adapter import JiraAdapter
from plugin.jira.client import build_client

__all__ = ["JiraAdapter", "build_client"]
