"""The release events of both receivers: a released Jira version and a published GitHub release.

Each handler returns the release's ref (``Release.ref``: the Jira version id, ``owner/repo:<release id>`` on
GitHub), kept in the delivery's ``issue_key`` column; the delivery queues ``apply_release`` instead of
``apply_issue_change``. As for issues, the payload is only a hint: the job reads the release again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webhooks.receiver.ladder import AnomalousPayload, IgnoredPayload

RELEASE_JOB = "apply_release"


def jira_version(payload: Mapping[str, Any]) -> str:
    """``jira:version_released``: the ``version.id`` (Jira sends it as a string of digits)."""
    version = payload.get("version")
    version_id = version.get("id") if isinstance(version, Mapping) else None
    if isinstance(version_id, int) and not isinstance(version_id, bool):
        version_id = str(version_id)
    if not isinstance(version_id, str) or not version_id.isdigit():
        raise AnomalousPayload("version.id is missing")
    if version.get("released") is False:
        raise IgnoredPayload("the version is not released")
    return version_id


def github_release(payload: Mapping[str, Any]) -> str:
    """``release`` ``published`` or ``released``: ``owner/repo:<release id>``; drafts and pre-releases ship to no
    customer and are ignored."""
    repository = payload.get("repository")
    release = payload.get("release")
    full_name = repository.get("full_name") if isinstance(repository, Mapping) else None
    release_id = release.get("id") if isinstance(release, Mapping) else None
    if not isinstance(full_name, str) or "/" not in full_name:
        raise AnomalousPayload("repository.full_name is missing")
    if not isinstance(release_id, int) or isinstance(release_id, bool):
        raise AnomalousPayload("release.id is missing")
    if release.get("draft") or release.get("prerelease"):
        raise IgnoredPayload("a draft or pre-release")
    return f"{full_name}:{release_id}"
