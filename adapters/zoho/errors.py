"""Zoho's error table: each answer's status and code -> what crmqual does (``crmqual.http.Action``;
the client turns each action into one crmqual error class, and so into an exit code), and
how the code and message are read out of an error body (zoho.md sections 3.2, 6 and 7).
"""

from __future__ import annotations

from typing import Any

from crmqual.http import DEFAULT_TABLE, Action, Rule

#: Per-record codes of a write (zoho.md 6): reported for the record, the rest still written.
RECORD_CODES = (
    "INVALID_DATA",
    "MANDATORY_NOT_FOUND",
    "DUPLICATE_DATA",
    "RECORD_LOCKED",
    "RECORD_IN_BLUEPRINT",
    "DEPENDENT_FIELD_MISSING",
    "PATTERN_NOT_MATCHED",
    "NOT_APPROVED",
    "CANNOT_PROCESS",
    "ID_ALREADY_CONVERTED",
)

ZOHO_TABLE = DEFAULT_TABLE.extend(
    [
        # zoho.md 3.2: any 401 means "refresh the token, then retry once" ...
        Rule(Action.REFRESH, code="INVALID_TOKEN"),
        Rule(Action.REFRESH, code="INVALID_OAUTHTOKEN"),
        Rule(Action.REFRESH, code="AUTHENTICATION_FAILURE"),
        # ... except a scope the token lacks (401 or 403: not confirmed, both accepted).
        Rule(Action.AUTH, code="OAUTH_SCOPE_MISMATCH"),
        Rule(Action.AUTH, code="NO_PERMISSION"),
        Rule(Action.RATE_LIMITED, code="TOO_MANY_REQUESTS"),
        Rule(Action.RETRY, code="INTERNAL_ERROR"),
        *(Rule(Action.RECORD, code=code) for code in RECORD_CODES),
        # Whole-request errors that no retry fixes.
        Rule(Action.FAIL, code="LIMIT_EXCEEDED"),
        Rule(Action.FAIL, code="DISCRETE_PAGINATION_LIMIT_EXCEEDED"),
        Rule(Action.FAIL, code="INVALID_MODULE"),
        Rule(Action.FAIL, code="INVALID_URL_PATTERN"),
        Rule(Action.FAIL, code="REQUIRED_PARAM_MISSING"),
    ]
)
"""How crmqual treats each Zoho answer (zoho.md sections 3.2, 6 and 7)."""


def error_of(body: Any) -> tuple[str, str]:
    """(code, message) of an error body: top-level, or the first error item of a ``data``,
    ``fields`` or ``layouts`` list; a token endpoint's ``error``."""
    if not isinstance(body, dict):
        return "", ""
    if isinstance(body.get("code"), str) and body.get("status") != "success":
        return body["code"], str(body.get("message") or "")
    for key in ("data", "fields", "layouts"):
        items = body.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and item.get("status") == "error":
                    return str(item.get("code") or ""), str(item.get("message") or "")
    if isinstance(body.get("error"), str):
        return body["error"], ""
    return "", ""
