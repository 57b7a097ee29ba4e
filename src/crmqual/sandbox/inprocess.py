"""In-process mode: requests made with the `requests` library to a sandbox's hosts are answered
by its WSGI app, with no port and no session injected.

`route(app, hosts)` patches `requests.adapters.HTTPAdapter.send`, the one method every requests
call goes through (sessions, and the module-level `requests.get/put/post` that Zoho's SDKs use),
while the context is open. Requests to other hosts pass through to the network unchanged.
Several sandboxes (e.g. two dialects) may be routed at once; the patch is removed when the last
one closes. The app is called synchronously in the caller's thread, so timeouts never fire.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

READ_TIMEOUT_KEY = "crmqual.sandbox.read_timeout"
"""The environ key carrying the caller's read timeout in seconds (in-process only)."""


class ConnectionDropped(Exception):
    """Raised by an app that closes the connection without answering (a fault)."""


class AnswerTimedOut(Exception):
    """Raised by an app whose answer comes later than the caller's read timeout (a fault)."""


def read_timeout(timeout: Any) -> float | None:
    """The read part of a requests `timeout` (a number or a (connect, read) pair)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) > 1 else None
    return float(timeout) if isinstance(timeout, int | float) else None


_lock = threading.Lock()
_mounts: dict[str, list[WSGIApp]] = {}
_original_send: Callable[..., requests.Response] | None = None


def host_key(url: str) -> str:
    """`host[:port]`, lower case, without the default port: the key a route is found by."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


def call_app(
    app: WSGIApp, request: requests.PreparedRequest, timeout: float | None = None
) -> requests.Response:
    """Run one prepared request through a WSGI app and wrap the answer as requests would.
    An app that drops the connection or answers too late raises what requests would:
    `requests.ConnectionError` or `requests.ReadTimeout`."""
    url = request.url or ""
    parts = urlsplit(url)
    headers = dict(request.headers)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=request.method or "GET",
        headers=list(headers.items()),
        data=_body(request.body),
        content_type=headers.get("Content-Type"),
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ[READ_TIMEOUT_KEY] = timeout
    try:
        app_iter, status, response_headers = run_wsgi_app(app, environ)
    except ConnectionDropped:
        raise requests.ConnectionError(
            "Connection aborted: remote end closed connection without response", request=request
        ) from None
    except AnswerTimedOut:
        raise requests.ReadTimeout(f"Read timed out ({timeout} s)", request=request) from None
    try:
        content = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    response = requests.Response()
    code, _, reason = status.partition(" ")
    response.status_code = int(code)
    response.reason = reason
    response.headers = CaseInsensitiveDict(dict(response_headers.items()))
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
    response.raw = io.BytesIO(content)
    response.url = url
    response.request = request
    response.encoding = get_encoding_from_headers(response.headers)
    return response


def _send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
    with _lock:
        apps = _mounts.get(host_key(request.url or ""))
        app = apps[-1] if apps else None
        original = _original_send
    if app is None:
        assert original is not None
        return original(self, request, *args, **kwargs)
    # HTTPAdapter.send(request, stream, timeout, ...): requests passes it by keyword.
    timeout = kwargs.get("timeout", args[1] if len(args) > 1 else None)
    response = call_app(app, request, read_timeout(timeout))
    response.connection = self
    return response


@contextmanager
def route(app: WSGIApp, urls: Iterable[str]) -> Iterator[None]:
    """Answer requests to these base URLs' hosts with `app` while the context is open."""
    global _original_send
    keys = sorted({host_key(u) for u in urls})
    with _lock:
        if _original_send is None:
            _original_send = HTTPAdapter.send
            HTTPAdapter.send = _send  # type: ignore[method-assign]
        for key in keys:
            _mounts.setdefault(key, []).append(app)
    try:
        yield
    finally:
        with _lock:
            for key in keys:
                _mounts[key].remove(app)
                if not _mounts[key]:
                    del _mounts[key]
            if not _mounts and _original_send is not None:
                HTTPAdapter.send = _original_send  # type: ignore[method-assign]
                _original_send = None
