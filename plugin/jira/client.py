"""The jira (pycontribs) client built from Cocreate's settings, its raw REST calls, and its errors as ``Tracker*``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import requests
from jira import JIRA, JIRAError

from plugin.errors import (
    TRANSPORT_ERRORS,
    TrackerAuthError,
    TrackerError,
    TrackerInvalidField,
    TrackerNotFound,
    TrackerRateLimited,
    TrackerUnavailable,
    parse_retry_after,
)
from plugin.tracker_settings import JiraSettings

TIMEOUT_SECONDS = 30
"""Connect and read timeout of every Jira call; a slower answer becomes TrackerUnavailable."""


def build_client(settings: JiraSettings) -> JIRA:
    """A ``jira.JIRA`` for ``settings`` that makes no HTTP call when built and never retries by itself.

    Cloud: e-mail + API token over basic auth, REST v3 (ADF bodies). Data Center: a personal access
    token as bearer, REST v2 (wiki-markup bodies). Cocreate's job queue does the retrying, so that every
    failure is recorded and honours ``Retry-After`` there rather than sleeping inside a worker.
    """
    common: dict[str, Any] = {"get_server_info": False, "max_retries": 0, "timeout": TIMEOUT_SECONDS}
    if settings.deployment == "cloud":
        client = JIRA(
            server=settings.url,
            options={"rest_api_version": "3", "check_update": False},
            basic_auth=(settings.email or "", settings.api_token or ""),
            **common,
        )
        # The client learns the deployment only from GET serverInfo, which get_server_info=False skips;
        # left unset it treats Cloud as Server (user ids by name, the /search endpoint Cloud removed).
        client.deploymentType = "Cloud"
    else:
        client = JIRA(
            server=settings.url,
            options={"rest_api_version": "2", "check_update": False},
            token_auth=settings.personal_access_token or "",
            **common,
        )
        client.deploymentType = "Server"
    return client


def call(
    client: JIRA,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, Any] | None = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
    base: str | None = None,
) -> requests.Response:
    """Send ``method`` to ``path`` under the client's REST API root (or under ``base``, a URL template such as
    the admin webhooks API's), through the client's own session.

    Used for the calls the client has no fitting method for; the session adds auth and the timeout and
    raises ``JIRAError`` on any non-2xx answer, exactly as the client's own methods do.
    """
    url = client._get_url(path) if base is None else client._get_url(path, base=base)
    if body is not None:
        data = json.dumps(body)
    return client._session.request(method, url, params=params, data=data, headers=headers or {})


@contextlib.contextmanager
def jira_errors(action: str) -> Iterator[None]:
    """Turn the jira client's and requests' errors inside the block into ``plugin.errors.Tracker*``."""
    try:
        yield
    except JIRAError as exc:
        raise tracker_error(action, exc) from exc
    except TRANSPORT_ERRORS as exc:
        raise TrackerUnavailable(f"{action}: Jira did not answer: {exc}") from exc
    except requests.exceptions.JSONDecodeError as exc:
        raise TrackerError(f"{action}: Jira's answer is not JSON (a proxy or login page in the way?)") from exc


def tracker_error(action: str, exc: JIRAError) -> TrackerError:
    """The ``Tracker*`` error for one failed Jira call, carrying Jira's own messages."""
    response = exc.response
    status = exc.status_code or (response.status_code if response is not None else None)
    words = jira_messages(response) if response is not None else ""
    message = f"{action}: {words or exc.text or 'Jira refused the request'}"
    if status in (401, 403):
        return TrackerAuthError(message, status)
    if status in (404, 410):
        return TrackerNotFound(message, status)
    if status == 429:
        headers = response.headers if response is not None else {}
        return TrackerRateLimited(message, status, retry_after=retry_after_seconds(headers))
    if status is not None and status >= 500:
        return TrackerUnavailable(message, status)
    if status is not None and 400 <= status < 500:
        return TrackerInvalidField(message, status)
    return TrackerError(message, status)


def jira_messages(response: requests.Response) -> str:
    """Jira's error text: ``errorMessages`` and ``field: message`` pairs from ``errors`` (a bulk create's per-issue
    errors are read by ``JiraAdapter._create_batch``)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        words = collection_messages(payload)
        if words:
            return "; ".join(words)
    denied = response.headers.get("X-Authentication-Denied-Reason")
    if denied:
        return denied
    text = (response.text or "").strip()
    if text and not text.startswith("<"):
        return text[:500]
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def collection_messages(collection: dict[str, Any]) -> list[str]:
    """Messages of one Jira ``ErrorCollection`` (``errorMessages`` list, ``errors`` field -> message)."""
    words = [str(message) for message in collection.get("errorMessages") or []]
    errors = collection.get("errors")
    if isinstance(errors, dict):
        words.extend(f"{field}: {message}" for field, message in errors.items())
    for key in ("message", "errorMessage"):
        if isinstance(collection.get(key), str):
            words.append(collection[key])
    return words


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or an HTTP date) or else ``X-RateLimit-Reset``.

    Jira Cloud sends ``X-RateLimit-Reset`` as an ISO time to the minute (``2024-03-30T12:01Z``).
    """
    now = dt.datetime.now(dt.UTC)
    seconds = parse_retry_after(headers.get("Retry-After"), now.timestamp())
    if seconds is not None:
        return seconds
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max((_aware(dt.datetime.fromisoformat(reset)) - now).total_seconds(), 0.0)
        except ValueError:
            return None
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
