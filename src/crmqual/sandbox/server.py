"""Serving a sandbox app over HTTP (or HTTPS, given an SSL context) on the loopback interface,
with werkzeug's threaded server."""

from __future__ import annotations

import ssl
import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from crmqual.sandbox.inprocess import WSGIApp

LOOPBACK = "127.0.0.1"


class _Handler(WSGIRequestHandler):
    """The stdlib handler adds a `Date` from the wall clock; the sandbox app sets its own from
    the sandbox clock, and there must be exactly one."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Quiet: a benchmark makes thousands of calls; the sandbox counts them in its store.
        pass


class SandboxServer:
    """A sandbox app on `http://127.0.0.1:PORT` (a free port when `port` is 0), or on
    `https://...` when `ssl_context` is given (a dialect whose client insists on TLS)."""

    def __init__(
        self, app: WSGIApp, port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._server: BaseWSGIServer = make_server(
            LOOPBACK, port, app, threaded=True, request_handler=_Handler, ssl_context=ssl_context
        )
        self._scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        return f"{self._scheme}://{LOOPBACK}:{self.port}"

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` is called from another, or the process ends."""
        self._server.serve_forever()

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        self.stop()
