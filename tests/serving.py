"""A real HTTP server on 127.0.0.1 in a background thread, for the local peers tests talk to."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def write_response(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
    """Send ``status``, ``headers`` and ``payload`` (with its Content-Length); a caller that hung up (killed, or
    gave up waiting in a timeout test) only ends the connection."""
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


class ThreadedServer:
    """Lifecycle shared by local test servers: subclasses build their handler in ``start()`` and call
    ``_listen(handler)``; ``stop()`` (or leaving the ``with`` block) shuts it down and joins the thread."""

    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _listen(self, handler, *, name: str, poll_interval: float, request_queue_size: int = 5) -> None:
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False  # a handler still sleeping (timeout tests) must not hold up stop()

        Server.request_queue_size = request_queue_size
        self._server = Server(("127.0.0.1", 0), handler)
        # A short poll interval keeps stop() (which waits for the next poll) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": poll_interval},
                                        name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
