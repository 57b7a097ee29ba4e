"""Salesforce's error answers: a JSON array of `{"message", "errorCode"[, "fields"]}`
(salesforce.md section 3), and JSON answers in general."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response


class SalesforceError(Exception):
    """An error answer: HTTP `status`, `[{"message", "errorCode", "fields"?}]`."""

    def __init__(
        self, status: int, code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    @property
    def body(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            entry["fields"] = self.fields
        return [entry]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


def error_response(exc: SalesforceError) -> Response:
    return json_response(exc.body, exc.status)


SESSION_MESSAGE = "Session expired or invalid"


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", SESSION_MESSAGE)


def malformed(message: str) -> SalesforceError:
    return SalesforceError(400, "MALFORMED_QUERY", message)


def bad_json(message: str = "Unexpected character in the request body") -> SalesforceError:
    return SalesforceError(400, "JSON_PARSER_ERROR", message)


def record_error(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """One entry of a SaveResult's `errors`."""
    return {"statusCode": code, "message": message, "fields": fields or []}
