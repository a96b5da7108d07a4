"""Keep tracker fakes honest: validate recorded ``responses`` calls against the official OpenAPI descriptions.

Usage in a test::

    with responses.RequestsMock() as mock:
        ...  # drive the real jira / PyGithub client
        GITHUB.check_calls(mock.calls)   # inside the block: leaving it clears mock.calls

The descriptions are the trimmed official ones in ``../shared/contracts/openapi/subsets`` (see its SOURCES.md).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import MissingData
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator import validate as validate_schema

CONTRACTS = Path(os.environ.get("COCREATE_CONTRACTS") or Path(__file__).resolve().parents[2] / "shared" / "contracts")
SUBSETS = CONTRACTS / "openapi" / "subsets"


# Jira writes every timestamp with a colon-less offset ("2024-01-01T10:00:00.000+0000"), which its own
# description declares as RFC 3339 ``date-time``; accept that form, and nothing looser.
_JIRA_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def _jira_date_time(value: object) -> bool:
    return not isinstance(value, str) or _JIRA_DATE_TIME.match(value) is not None


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _without_default_port(url: str) -> str:
    """PyGithub asks for ``https://api.github.com:443/...``; the description's server has no port."""
    parts = urlsplit(url)
    if parts.port is not None and parts.port == _DEFAULT_PORTS.get(parts.scheme):
        parts = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    return urlunsplit(parts)


def _allow_null_in_nullable_enums(node: object) -> None:
    """GitHub's description marks ``state_reason`` ``nullable`` but leaves ``null`` out of its ``enum``, so
    the validator rejects the ``"state_reason": null`` every open issue carries; add it where nullable says so."""
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        for value in node.values():
            _allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_nullable_enums(value)


class Contract:
    """One official description; requests to ``base_url`` are checked against it.

    ``undocumented_errors`` maps HTTP statuses the service sends on any operation, though the description
    lists them only on some (GitHub: 401, 403, 429, 5xx), to the component schema their body must fit; such
    an answer on an operation that does not list it is checked against that schema instead of failing.
    """

    def __init__(self, spec_file: Path, base_url: str,
                 format_validators: dict[str, Callable[[object], bool]] | None = None,
                 undocumented_errors: dict[int, str] | None = None,
                 listed_elsewhere: dict[str, str] | None = None):
        self.spec_file = spec_file
        self.base_url = base_url.rstrip("/")
        self.format_validators = format_validators
        self.undocumented_errors = undocumented_errors or {}
        # GET paths (regular expressions) whose operation the trimmed description lacks but whose items it
        # describes as a component: each item of the answer is checked against that component instead.
        self.listed_elsewhere = {re.compile(path): name for path, name in (listed_elsewhere or {}).items()}

    @functools.cached_property
    def openapi(self) -> OpenAPI:
        spec = json.loads(self.spec_file.read_text(encoding="utf-8"))
        spec["servers"] = [{"url": self.base_url}]
        _allow_null_in_nullable_enums(spec)
        self._components = spec.get("components", {})
        return OpenAPI.from_dict(spec, config=Config(extra_format_validators=self.format_validators))

    def check_request(self, request) -> None:
        self.openapi.validate_request(RequestsOpenAPIRequest(self._normalised(request)))

    @staticmethod
    def _normalised(request):
        url = _without_default_port(request.url)
        if url == request.url:
            return request
        request = request.copy()
        request.url = url
        return request

    def _check_undocumented_error(self, response) -> None:
        name = self.undocumented_errors.get(response.status_code)
        if name is None:
            raise ResponseNotFound(str(response.status_code), [])
        self._check_component(response.json(), name)

    def _check_component(self, value, name: str) -> None:
        self.openapi  # noqa: B018 - loads the components
        schema = {"$ref": f"#/components/schemas/{name}", "components": self._components}
        validate_schema(value, schema, cls=OAS30Validator)

    def _listed_elsewhere(self, request, response) -> bool:
        path = urlsplit(request.url).path
        name = next((name for pattern, name in self.listed_elsewhere.items() if pattern.fullmatch(path)), None)
        if name is None or request.method != "GET":
            return False
        if not isinstance(response, BaseException) and response.status_code == 200:
            for item in response.json():
                self._check_component(item, name)
        return True

    def check_exchange(self, request, response) -> None:
        """Validate one request and its response; raises openapi-core's error naming what does not fit.

        A ``response`` that is an exception (``responses`` records a refused connection or a mocked timeout
        that way) checks the request alone."""
        if self._listed_elsewhere(self._normalised(request), response):
            return
        wrapped = RequestsOpenAPIRequest(self._normalised(request))
        self.openapi.validate_request(wrapped)
        if isinstance(response, BaseException):
            return
        try:
            self.openapi.validate_response(wrapped, RequestsOpenAPIResponse(response))
        except ResponseNotFound:
            self._check_undocumented_error(response)
        except MissingData:
            # Some descriptions (Jira's PUT issue) give a 204 answer JSON content; a 204 has no body.
            if response.status_code != 204 or response.content:
                raise

    def check_calls(self, calls) -> int:
        """Validate every call ``responses`` recorded to this contract's host; returns how many were checked."""
        host = urlsplit(self.base_url).netloc
        checked = 0
        for call in calls:
            if urlsplit(_without_default_port(call.request.url)).netloc != host:
                continue
            self.check_exchange(call.request, call.response)
            checked += 1
        return checked


GITHUB = Contract(SUBSETS / "github-rest-issues-subset.json", "https://api.github.com",
                  undocumented_errors={status: "basic-error" for status in (401, 403, 429, 500, 502, 503, 504)},
                  listed_elsewhere={r"/repos/[^/]+/[^/]+/milestones": "nullable-milestone"})
JIRA_CLOUD = Contract(SUBSETS / "jira-v3-issues-subset.json", "https://cocreate-test.atlassian.net",
                      format_validators={"date-time": _jira_date_time},
                      undocumented_errors={status: "ErrorCollection"
                                           for status in (401, 403, 404, 429, 500, 502, 503, 504)})
