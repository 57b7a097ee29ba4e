"""What stands between a request and its handler: the edition's concurrency limit, the API
credits, and the fault plan (zoho.md section 7; `faults.py`).

Order, for a CRM API call (`/crm/...`): take a concurrency slot (none free: 429); a fault
decided before handling (dropped connection, 429, 5xx) answers without touching data; the
credits are charged (not enough left: 429); the handler runs (token expiry and per-record
errors are applied inside it); `X-API-CREDITS-REMAINING` is added once more than half the
window's credits are spent; the answer is delayed by latency or a slow fault; a connection
dropped after handling loses the answer, not the write (`lost_write_answer` does that to
writes carrying records only). Calls refused by a limit or a fault
before handling cost no credits. The token endpoint is only subject to mint throttling.

Both 429s carry Zoho's one code, TOO_MANY_REQUESTS, and no `Retry-After` (zoho.md 7). The
sandbox tells them apart the way the reference allows: credits exhausted comes with
`X-API-CREDITS-REMAINING: 0` and `CREDITS_MESSAGE`; concurrency with `CONCURRENCY_MESSAGE`
(and the header only if more than half of the credits are spent, as on any answer).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import delay, drop, gateway_page
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.zoho.call import json_response
from crmqual.sandbox.zoho.errors import INTERNAL_MESSAGE, error_body
from crmqual.sandbox.zoho.quota import ConcurrencyGate, CreditLedger, Spend, call_cost

CREDITS_MESSAGE = "API credits of the org exhausted for the last 24 hours"
CONCURRENCY_MESSAGE = "Concurrent API calls exceeded the limit of the org"
CREDITS_HEADER = "X-API-CREDITS-REMAINING"

Handle = Callable[[Decision], Response]


def _records(request: Request) -> int:
    """How many records a write carries (0 when the body is not a record list)."""
    if request.method not in ("PUT", "POST"):
        return 0
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return 0
    data = body.get("data") if isinstance(body, dict) else None
    return len(data) if isinstance(data, list) else 0


def _writes(request: Request) -> bool:
    return request.method in ("PUT", "POST", "PATCH") and not request.path.endswith("/coql")


def too_many(message: str, spend: Spend | None) -> Response:
    response = json_response(error_body("TOO_MANY_REQUESTS", message), 429)
    if spend is not None and spend.show_remaining:
        response.headers[CREDITS_HEADER] = str(spend.remaining)
    return response


def server_error(status: int) -> Response:
    if status == 500:
        return json_response(error_body("INTERNAL_ERROR", INTERNAL_MESSAGE), 500)
    return gateway_page(status)


class Guard:
    """The limits and faults of one app (one serving process, or one in-process route)."""

    def __init__(
        self,
        ledger: CreditLedger,
        gate: ConcurrencyGate,
        plan: FaultPlan,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.gate = gate
        self.plan = plan
        self.sleep = sleep

    def answer(
        self, request: Request, environ: dict[str, Any], now: datetime, handle: Handle
    ) -> Response:
        """The answer to one request; raises ConnectionDropped or AnswerTimedOut."""
        decision = self.plan.next()
        if not request.path.startswith("/crm/"):
            return handle(decision)
        records = _records(request)
        heavy = records > 10 or request.path.endswith("/coql")
        if not self.gate.enter(heavy):
            return too_many(CONCURRENCY_MESSAGE, self.ledger.window(now))
        try:
            return self._within_slot(request, environ, now, handle, decision, records)
        finally:
            self.gate.leave(heavy)

    def _within_slot(
        self,
        request: Request,
        environ: dict[str, Any],
        now: datetime,
        handle: Handle,
        decision: Decision,
        records: int,
    ) -> Response:
        fault = decision.fault
        if fault == "drop" and not decision.drop_after:
            drop(environ)
        if fault == "rate_limit":
            return too_many(CONCURRENCY_MESSAGE, self.ledger.window(now))
        if fault == "server_error":
            return server_error(decision.status)
        spend = self.ledger.charge(now, call_cost(request.method, request.path, records))
        if not spend.allowed:
            response = too_many(CREDITS_MESSAGE, None)
            response.headers[CREDITS_HEADER] = "0"
            return response
        response = handle(decision)
        if spend.show_remaining:
            response.headers[CREDITS_HEADER] = str(spend.remaining)
        delay(environ, decision.delay_ms, self.sleep)
        if fault == "drop" or (decision.lose_write_answer and records and _writes(request)):
            drop(environ)
        return response
