"""Fxiaoke's open API as crmqual calls it: every call a ``POST`` of JSON, the token in the
headers or the body (``auth``), a fresh ``thirdTraceId`` per request in header mode, a
client-side rate limit before each call, the ``errorCode`` envelope classified (``errors``),
the server's ``Date`` kept for ``server_time``.

HTTP itself (timeouts, the one retry policy, the token renewed and the request sent again
once on 20016, redaction, call counting) is ``crmqual.http``'s job.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from crmqual.adapters.fxiaoke.auth import FxiaokeTokens, trace_params
from crmqual.adapters.fxiaoke.config import FxiaokeConnection
from crmqual.adapters.fxiaoke.errors import classify, envelope, table
from crmqual.errors import ApiError
from crmqual.http import HttpClient, HttpSettings, Operation, Verdict, safe_url

QUERY = "/cgi/crm/v2/data/query"
GET = "/cgi/crm/v2/data/get"
UPDATE = "/cgi/crm/v2/data/update"
CREATE = "/cgi/crm/v2/data/create"
DESCRIBE = "/cgi/crm/v2/object/describe"


class RateLimiter:
    """At most ``per_second`` calls a second, evenly spaced: each call waits for its slot."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            self.waited += slot - now
            self._sleep(slot - now)


class FxiaokeApi:
    """One tenant's API: authenticated, rate-limited calls answering the envelope."""

    def __init__(
        self,
        connection: FxiaokeConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        settings: HttpSettings | None = None,
    ) -> None:
        self.connection = connection
        self.limiter = RateLimiter(connection.limits.rate_per_second, clock=clock, sleep=sleep)
        self._errors = table(connection.codes)
        self.http = HttpClient(
            settings or connection.http_settings(),
            classify=self._classify,
            before_call=self.limiter.wait,
            observe=self._observe,
            session=session,
            sleep=sleep,
        )
        self.tokens = FxiaokeTokens(self.http, connection, clock=clock)
        self.http.auth = self.tokens
        self._server_date: tuple[datetime, float] | None = None

    def __repr__(self) -> str:
        return f"FxiaokeApi({self.connection.base_url!r}, calls={self.http.counter.total})"

    def call(
        self,
        path: str,
        data: dict[str, Any],
        *,
        extra: dict[str, Any] | None = None,
        records: bool = False,
        resend: bool = True,
        within: Operation | None = None,
    ) -> dict[str, Any]:
        """``POST path`` with ``{**extra, "data": data}``; the envelope. A record-level code
        (``codes.record``) is returned with ``records``, raised as ``ApiError`` otherwise.
        ``resend=False`` and ``within``: see ``HttpClient.request``."""
        if within is None:
            return self.http.retrying(
                lambda op: self.call(
                    path, data, extra=extra, records=records, resend=resend, within=op
                )
            )
        body = {**(extra or {}), **self.tokens.body_fields(), "data": data}
        url = self.connection.base_url + path
        response = self.http.request(
            "POST",
            url,
            params=trace_params() if self.tokens.mode == "header" else None,
            json=body,
            endpoint=f"POST {path}",
            resend=resend,
            within=within,
        )
        answer = envelope(response)
        if answer is None:  # classify made it a failure already; kept for the type checker
            raise ApiError(f"POST {safe_url(url)}: no envelope", url=safe_url(url))
        if answer["errorCode"] != 0 and not records:
            raise ApiError(
                f"POST {safe_url(url)}: errorCode {answer['errorCode']} "
                f"{answer.get('errorMessage') or ''}".strip(),
                url=safe_url(url),
                status=response.status_code,
                code=str(answer["errorCode"]),
            )
        return answer

    def server_time(self, max_age: float = 5.0) -> datetime | None:
        """The ``Date`` of an answer received less than ``max_age`` seconds ago, if any."""
        seen = self._server_date
        if seen is None or time.monotonic() - seen[1] > max_age:
            return None
        return seen[0]

    def _classify(self, response: requests.Response) -> Verdict:
        return classify(response, self._errors)

    def _observe(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self._server_date = (parsedate_to_datetime(date), time.monotonic())
