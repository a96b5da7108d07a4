"""Real local servers for notification tests: an SMTP server (aiosmtpd) and a recording HTTP server.

Import them into any test module (or conftest)::

    from tests.notify.servers import HttpRecorder, http_recorder, smtp_server

``smtp_server`` is a pytest fixture yielding a :class:`SmtpRecorder` listening on 127.0.0.1;
``http_recorder`` yields a started :class:`HttpRecorder`. Both are stopped after the test. Nothing here
talks to the internet.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.serving import ThreadedServer, write_response


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (also handy for "connection refused")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory) -> tuple[str, str]:
    """Write a self-signed certificate for 127.0.0.1/localhost and its key into ``directory``; return
    ``(cert_path, key_path)``. Trust it on the client with ``ca_file=cert_path``. Needs ``cryptography``."""
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(directory) / "server.crt", Path(directory) / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


# SMTP -----------------------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message the SMTP server accepted: envelope sender and recipients, raw bytes, parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class SmtpRecorder:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts in ``messages``.

    Script failures with ``reject_rcpt[address] = "550 5.1.1 no such user"`` (per recipient) or
    ``data_reply = "451 4.3.0 try again later"`` (for the whole message). ``auth`` (username -> password)
    turns on AUTH LOGIN/PLAIN; ``tls_context`` (an ``ssl.SSLContext`` with a server certificate) offers
    STARTTLS.
    """

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[ReceivedMail] = field(default_factory=list)
    reject_rcpt: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    auth: dict[str, str] | None = None
    tls_context: Any = None
    logins: list[str] = field(default_factory=list)
    _controller: Any = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        if self.auth and self.auth.get(login) == password:
            self.logins.append(login)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> SmtpRecorder:
        from aiosmtpd.controller import Controller

        self.port = self.port or free_port()
        options: dict[str, Any] = {}
        if self.auth is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=self.tls_context is not None)
        if self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=False)
        self._controller = Controller(_SmtpHandler(self), hostname=self.host, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def last(self) -> ReceivedMail:
        assert self.messages, "the SMTP server received no message"
        return self.messages[-1]


class _SmtpHandler:
    """aiosmtpd handler hooks; kept apart from SmtpRecorder because aiosmtpd inspects every handler member."""

    def __init__(self, recorder: SmtpRecorder):
        self.recorder = recorder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.recorder.reject_rcpt:
            return self.recorder.reject_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.recorder.data_reply:
            return self.recorder.data_reply
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.recorder.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed))
        return "250 OK: queued"


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    """A plain (no TLS, no AUTH) SMTP server on 127.0.0.1 and a free port; set its attributes to script it."""
    server = SmtpRecorder().start()
    try:
        yield server
    finally:
        server.stop()


# HTTP -----------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request the HTTP recorder received, exactly as sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)


@dataclass
class Reply:
    """A scripted answer: status, body (bytes, str, or anything JSON-serialisable), headers, delay (s)."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            body = self.body
        elif isinstance(self.body, str):
            body = self.body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            body = json.dumps(self.body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return body, headers


class HttpRecorder(ThreadedServer):
    """A real HTTP server (``ThreadingHTTPServer`` in a thread on 127.0.0.1) that records requests.

    ``reply(...)`` sets the answer for every request; ``queue(...)`` adds one-off answers used first, in
    order; ``respond_with(callable)`` computes the answer from the RecordedRequest. Use as a context
    manager or through the ``http_recorder`` fixture::

        with HttpRecorder() as server:
            server.reply(200, {"errcode": 0, "errmsg": "ok"})
            requests.post(server.url("/bot"), json={...})
            assert server.requests[0].json() == {...}
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._default = Reply(200, b"")
        self._queued: list[Reply] = []
        self._responder: Callable[[RecordedRequest], Reply] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # scripting ---------------------------------------------------------------------------------
    def reply(self, status: int = 200, body: Any = b"", headers: dict[str, str] | None = None, delay: float = 0.0):
        self._default = Reply(status, body, headers or {}, delay)
        return self

    def queue(self, status: int = 200, body: Any = b"", headers: dict[str, str] | None = None, delay: float = 0.0):
        with self._lock:
            self._queued.append(Reply(status, body, headers or {}, delay))
        return self

    def respond_with(self, responder: Callable[[RecordedRequest], Reply]):
        self._responder = responder
        return self

    def _answer_for(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queued:
                return self._queued.pop(0)
        return self._responder(request) if self._responder else self._default

    # addresses ---------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the recorder first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def last(self) -> RecordedRequest:
        assert self.requests, "the HTTP recorder received no request"
        return self.requests[-1]

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> HttpRecorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    raw_query=parts.query,
                    headers=dict(self.headers.items()),
                    body=body,
                )
                answer = recorder._answer_for(request)
                if answer.delay:
                    time.sleep(answer.delay)
                payload, headers = answer.encoded()
                write_response(self, answer.status, headers, payload)

            do_POST = do_GET = do_PUT = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._listen(Handler, name="http-recorder", poll_interval=0.02)
        return self


@pytest.fixture
def http_recorder() -> Iterator[HttpRecorder]:
    """A started :class:`HttpRecorder`; answers 200 with an empty body until told otherwise."""
    with HttpRecorder() as recorder:
        yield recorder
