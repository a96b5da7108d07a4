"""Errors Cocreate raises at its boundaries, each with a message a user can act on."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import time
from dataclasses import dataclass

import requests

TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
"""What ``requests`` raises when a tracker did not answer (refused, timed out, cut off mid-answer)."""

_SECONDS = re.compile(r"\d+(\.\d+)?", re.ASCII)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` value as seconds to wait: a number of seconds, or an HTTP date (one already past is 0);
    None when absent or unreadable. ``now``: the wall clock in epoch seconds (default: the current time). The
    trackers' and chat services' own reset headers are read by their callers, after this."""
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses without a zone
        moment = moment.replace(tzinfo=dt.UTC)
    return max(moment.timestamp() - (time.time() if now is None else now), 0.0)


@dataclass(frozen=True, order=True)
class ConfigProblem:
    """One problem in the config file, printed as ``FILE:LINE: dotted.key: message``."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


class ConfigError(Exception):
    """The config file is not usable; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class TrackerError(Exception):
    """A tracker call failed; ``message`` is the tracker's own words, ``status`` its HTTP status if any."""

    retryable = False

    def __init__(self, message: str, status: int | None = None):
        self.message = message
        self.status = status
        super().__init__(f"{message} (HTTP {status})" if status else message)


class TrackerAuthError(TrackerError):
    """The tracker refused Cocreate's credentials (401/403): an admin must fix the config."""


class TrackerNotFound(TrackerError):
    """The project, repository or issue does not exist or is not visible to Cocreate's account (404)."""


class TrackerInvalidField(TrackerError):
    """The tracker rejected a value (400/422): a field, priority, assignee or transition that does not fit."""


class TrackerRateLimited(TrackerError):
    """The tracker asked Cocreate to slow down (429, GitHub secondary limit); ``retry_after`` in seconds."""

    retryable = True

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message, status)


class TrackerUnavailable(TrackerError):
    """The tracker answered 5xx or did not answer in time: worth trying again later."""

    retryable = True
