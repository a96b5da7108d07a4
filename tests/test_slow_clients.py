"""Slow clients cannot take ``cocreate serve`` down: 200 connections trickling a POST body a byte at a time while
``/healthz`` keeps answering (waitress's connection limits, see ``plugin.settings.ServerSettings``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from plugin.settings import Settings
from tests.notify.servers import free_port
from webhooks.cli.commands import waitress_options

COCREATE = Path(sys.executable).parent / "cocreate"
TRICKLERS = 200


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "COCREATE_HOME": str(tmp_path / "data"), "COCREATE_SECRET_KEY": "slow-clients-test"}
    env.pop("COCREATE_CONFIG", None)
    log = open(tmp_path / "serve.log", "wb")
    process = subprocess.Popen([str(COCREATE), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                               cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "cocreate serve did not answer"
            time.sleep(0.2)
        yield url, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_healthz_answers_while_two_hundred_clients_trickle_a_body(served):
    url, port = served
    sockets, stop = [], threading.Event()
    for _ in range(TRICKLERS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n{")
        sockets.append(sock)

    def trickle():
        while not stop.wait(0.5):
            for sock in sockets:
                try:
                    sock.send(b" ")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        time.sleep(1)  # every trickler has been accepted and is sending
        answers = []
        for _ in range(5):
            answers.append(requests.get(url + "/healthz", timeout=10).status_code)
            time.sleep(0.3)
        assert answers == [200] * 5
        # The tricklers are still being held (not dropped to make room): the server took all of them.
        alive = 0
        for sock in sockets:
            try:
                sock.send(b" ")
                alive += 1
            except OSError:
                pass
        assert alive == TRICKLERS
    finally:
        stop.set()
        trickler.join(timeout=5)
        for sock in sockets:
            sock.close()


def test_serve_passes_the_configured_limits_to_waitress():
    settings = Settings.model_validate({"server": {"connection_limit": 500, "channel_timeout": 15},
                                        "upload_max_bytes": 4_000_000})
    options = waitress_options(settings)
    assert options["connection_limit"] == 500 and options["channel_timeout"] == 15
    assert options["asyncore_use_poll"] is True  # select() cannot watch more than 1,024 sockets
    assert options["max_request_body_size"] == 32_000_000


def test_the_default_connection_limit_is_far_above_waitress_own():
    assert waitress_options(Settings())["connection_limit"] > TRICKLERS > 100  # waitress alone holds 100
