"""Table test helpers: the table tests' config and a queue that records jobs instead of running them."""

from __future__ import annotations

TABLE_YAML = """
locale: en
secret_key: test-secret
tracker:  # configured so that imports queue their sync jobs; the tests' queues record them and run none
  kind: jira
  jira: {url: "https://cocreate-test.atlassian.net", email: cocreate@example.com, api_token: fake-token}
customers:
  - {key: acme, name: ACME Corp, locale: en}
  - {key: globex, name: Globex, locale: zh-Hant}
categories:
  - key: billing
    name: {zh-Hans: 计费, zh-Hant: 計費, en: Billing}
    jira_project: CS
  - key: reports
    name: {zh-Hans: 报表, zh-Hant: 報表, en: Reports}
    jira_project: CS
urgencies:
  - {key: critical, name: {zh-Hans: 紧急, zh-Hant: 緊急, en: Critical}, sla: {first_response: 4h, resolution: 3d}}
  - {key: high, name: {zh-Hans: 高, zh-Hant: 高, en: High}, sla: {first_response: 1d, resolution: 7d}}
  - {key: medium, name: {zh-Hans: 中, zh-Hant: 中, en: Medium}}
  - {key: low, name: {zh-Hans: 低, zh-Hant: 低, en: Low}}
people:
  - {name: Wang Wei, email: wang.wei@example.com}
  - {name: Chen Jie}
notifications:
  escalation_contacts: [cs-lead@example.com]
"""


class RecordingQueue:
    """Stands in for the job queue: records ``(name, args)`` of every job asked for, runs none."""

    def __init__(self):
        self.jobs: list[tuple[str, tuple]] = []

    def enqueue(self, name: str, *args, ref: str | None = None) -> str:
        self.jobs.append((name, args))
        return f"job-{len(self.jobs)}"

    def record(self, session, name: str, *args, ref: str | None = None) -> str:
        return self.enqueue(name, *args, ref=ref)

    def send(self, *jobs: str) -> None:
        """Recorded jobs are already in ``jobs``."""

    def named(self, name: str) -> list[tuple]:
        return [args for job, args in self.jobs if job == name]
