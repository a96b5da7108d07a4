"""Keep tracker fakes honest: validate recorded ``responses`` calls against the official OpenAPI descriptions.

Usage in a test::

    with responses.RequestsMock() as mock:
        ...  # drive the real jira / PyGithub client
    GITHUB.check_calls(mock.calls)   # every request and response must fit the description

The descriptions are the trimmed official ones in ``../shared/contracts/openapi/subsets`` (see its SOURCES.md).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

CONTRACTS = Path(os.environ.get("COCREATE_CONTRACTS") or Path(__file__).resolve().parents[2] / "shared" / "contracts")
SUBSETS = CONTRACTS / "openapi" / "subsets"


class Contract:
    """One official description; requests to ``base_url`` are checked against it."""

    def __init__(self, spec_file: Path, base_url: str):
        self.spec_file = spec_file
        self.base_url = base_url.rstrip("/")

    @functools.cached_property
    def openapi(self) -> OpenAPI:
        spec = json.loads(self.spec_file.read_text(encoding="utf-8"))
        spec["servers"] = [{"url": self.base_url}]
        return OpenAPI.from_dict(spec)

    def check_request(self, request) -> None:
        self.openapi.validate_request(RequestsOpenAPIRequest(request))

    def check_exchange(self, request, response) -> None:
        """Validate one request and its response; raises openapi-core's error naming what does not fit."""
        wrapped = RequestsOpenAPIRequest(request)
        self.openapi.validate_request(wrapped)
        self.openapi.validate_response(wrapped, RequestsOpenAPIResponse(response))

    def check_calls(self, calls) -> int:
        """Validate every call ``responses`` recorded to this contract's host; returns how many were checked."""
        host = urlsplit(self.base_url).netloc
        checked = 0
        for call in calls:
            if urlsplit(call.request.url).netloc != host:
                continue
            self.check_exchange(call.request, call.response)
            checked += 1
        return checked


GITHUB = Contract(SUBSETS / "github-rest-issues-subset.json", "https://api.github.com")
JIRA_CLOUD = Contract(SUBSETS / "jira-v3-issues-subset.json", "https://cocreate-test.atlassian.net")
