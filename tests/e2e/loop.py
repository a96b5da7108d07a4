"""Helpers for end-to-end loop tests: signed tracker webhooks built from real captured payloads."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def jira_issue_updated(issue: dict, account_id: str = "rd-engineer", to_status: str = "In Progress") -> dict:
    """A ``jira:issue_updated`` status change shaped like the captured Jira Cloud payload, about ``issue``."""
    payload = json.loads((FIXTURES / "jira" / "issue_updated__resolved.json").read_text(encoding="utf-8"))
    payload["issue"] = copy.deepcopy(issue)
    payload["user"] = {**payload["user"], "accountId": account_id, "name": account_id, "key": account_id}
    payload["changelog"] = {"id": "10227", "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                                                      "toString": to_status}]}
    return payload


def jira_comment_created(issue: dict, author: str, text: str) -> dict:
    return {"timestamp": 1700000000000, "webhookEvent": "comment_created",
            "comment": {"id": "10500", "author": {"accountId": author}, "body": text},
            "issue": {"id": issue["id"], "key": issue["key"], "fields": {}}}


def post_jira(client, payload: dict, secret: str, delivery: str | None = None):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/jira", data=body, content_type="application/json", headers={
        "X-Hub-Signature": signature, "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4())})


def github_issues_event(action: str, issue: dict, repo: str, sender: str = "octocat") -> dict:
    """An ``issues`` delivery shaped like GitHub's documented example, about ``issue`` in ``repo``."""
    payload = json.loads((FIXTURES / "github" / "issues__opened.json").read_text(encoding="utf-8"))
    payload["action"] = action
    payload["issue"] = copy.deepcopy(issue)
    payload["repository"] = {**payload["repository"], "full_name": repo, "name": repo.split("/")[1]}
    payload["sender"] = {**payload["sender"], "login": sender}
    return payload


def post_github(client, event: str, payload: dict, secret: str, delivery: str | None = None):
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/github", data=body, content_type="application/json", headers={
        "X-Hub-Signature-256": signature, "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4())})


def github_issue_comment(issue: dict, comment: dict, repo: str) -> dict:
    """An ``issue_comment`` ``created`` delivery shaped like GitHub's documented example, about ``comment`` (as
    the fake site stored it) on ``issue`` in ``repo``."""
    payload = json.loads((FIXTURES / "github" / "issue_comment__created.json").read_text(encoding="utf-8"))
    payload["issue"] = copy.deepcopy(issue)
    payload["comment"] = {**payload["comment"], **copy.deepcopy(comment)}
    payload["repository"] = {**payload["repository"], "full_name": repo, "name": repo.split("/")[1]}
    payload["sender"] = {**payload["sender"], "login": comment["user"]["login"]}
    return payload
