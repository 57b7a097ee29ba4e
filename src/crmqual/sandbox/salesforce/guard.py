"""What stands between a REST request (`/services/data/...`) and its handler: concurrency, the
session, the daily allowance and the fault plan; `Sforce-Limit-Info` on every answer.

Order: a fault decided before handling (a dropped connection, 503 SERVER_UNAVAILABLE, 500
UNKNOWN_EXCEPTION, a gateway's 502/504 page, or `rate_limit` answered as the concurrency
limit) answers without touching data; then a concurrency slot (none free: 403
REQUEST_LIMIT_EXCEEDED); the session (401 INVALID_SESSION_ID; the `token_expiry` fault ends
it first); the allowance (spent: 403 REQUEST_LIMIT_EXCEEDED, the call not counted); the
handler (per-record faults answer UNABLE_TO_LOCK_ROW inside it); latency and slow answers;
a connection dropped after handling loses the answer, not the write. Refused calls cost
nothing. Login endpoints are outside the guard (they do not count against the allowance).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import delay, drop, gateway_page
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.salesforce.errors import SalesforceError, error_response, json_response
from crmqual.sandbox.salesforce.login import Sessions
from crmqual.sandbox.salesforce.quota import Gate, Ledger

LIMIT_HEADER = "Sforce-Limit-Info"
TOTAL_MESSAGE = "TotalRequests Limit exceeded."
CONCURRENT_MESSAGE = "ConcurrentPerOrgLongTxn Limit exceeded."

Handle = Callable[[Decision, int], Response]


def limit_exceeded(message: str) -> Response:
    return error_response(SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", message))


def server_error(status: int) -> Response:
    if status == 503:
        return error_response(
            SalesforceError(503, "SERVER_UNAVAILABLE", "Server unavailable, please retry later")
        )
    if status == 500:
        return json_response(
            [{"message": "An unexpected error occurred. Please include this ErrorId if you "
              "contact support: 1234567890-12345 (-1234567890)", "errorCode": "UNKNOWN_EXCEPTION"}],
            500,
        )  # fmt: skip
    return gateway_page(status)


class Guard:
    def __init__(
        self,
        ledger: Ledger,
        gate: Gate,
        plan: FaultPlan,
        sessions: Sessions,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.gate = gate
        self.plan = plan
        self.sessions = sessions
        self.sleep = sleep

    def answer(
        self, request: Request, environ: dict[str, Any], now: datetime, handle: Handle
    ) -> Response:
        decision = self.plan.next()
        fault = decision.fault
        if fault == "drop" and not decision.drop_after:
            drop(environ)
        if fault == "server_error":
            return self._stamp(server_error(decision.status), now)
        if fault == "rate_limit":
            return self._stamp(limit_exceeded(CONCURRENT_MESSAGE), now)
        if not self.gate.enter():
            return self._stamp(limit_exceeded(CONCURRENT_MESSAGE), now)
        try:
            return self._within(request, environ, now, handle, decision)
        finally:
            self.gate.leave()

    def _within(
        self,
        request: Request,
        environ: dict[str, Any],
        now: datetime,
        handle: Handle,
        decision: Decision,
    ) -> Response:
        header = request.headers.get("Authorization")
        if decision.fault == "token_expiry":
            self.sessions.expire(header, now)
        try:
            user = self.sessions.user_of(header, now)
        except SalesforceError as exc:
            return self._stamp(error_response(exc), now)
        allowed, _ = self.ledger.charge(now)
        if not allowed:
            return self._stamp(limit_exceeded(TOTAL_MESSAGE), now)
        response = handle(decision, user)
        self._stamp(response, now)
        delay(environ, decision.delay_ms, self.sleep)
        if decision.fault == "drop" or (
            decision.lose_write_answer and request.method in ("PATCH", "POST", "PUT")
        ):
            drop(environ)
        return response

    def _stamp(self, response: Response, now: datetime) -> Response:
        used = self.ledger.used(now)
        response.headers[LIMIT_HEADER] = f"api-usage={used}/{self.ledger.quota.allowance}"
        return response
