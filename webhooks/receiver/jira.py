"""POST /webhooks/jira: Jira Cloud and Data Center webhooks.

Two ways to authenticate, whichever the Jira admin can set up:

- a webhook *secret* (Jira Cloud admin webhooks; Jira Data Center 10+): Jira sends
  ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``, checked against ``webhooks.jira_secret``;
- a *token in the URL* (older Data Center, Automation for Jira "Send web request"): ``/webhooks/jira?token=...`` or
  ``/webhooks/jira/<token>``, compared with ``webhooks.jira_url_token``.

Every credential a request presents must hold. The event is the body's ``webhookEvent``; the delivery id is the
``X-Atlassian-Webhook-Identifier`` header (Jira Cloud keeps it across retries), or, where Jira sends none, a
stable id derived from the body, whose ``timestamp`` tells two real events apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import request

from webhooks.context import runtime
from webhooks.receiver import ladder, releases
from webhooks.receiver.ladder import AnomalousPayload, IgnoredPayload, Refused

SOURCE = "jira"


def _actor(payload: Mapping[str, Any]) -> set[str]:
    """Who caused the event: the comment's author for comment events, else the webhook's ``user``."""
    people = [payload.get("user")]
    comment = payload.get("comment")
    if isinstance(comment, Mapping):
        people.append(comment.get("author"))
    ids: set[str] = set()
    for person in people:
        if isinstance(person, Mapping):
            ids |= {value for name in ("accountId", "name", "key") if isinstance(value := person.get(name), str)}
    return ids


def issue_key(payload: Mapping[str, Any]) -> str:
    """``PROJ-12``: the ``issue.key`` of an issue or comment delivery; Cocreate's own events are ignored."""
    issue = payload.get("issue")
    key = issue.get("key") if isinstance(issue, Mapping) else None
    if not isinstance(key, str) or not key.strip():
        raise AnomalousPayload("issue.key is missing")
    tracker = runtime().settings.tracker
    own = tracker.jira.account_id if tracker is not None and tracker.kind == "jira" else None
    if own and own in _actor(payload):
        raise IgnoredPayload("caused by Cocreate's own account")
    return key.strip()


def comment_issue_key(payload: Mapping[str, Any]) -> str:
    """Like :func:`issue_key`, but a comment delivery without any ``issue`` is ignored.

    Jira Server/Data Center comment events carry only the comment (its ``self`` URL names the issue by numeric id,
    not by key). The same comment also arrives as ``jira:issue_updated`` (``issue_commented``,
    ``issue_comment_edited``, ``issue_comment_deleted``) with the issue, which Cocreate subscribes to anyway.
    """
    if "issue" not in payload and isinstance(payload.get("comment"), Mapping):
        raise IgnoredPayload("Jira Server comment event without its issue")
    return issue_key(payload)


HANDLED_EVENTS: dict[str, ladder.Handler] = {
    "jira:issue_created": issue_key,
    "jira:issue_updated": issue_key,
    "jira:issue_deleted": issue_key,
    "comment_created": comment_issue_key,
    "comment_updated": comment_issue_key,
    "comment_deleted": comment_issue_key,
    "jira:version_released": releases.jira_version,
}
"""``webhookEvent`` -> handler returning the issue key; each one queues ``apply_issue_change``, but the events of
:data:`RELEASE_EVENTS`, whose handler returns the version id and which queue ``apply_release``."""

RELEASE_EVENTS = frozenset({"jira:version_released"})

IGNORED_EVENTS = frozenset({
    "worklog_created",
    "worklog_updated",
    "worklog_deleted",
    "jira:worklog_updated",
    "attachment_created",
    "attachment_deleted",
    "issuelink_created",
    "issuelink_deleted",
    "issue_property_set",
    "issue_property_deleted",
    "jira:version_created",
    "jira:version_updated",
    "jira:version_deleted",
    "jira:version_unreleased",
    "jira:version_moved",
    "jira:version_merged",
})
"""Known events that change nothing a customer sees (the issue's own update event covers them; of a version's,
only its release ships anything)."""


def authenticate(body_signature: str, url_token: str | None) -> None:
    """Refuse (401) unless the request presents a credential Cocreate is configured for, and every one it presents
    is configured; the signature itself is checked once the body is read."""
    settings = runtime().settings.webhooks
    if not settings.jira_secret and not settings.jira_url_token:
        raise ladder.not_configured("Jira", "webhooks.jira_secret (or webhooks.jira_url_token)")
    if not body_signature and url_token is None:
        raise Refused(401, "unsigned", "the request has neither an X-Hub-Signature header nor a ?token=: "
                                       "give the webhook a secret in Jira, or add the token to its URL")
    if body_signature and not settings.jira_secret:
        raise Refused(401, "not_configured",
                      "the request is signed but webhooks.jira_secret is not set in Cocreate's configuration")
    if url_token is not None:
        if not settings.jira_url_token:
            raise Refused(401, "not_configured",
                          "the URL carries a token but webhooks.jira_url_token is not set in Cocreate's configuration")
        if not ladder.same_secret(url_token, settings.jira_url_token):
            raise Refused(401, "bad_token", "the token in the URL does not match webhooks.jira_url_token")


def receive(token: str | None = None):
    settings = runtime().settings.webhooks
    signature = request.headers.get("X-Hub-Signature", "")
    authenticate(signature, token if token is not None else request.args.get("token"))
    body = ladder.read_body(settings.max_body_bytes)
    if signature and not ladder.signature_matches(settings.jira_secret, body, signature):
        raise Refused(401, "bad_signature",
                      "X-Hub-Signature does not match the body: the webhook's secret differs from Cocreate's")
    if request.headers.get("X-Atlassian-Webhook-Identifier"):
        delivery_id = ladder.required_header("X-Atlassian-Webhook-Identifier", ladder.DELIVERY_ID_MAX)
    else:
        delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()
    payload = ladder.parse_json(body, SOURCE, delivery_id)
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise ladder.anomalous(SOURCE, delivery_id, "the body has no webhookEvent")
    verdict = ladder.classify(SOURCE, delivery_id, event, payload, HANDLED_EVENTS, IGNORED_EVENTS)
    job = releases.RELEASE_JOB if verdict.event in RELEASE_EVENTS else ladder.APPLY_JOB
    return ladder.accept(SOURCE, delivery_id, verdict, payload, body, job)
