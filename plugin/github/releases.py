"""GitHub releases as :class:`~plugin.base.Release`, and the rule that says which issues a release ships.

GitHub has no fixVersion. An issue is in a release when the release's notes mention it (``#12``,
``owner/repo#12`` or the issue's URL: the notes GitHub generates list the changes as ``#N``) or when the issue's
milestone is titled like the release's tag or name (milestones are GitHub's nearest thing to a fixVersion).
Only published releases ship: a draft is not public and a pre-release is not what customers run.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

OWNER_REPO = r"[\w.-]+/[\w.-]+"


def release_ref(project: str, release_id: int | str) -> str:
    """``owner/repo:17372790``: how :meth:`GitHubAdapter.get_release` names a release."""
    return f"{project}:{release_id}"


def parse_release_ref(ref: str) -> tuple[str, int]:
    project, _, number = ref.rpartition(":")
    if not re.fullmatch(OWNER_REPO, project) or not number.isdigit():
        raise ValueError(f"{ref!r} is not a GitHub release such as owner/repo:123")
    return project, int(number)


def published_on(data: dict[str, Any]) -> dt.date | None:
    value = data.get("published_at")
    return dt.datetime.fromisoformat(value).date() if value else None


def shipped(data: dict[str, Any]) -> bool:
    """Published, and neither a draft nor a pre-release."""
    return bool(data.get("published_at")) and not data.get("draft") and not data.get("prerelease")


def mentioned_numbers(project: str, notes: str) -> set[int]:
    """The issue numbers of ``project`` that release ``notes`` mention: ``#12`` alone, ``owner/repo#12`` naming
    this repository (in any case), or ``https://<host>/owner/repo/issues/12``. ``other/repo#12`` is another
    repository's issue and does not count."""
    wanted = project.casefold()
    numbers = set()
    for match in re.finditer(rf"(?<![\w/#])(?:(?P<repo>{OWNER_REPO}))?#(?P<number>\d+)\b", notes):
        if match["repo"] is None or match["repo"].casefold() == wanted:
            numbers.add(int(match["number"]))
    for match in re.finditer(rf"https?://[^\s/]+/(?P<repo>{OWNER_REPO})/issues/(?P<number>\d+)\b", notes):
        if match["repo"].casefold() == wanted:
            numbers.add(int(match["number"]))
    return numbers


def milestone_matches(milestone_title: str, release_tag: str | None, release_name: str) -> bool:
    """A milestone titled like the release's tag or name (spaces and case aside) is that release's."""
    title = milestone_title.strip().casefold()
    return bool(title) and title in {(release_tag or "").strip().casefold(), release_name.strip().casefold()}
