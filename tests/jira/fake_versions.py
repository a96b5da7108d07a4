"""FakeJira with project versions: ``GET version/{id}``, ``GET project/{key}/versions`` and JQL ``fixVersion =``,
checked against Atlassian's description (the versions subset in tests/fixtures/jira)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.contract import JIRA_CLOUD, Contract
from tests.jira.fake_jira import API, BASE_URL, FakeJira, check_cloud_calls

JIRA_VERSIONS = Contract(
    Path(__file__).resolve().parents[1] / "fixtures" / "jira" / "jira-v3-versions-subset.json", BASE_URL,
    format_validators=JIRA_CLOUD.format_validators, undocumented_errors=JIRA_CLOUD.undocumented_errors,
)
"""The version operations the shared subset lacks, cut from the same official description (SOURCES.md)."""
WEBHOOK_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "jira" / \
    "version_released__released.json"
_VERSION_PATH = re.compile(rf"{API}/(version/\d+|project/[^/]+/versions)")


def check_jira_calls(calls, base_url: str = BASE_URL) -> int:
    """:func:`check_cloud_calls`, with the version operations checked against the versions subset."""
    host = urlsplit(base_url).netloc
    versions = [call for call in calls if urlsplit(call.request.url).netloc == host
                and _VERSION_PATH.fullmatch(urlsplit(call.request.url).path)]
    for call in versions:
        JIRA_VERSIONS.check_exchange(call.request, call.response)
    return len(versions) + check_cloud_calls([call for call in calls if call not in versions], base_url)


class FakeJiraVersions(FakeJira):
    """A :class:`FakeJira` whose projects have versions (Jira's fixVersions).

    - ``add_version(name, project="CS")``: an unreleased version of ``project``; its id;
    - ``release(version_id, day)``: release it on ``day``, as "Release" in a project's Releases page does;
    - ``fix(key, version_id)``: set the issue's fixVersion (counted as a change of the issue, not a write);
    - ``version_payload(version_id)``: the ``jira:version_released`` webhook body about it.
    """

    def __init__(self, mock, **options: Any):
        super().__init__(mock, **options)
        self.versions: dict[str, dict[str, Any]] = {}
        self._version_ids = itertools.count(10000)
        self._routes += [
            ("GET", r"/version/(?P<ref>\d+)", self._get_version),
            ("GET", r"/project/(?P<ref>[^/]+)/versions", self._project_versions),
        ]

    def add_version(self, name: str, project: str = "CS") -> str:
        version_id = str(next(self._version_ids))
        self.versions[version_id] = {
            "self": f"{self.api}/version/{version_id}", "id": version_id, "name": name, "archived": False,
            "released": False, "overdue": False, "projectId": int(self.projects[project]),
        }
        return version_id

    def release(self, version_id: str, day: dt.date) -> None:
        self.versions[version_id].update(released=True, releaseDate=day.isoformat(),
                                         userReleaseDate=f"{day:%d/%b/%y}")

    def fix(self, key: str, version_id: str) -> None:
        version = self.versions[version_id]
        fields = self.issues[key]["fields"]
        fields["fixVersions"] = [*fields.get("fixVersions", []),
                                 {key: version[key] for key in ("self", "id", "name", "archived", "released")}]
        self._touch(key)

    def version_payload(self, version_id: str) -> dict[str, Any]:
        """The documented delivery (tests/fixtures/webhooks/jira/version_released__released.json) about it."""
        payload = json.loads(WEBHOOK_FIXTURE.read_text(encoding="utf-8"))
        payload["timestamp"] = int(self.now.timestamp() * 1000)
        payload["version"] = {key: value for key, value in {**payload["version"], **self.versions[version_id]}.items()
                              if key != "description"}
        return payload

    def _get_version(self, request, query, ref):
        if ref not in self.versions:
            return self._error(404, [f"Could not find version for id '{ref}'"])
        return self._answer(200, self.versions[ref])

    def _project_versions(self, request, query, ref):
        project = next((key for key, project_id in self.projects.items() if ref in (key, project_id)), None)
        if project is None:
            return self._error(404, [f"No project could be found with key '{ref}'."])
        wanted = int(self.projects[project])
        return self._answer(200, [version for version in self.versions.values() if version["projectId"] == wanted])

    def _clause(self, clause: str):
        if m := re.fullmatch(r"fixVersion\s*=\s*(\d+)", clause, re.IGNORECASE):
            wanted = m.group(1)
            return lambda issue: any(version["id"] == wanted for version in issue["fields"].get("fixVersions", []))
        return super()._clause(clause)
