"""Fxiaoke's answer envelope: HTTP 200 with `errorCode` (0 = success), `errorMessage` and
`traceId`, for errors as for successes (fxiaoke.md section 6). Non-200 statuses are left to
transport faults."""

from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.wrappers import Response

OK_MESSAGE = "OK"


class FxError(Exception):
    """An answer with a non-zero `errorCode`."""

    def __init__(self, code: int, message: str, description: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.description = description


def trace_id() -> str:
    """A trace id in the shape of the samples' `E-O....`."""
    return f"E-O.sandbox.{uuid.uuid4().hex[:16]}"


def envelope(code: int = 0, message: str = OK_MESSAGE, **extra: Any) -> dict[str, Any]:
    return {"errorCode": code, "errorMessage": message, "traceId": trace_id(), **extra}


def error_envelope(exc: FxError) -> dict[str, Any]:
    body = envelope(exc.code, exc.message)
    if exc.description is not None:
        body["errorDescription"] = exc.description
    return body


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
