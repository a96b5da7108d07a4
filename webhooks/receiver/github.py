"""POST /webhooks/github: GitHub (github.com and Enterprise Server) webhooks signed with X-Hub-Signature-256.

The event is the ``X-GitHub-Event`` header plus the payload's ``action`` (``issues.opened``); the delivery id is
``X-GitHub-Delivery``, which GitHub keeps when it redelivers. The issue key is ``owner/repo#number``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request

from webhooks.context import runtime
from webhooks.receiver import ladder, releases
from webhooks.receiver.ladder import AnomalousPayload, IgnoredPayload, Refused

SOURCE = "github"


def issue_key(payload: Mapping[str, Any]) -> str:
    """``owner/repo#number`` of the issue an ``issues`` or ``issue_comment`` delivery is about."""
    repository = payload.get("repository")
    issue = payload.get("issue")
    full_name = repository.get("full_name") if isinstance(repository, Mapping) else None
    number = issue.get("number") if isinstance(issue, Mapping) else None
    if not isinstance(full_name, str) or "/" not in full_name:
        raise AnomalousPayload("repository.full_name is missing")
    if not isinstance(number, int) or isinstance(number, bool):
        raise AnomalousPayload("issue.number is missing")
    sender = payload.get("sender")
    tracker = runtime().settings.tracker
    own = tracker.github.login if tracker is not None and tracker.kind == "github" else None
    if own and isinstance(sender, Mapping) and isinstance(sender.get("login"), str) \
            and sender["login"].casefold() == own.casefold():
        raise IgnoredPayload("caused by Cocreate's own account")
    return f"{full_name}#{number}"


HANDLED_EVENTS: dict[str, ladder.Handler] = {
    "issues.opened": issue_key,
    "issues.edited": issue_key,
    "issues.closed": issue_key,
    "issues.reopened": issue_key,
    "issues.labeled": issue_key,
    "issues.unlabeled": issue_key,
    "issues.assigned": issue_key,
    "issues.unassigned": issue_key,
    "issues.milestoned": issue_key,
    "issues.demilestoned": issue_key,
    "issues.deleted": issue_key,
    "issues.transferred": issue_key,
    "issue_comment.created": issue_key,
    "issue_comment.edited": issue_key,
    "issue_comment.deleted": issue_key,
    "release.published": releases.github_release,
    "release.released": releases.github_release,
}
"""``event.action`` -> handler returning the issue key; each one queues ``apply_issue_change``, but the events of
:data:`RELEASE_EVENTS`, whose handler returns ``owner/repo:<release id>`` and which queue ``apply_release``.
``release.released`` also comes when a pre-release becomes a release, which ``published`` never says again."""

RELEASE_EVENTS = frozenset({"release.published", "release.released"})

IGNORED_EVENTS = frozenset({
    "ping",  # sent when the hook is created; answered 200 "pong" and not stored
    "installation",  # any action: GitHub App lifecycle
    "installation_repositories",
    "installation_target",
    "issues.locked",
    "issues.unlocked",
    "issues.pinned",
    "issues.unpinned",
    "release.created",
    "release.edited",
    "release.prereleased",
    "release.unpublished",
    "release.deleted",
})
"""Known events (``event``: every action, or ``event.action``) that change nothing a customer sees."""


def event_name(event: str, payload: Mapping[str, Any]) -> str:
    """``issues`` + ``{"action": "opened"}`` -> ``issues.opened``; events without an action keep their name."""
    action = payload.get("action")
    return f"{event}.{action}" if isinstance(action, str) and action else event


def receive():
    settings = runtime().settings.webhooks
    secret = settings.github_secret
    if not secret:
        raise ladder.not_configured("GitHub", "webhooks.github_secret")
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        raise Refused(401, "unsigned", "the X-Hub-Signature-256 header is missing: give the webhook a secret in GitHub")
    body = ladder.read_body(settings.max_body_bytes)
    if not ladder.signature_matches(secret, body, signature):
        raise Refused(401, "bad_signature",
                      "X-Hub-Signature-256 does not match the body: the webhook's secret differs from Cocreate's")
    event = ladder.required_header("X-GitHub-Event", ladder.EVENT_MAX)
    delivery_id = ladder.required_header("X-GitHub-Delivery", ladder.DELIVERY_ID_MAX)
    payload = ladder.parse_json(body, SOURCE, delivery_id)
    verdict = ladder.classify(SOURCE, delivery_id, event_name(event, payload), payload, HANDLED_EVENTS,
                              IGNORED_EVENTS)
    if verdict.event == "ping":
        return ladder.answer(200, result="pong")
    job = releases.RELEASE_JOB if verdict.event in RELEASE_EVENTS else ladder.APPLY_JOB
    return ladder.accept(SOURCE, delivery_id, verdict, payload, body, job)
