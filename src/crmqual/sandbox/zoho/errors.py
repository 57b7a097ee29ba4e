"""Zoho's error bodies: `{"code", "details", "message", "status": "error"}` (zoho.md section 7).

A handler raises `ZohoError` for an error of the whole request; per-record and per-field errors
are plain dicts built with `error_body` and placed in the answer's list.
"""

from __future__ import annotations

from typing import Any

# Messages come from the OAS message enum of record.json's API_Exception where it has one.
INVALID_TOKEN_MESSAGE = "invalid oauth token"
SCOPE_MISMATCH_MESSAGE = "invalid oauth scope to access this URL"  # zoho.md 3.2; not in the OAS
INVALID_DATA_MESSAGE = "invalid data"
MANDATORY_MESSAGE = "required field not found"
PARAM_MISSING_MESSAGE = "One of the expected parameter is missing"
INVALID_ID_MESSAGE = "the id given seems to be invalid"
URL_MESSAGE = "Please check if the URL trying to access is a correct one"
METHOD_MESSAGE = "The http request method type is not a valid one"
MODULE_MESSAGE = "The module name given seems to be invalid"
AUTH_FAILED_MESSAGE = "Authentication failed"
RECORD_COUNT_MESSAGE = "Record count exceeded"
FIELD_LIMIT_MESSAGE = "Max field limit exceeded"
INTERNAL_MESSAGE = "Internal server error occurred."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """One error object, all four keys present and `details` an object."""
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


class ZohoError(Exception):
    """An error answer for the whole request: HTTP status and JSON body."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    @classmethod
    def of(
        cls, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> ZohoError:
        return cls(status, error_body(code, message, details))


def invalid_param(name: str, **extra: Any) -> ZohoError:
    """400 INVALID_DATA naming a bad query parameter."""
    return ZohoError.of(400, "INVALID_DATA", INVALID_DATA_MESSAGE, {"param_name": name, **extra})


def missing_param(name: str) -> ZohoError:
    return ZohoError.of(400, "REQUIRED_PARAM_MISSING", PARAM_MISSING_MESSAGE, {"param_name": name})


def invalid_module(name: str) -> ZohoError:
    return ZohoError.of(400, "INVALID_MODULE", MODULE_MESSAGE, {"api_name": name})
