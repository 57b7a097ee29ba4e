"""Salesforce's error table: each answer's status and ``errorCode`` -> what crmqual does
(``crmqual.http.Action``), and how the code and message are read out of an error body
(salesforce.md sections 3 and 7).

REST errors are a JSON array ``[{"message", "errorCode", "fields"?}]``; the OAuth token
endpoint answers ``{"error", "error_description"}``; SOAP ``login()`` a fault whose
``sf:exceptionCode`` names the reason.
"""

from __future__ import annotations

from typing import Any
from xml.parsers.expat import ExpatError

from simple_salesforce.util import getUniqueElementValueFromXmlString

from crmqual.errors import ApiError
from crmqual.http import DEFAULT_TABLE, Action, Rule

#: salesforce.md 7: 403 REQUEST_LIMIT_EXCEEDED is both the spent daily allowance (this
#: message) and too many concurrent long-running requests (worth a retry after a wait).
DAILY_LIMIT_MESSAGE = "TotalRequests Limit exceeded"

SALESFORCE_TABLE = DEFAULT_TABLE.extend(
    [
        Rule(Action.REFRESH, status=401, code="INVALID_SESSION_ID"),
        Rule(Action.RATE_LIMITED, code="REQUEST_LIMIT_EXCEEDED"),
        Rule(Action.RETRY, code="SERVER_UNAVAILABLE"),
        Rule(Action.RETRY, code="UNKNOWN_EXCEPTION"),
        # the OAuth token endpoint and SOAP login(): credentials the admin must fix
        Rule(Action.AUTH, code="invalid_grant"),
        Rule(Action.AUTH, code="invalid_client"),
        Rule(Action.AUTH, code="invalid_client_id"),
        Rule(Action.AUTH, code="unsupported_grant_type"),
        Rule(Action.AUTH, code="INVALID_LOGIN"),
        Rule(Action.AUTH, code="LOGIN_MUST_USE_SECURITY_TOKEN"),
        Rule(Action.AUTH, code="UNSUPPORTED_API_VERSION"),
        Rule(Action.AUTH, code="API_DISABLED_FOR_ORG"),
        Rule(Action.AUTH, code="INSUFFICIENT_ACCESS"),
        Rule(Action.FAIL, code="MALFORMED_QUERY"),
        Rule(Action.FAIL, code="INVALID_FIELD"),
        Rule(Action.FAIL, code="INVALID_TYPE"),
        Rule(Action.FAIL, code="JSON_PARSER_ERROR"),
    ]
)
"""How crmqual treats each Salesforce answer."""


def error_of(body: Any, text: bytes = b"") -> tuple[str, str]:
    """(code, message) of an error answer: a REST error array, an OAuth error object, or a
    SOAP fault (``text``, the raw body); ("", "") when it is none of these."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        return str(first.get("errorCode") or ""), str(first.get("message") or "")
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("error_description") or "")
    if text.lstrip().startswith(b"<"):
        try:
            code = getUniqueElementValueFromXmlString(text, "sf:exceptionCode") or ""
            message = getUniqueElementValueFromXmlString(text, "sf:exceptionMessage") or ""
        except ExpatError:
            return "", ""
        return code, message
    return "", ""


def api_error(en: str, zh: str) -> ApiError:
    """An ``ApiError`` of the adapter's own, in English and Chinese."""
    error = ApiError(en)
    error.zh = zh
    return error


def not_json(what: str, what_zh: str) -> ApiError:
    return api_error(
        f"Salesforce answered {what} with a body that is not JSON; run again later, and if it "
        "persists check for a proxy or maintenance page in between",
        f"Salesforce 对{what_zh}的应答不是 JSON；请稍后再运行，若一直如此，请检查中间是否有代理或"
        "维护页面",
    )
