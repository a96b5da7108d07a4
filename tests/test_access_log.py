"""The shipped gunicorn config keeps secret links out of the access log: Jira's ``?token=`` and customers'
``/s/<token>``."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("gunicorn")

from gunicorn.config import Config  # noqa: E402

from webhooks.access_log import RedactingLogger, redact  # noqa: E402

CONF = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"
JIRA_TOKEN = "jira-url-token-5f2c"
CUSTOMER_TOKEN = "Kc9xQ2v-customer-link"


@pytest.mark.parametrize("text, expected", [
    (f"POST /webhooks/jira?token={JIRA_TOKEN} HTTP/1.1", "POST /webhooks/jira?token=[redacted] HTTP/1.1"),
    (f"/webhooks/jira?a=1&TOKEN={JIRA_TOKEN}&b=2", "/webhooks/jira?a=1&TOKEN=[redacted]&b=2"),
    (f"/webhooks/jira?token%3D{JIRA_TOKEN}", "/webhooks/jira?token%3D[redacted]"),
    (f"GET /s/{CUSTOMER_TOKEN} HTTP/1.1", "GET /s/[redacted] HTTP/1.1"),
    (f"https://cocreate.example.com/s/{CUSTOMER_TOKEN}?lang=en", "https://cocreate.example.com/s/[redacted]?lang=en"),
    (f"/s/{CUSTOMER_TOKEN}/minutes/3", "/s/[redacted]/minutes/3"),
    ("GET /needs?q=tax HTTP/1.1", "GET /needs?q=tax HTTP/1.1"),
])
def test_redact_blanks_secret_links(text, expected):
    assert redact(text) == expected


def test_the_shipped_config_names_the_redacting_logger():
    conf = runpy.run_path(str(CONF))
    cfg = Config()
    cfg.set("logger_class", conf["logger_class"])

    assert cfg.logger_class is RedactingLogger


def test_no_field_of_an_access_line_carries_a_secret_link(tmp_path):
    log_file = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(log_file))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(U)s %(q)s "%(f)s" %({x-original-url}i)s %({raw_uri}e)s')
    logger = RedactingLogger(cfg)
    referer = f"https://cocreate.example.com/s/{CUSTOMER_TOKEN}"
    environ = {"REMOTE_ADDR": "203.0.113.9", "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
               "RAW_URI": f"/s/{CUSTOMER_TOKEN}?token={JIRA_TOKEN}", "PATH_INFO": f"/s/{CUSTOMER_TOKEN}",
               "QUERY_STRING": f"token={JIRA_TOKEN}", "HTTP_REFERER": referer}
    request = SimpleNamespace(headers=[("X-ORIGINAL-URL", f"/webhooks/jira?token={JIRA_TOKEN}")])
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])

    logger.access(response, request, environ, dt.timedelta(milliseconds=3))
    for handler in logger.access_log.handlers:
        handler.flush()

    line = log_file.read_text()
    assert "203.0.113.9" in line and "/s/[redacted]" in line and "token=[redacted]" in line
    assert JIRA_TOKEN not in line and CUSTOMER_TOKEN not in line
