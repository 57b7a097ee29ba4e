"""An answer on its way out of a dialect's app, the same for every dialect: the ways a guard
spoils it (a dropped connection, a delay, a gateway's error page) and how the app sends it
(a `Date` header, one line in the call log, a dropped connection handled per mode).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NoReturn

from werkzeug.http import http_date
from werkzeug.wrappers import Response

from crmqual.sandbox.inprocess import READ_TIMEOUT_KEY, AnswerTimedOut, ConnectionDropped

_GATEWAY = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def drop(environ: dict[str, Any]) -> NoReturn:
    """Close the client's connection without an answer. Served: shut the socket down (the
    server's own write then fails quietly); in-process: the caller sees a connection error."""
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # the client may have gone already
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionDropped()


def delay(environ: dict[str, Any], delay_ms: int, sleep: Callable[[float], None]) -> None:
    """Hold the answer `delay_ms` (latency or a slow fault), spent through `sleep`."""
    if not delay_ms:
        return
    seconds = delay_ms / 1000
    timeout = environ.get(READ_TIMEOUT_KEY)
    if isinstance(timeout, int | float) and seconds >= timeout:
        # In-process, the client's read timeout would fire first: wait that long, then
        # the client sees a timeout (the request was handled, the answer is lost).
        sleep(float(timeout))
        raise AnswerTimedOut()
    sleep(seconds)


def gateway_page(status: int) -> Response:
    """What a load balancer in front of the API answers (502, 503, 504): HTML, not the CRM's
    own body."""
    title = f"{status} {_GATEWAY[status]}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return Response(page, status=status, content_type="text/html")


def send(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    now: datetime,
    answer: Callable[[], Response],
    log: Callable[[int], None],
) -> Iterable[bytes]:
    """Send `answer()` dated `now`, logging its status through `log`. A dropped connection is
    logged as status 0 (no answer was sent); in-process it reaches the caller as a connection
    error, served the socket is shut and what follows is written nowhere."""
    try:
        response = answer()
    except ConnectionDropped:
        log(0)
        if "werkzeug.socket" not in environ:
            raise
        return Response(status=500)(environ, start_response)
    response.headers["Date"] = http_date(now)
    log(response.status_code)
    return response(environ, start_response)
