"""Jira project versions as :class:`~plugin.base.Release`: a fixVersion is shipped once it is released.

``GET /rest/api/3/version/{id}`` (the client's ``version``) reads one version, ``GET project/{key}/versions``
(``project_versions``) lists a project's, and JQL ``fixVersion = <id>`` finds the issues a version ships.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jira import JIRA

from plugin.base import Release
from plugin.jira.client import jira_errors


def release_of(raw: dict[str, Any]) -> Release:
    """A :class:`Release` from Jira's ``Version`` JSON (a webhook's ``version`` has the same shape)."""
    day = raw.get("releaseDate")
    return Release(ref=str(raw["id"]), project=str(raw.get("projectId") or ""), name=str(raw.get("name") or ""),
                   released=bool(raw.get("released")), released_on=dt.date.fromisoformat(day) if day else None)


def get_version(client: JIRA, ref: str) -> Release:
    if not ref.isdigit():
        raise ValueError(f"{ref!r} is not a Jira version id")
    with jira_errors(f"read version {ref}"):
        return release_of(client.version(ref).raw)


def fix_version_jql(release: Release) -> str:
    """The JQL of the issues whose fixVersion is ``release`` (by id: a name is unique only within a project)."""
    return f"fixVersion = {int(release.ref)}"


def released_since(client: JIRA, projects: list[str], since: dt.datetime) -> list[Release]:
    """Released versions of ``projects`` dated on or after ``since``'s day (Jira keeps a release date, no time).
    A version released without a date cannot be placed in time and is left to its webhook."""
    day = since.date()
    found = []
    for project in projects:
        with jira_errors(f"list the versions of {project}"):
            versions = client.project_versions(project)
        for version in versions:
            release = release_of(version.raw)
            if release.released and release.released_on is not None and release.released_on >= day:
                found.append(release)
    return found
