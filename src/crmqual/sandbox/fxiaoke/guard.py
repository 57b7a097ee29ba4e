"""What stands between a data call (`/cgi/crm/...`) and its handler: the fault plan and the
tenant's request rate. Token endpoints pass straight through.

Order: a connection dropped before handling; a `rate_limit` fault (answered like the real
limit); a `server_error` fault (the only non-200 answers: 500 as plain text, 502/503/504 as a
gateway's HTML page); the tenant's rate (`rate_per_second` calls per second of sandbox time;
refused calls do not count); the handler (token expiry and validation-rule errors apply inside
it); latency and slow answers; a connection dropped after handling (the write is done, the
answer lost). Faults never corrupt data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import delay, drop, gateway_page
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.fxiaoke.errors import envelope, json_response

RATE_MESSAGE = "接口调用过于频繁,请稍后重试"

Handle = Callable[[Decision], Response]


class RateWindow:
    """Calls per second of sandbox time, for one tenant (per serving process)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._second: int | None = None
        self._count = 0
        self._lock = threading.Lock()

    def allow(self, now: datetime) -> bool:
        if self.per_second <= 0:
            return True
        second = int(now.timestamp())
        with self._lock:
            if second != self._second:
                self._second, self._count = second, 0
            if self._count >= self.per_second:
                return False
            self._count += 1
            return True


def server_error(status: int) -> Response:
    if status == 500:
        return Response("Internal Server Error", status=500, content_type="text/plain")
    return gateway_page(status)


class Guard:
    def __init__(
        self,
        plan: FaultPlan,
        rate: RateWindow,
        rate_code: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.plan = plan
        self.rate = rate
        self.rate_code = rate_code
        self.sleep = sleep

    def limited(self) -> Response:
        return json_response(envelope(self.rate_code, RATE_MESSAGE))

    def answer(
        self, request: Request, environ: dict[str, Any], now: datetime, handle: Handle
    ) -> Response:
        decision = self.plan.next()
        if not request.path.startswith("/cgi/crm/"):
            return handle(decision)
        fault = decision.fault
        if fault == "drop" and not decision.drop_after:
            drop(environ)
        if fault == "rate_limit":
            return self.limited()
        if fault == "server_error":
            return server_error(decision.status)
        if not self.rate.allow(now):
            return self.limited()
        response = handle(decision)
        delay(environ, decision.delay_ms, self.sleep)
        if fault == "drop" or (
            decision.lose_write_answer and request.path.endswith(("/data/update", "/data/create"))
        ):
            drop(environ)
        return response
