"""Fxiaoke's answers as crmqual reads them: every call answers HTTP 200 with an envelope
``{errorCode, errorMessage, traceId, ...}`` (fxiaoke.md 6). crmqual branches on ``errorCode``
only (the docs warn that ``errorMessage`` text may change); a non-200 status is a transport
failure (5xx retried, others not), a 200 without a readable envelope a malformed answer.
"""

from __future__ import annotations

from typing import Any

import requests

from crmqual.adapters.fxiaoke.config import FxiaokeCodes
from crmqual.http import DEFAULT_TABLE, Action, ErrorTable, Rule, Verdict

MALFORMED = "MALFORMED"


def table(codes: FxiaokeCodes) -> ErrorTable:
    """The error table of a tenant's codes (``connection.codes``); any other non-zero code
    fails the request (exit 3): no retry fixes an answer crmqual does not know."""
    rows = [
        *(Rule(Action.REFRESH, code=str(c)) for c in codes.token_expired),
        *(Rule(Action.RATE_LIMITED, code=str(c)) for c in codes.throttled),
        *(Rule(Action.RETRY, code=str(c)) for c in codes.transient),
        *(Rule(Action.RECORD, code=str(c)) for c in codes.record),
        *(Rule(Action.AUTH, code=str(c)) for c in codes.credentials),
    ]
    return DEFAULT_TABLE.extend(rows)


def envelope(response: requests.Response) -> dict[str, Any] | None:
    """The answer's envelope, or None when the body is no JSON object with an integer
    ``errorCode``."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("errorCode")
    if isinstance(code, bool) or not isinstance(code, int):
        return None
    return body


def classify(response: requests.Response, errors: ErrorTable) -> Verdict:
    if response.status_code != 200:
        return Verdict(errors.classify(response.status_code))
    body = envelope(response)
    if body is None:
        return Verdict(Action.FAIL, MALFORMED, "an HTTP 200 answer without an errorCode envelope")
    code = body["errorCode"]
    if code == 0:
        return Verdict(Action.OK)
    # Any status below 500 with the code: a code the table lacks fails, never retried.
    action = errors.classify(400, str(code))
    return Verdict(action, str(code), str(body.get("errorMessage") or ""))
