"""Answers shaped like the documented Zoho payloads (shared/reference/zoho.md), for `responses`."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoConnection, ZohoLayoutSettings

ACCOUNTS = "https://accounts.zoho.com"
API = "https://www.zohoapis.com"
TOKEN_URL = f"{ACCOUNTS}/oauth/v2/token"
LIST_URL = f"{API}/crm/v8/Accounts"
COUNT_URL = f"{API}/crm/v8/Accounts/actions/count"
FIELDS_URL = f"{API}/crm/v8/settings/fields"
DATE = "Mon, 02 Mar 2026 09:00:00 GMT"

CLIENT_ID = "1000.CLIENTID"
CLIENT_SECRET = "s3cr3t-client-secret-value"
REFRESH_TOKEN = "1000.refresh.token.value.abcdef"
ACCESS_TOKENS = ("1000.access.one.0123456789", "1000.access.two.9876543210")


def connection(**overrides: Any) -> ZohoConnection:
    values: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET),
        "refresh_token": SecretStr(REFRESH_TOKEN),
        "limits": ZohoApiLimits(page_size=2, page_records=4, page_token_records=10),
        # Layouts have their own tests (test_zoho_layouts*.py); here provision and check
        # leave them alone, so their fixtures need no layouts answers.
        "layouts": ZohoLayoutSettings(place=False),
        **overrides,
    }
    return ZohoConnection(**values)


def token_body(access: str = ACCESS_TOKENS[0]) -> dict[str, Any]:
    """zoho.md 3.2: the refresh exchange's answer."""
    return {"access_token": access, "api_domain": API, "token_type": "Bearer", "expires_in": 3600}


def token_form() -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }


def record(n: int, **values: Any) -> dict[str, Any]:
    return {
        "id": f"57257670000004{n:05d}",
        "Modified_Time": f"2026-03-01T10:{n // 60:02d}:{n % 60:02d}+05:30",
        **values,
    }


def page(
    records: list[dict[str, Any]], *, more: bool, page_no: int = 1, token: str | None = None
) -> dict[str, Any]:
    """zoho.md 4: the list envelope."""
    info: dict[str, Any] = {
        "per_page": len(records),
        "count": len(records),
        "page": page_no,
        "sort_by": "Modified_Time",
        "sort_order": "asc",
        "more_records": more,
    }
    if token is not None:
        info["next_page_token"] = token
        info["previous_page_token"] = None
        info["page_token_expiry"] = "2026-03-03T09:00:00+05:30"
    return {"data": records, "info": info}


def error(code: str, message: str, **details: Any) -> dict[str, Any]:
    """zoho.md 7: the four-key error body."""
    return {"code": code, "details": details, "message": message, "status": "error"}


def success(record_id: str) -> dict[str, Any]:
    """zoho.md 6: one record's success item."""
    return {
        "code": "SUCCESS",
        "status": "success",
        "message": "record updated",
        "details": {
            "id": record_id,
            "Modified_Time": "2026-03-02T01:00:05+05:30",
            "Modified_By": {"id": "5725767000000391001", "name": "Risk Bot"},
            "Created_Time": "2026-01-01T00:00:00+05:30",
            "Created_By": {"id": "5725767000000391001", "name": "Risk Bot"},
        },
    }


def field_meta(
    api_name: str, data_type: str, *, label: str | None = None, values: tuple[str, ...] = ()
) -> dict[str, Any]:
    """zoho.md 8.1: the keys of a field object crmqual reads."""
    return {
        "id": f"57257670000009{abs(hash(api_name)) % 100000:05d}",
        "api_name": api_name,
        "field_label": label or api_name.replace("_", " "),
        "display_label": label or api_name.replace("_", " "),
        "data_type": data_type,
        "json_type": "string",
        "length": 255 if data_type == "text" else 0,
        "custom_field": True,
        "pick_list_values": [
            {
                "id": str(n),
                "display_value": v,
                "actual_value": v,
                "sequence_number": n,
                "type": "used",
                "colour_code": None,
            }
            for n, v in enumerate(values, start=1)
        ],
    }
