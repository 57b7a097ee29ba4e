"""The org-level reads Zoho's SDKs make: current user, org, modules (zoho-sdks.md)."""

from __future__ import annotations

from datetime import datetime

from werkzeug.wrappers import Response

from crmqual.sandbox.store import iso
from crmqual.sandbox.zoho.call import Call, empty_response, json_response
from crmqual.sandbox.zoho.errors import invalid_param
from crmqual.sandbox.zoho.schema import API_USER, ORG_ID, USERS, ZGID

ORG_CREATED = "2024-01-01T00:00:00+00:00"


def _user(user: dict[str, str]) -> dict[str, object]:
    first, _, last = user["name"].partition(" ")
    admin = user["id"] == API_USER["id"]
    return {
        "id": user["id"],
        "email": user["email"],
        "full_name": user["name"],
        "first_name": first,
        "last_name": last or first,
        "role": {"name": "CEO" if admin else "Manager", "id": "5725767000000000061"},
        "profile": {
            "name": "Administrator" if admin else "Standard",
            "id": "5725767000000000021",
        },
        "status": "active",
        "confirm": True,
        "time_zone": "UTC",
        "locale": "en_US",
        "created_time": ORG_CREATED,
        "Modified_Time": ORG_CREATED,
    }


def users(call: Call) -> Response:
    call.require((("ZohoCRM.users.READ",),))
    kind = call.request.args.get("type", "AllUsers")
    if kind == "CurrentUser":
        chosen = [u for u in USERS if u["id"] == (call.token.user_id if call.token else "")]
    elif kind in ("AllUsers", "ActiveUsers", "AdminUsers", "ActiveConfirmedUsers"):
        chosen = list(USERS) if kind != "AdminUsers" else [API_USER]
    else:
        raise invalid_param("type")
    info = {"per_page": 200, "count": len(chosen), "page": 1, "more_records": False}
    return json_response({"users": [_user(u) for u in chosen], "info": info})


def org(call: Call) -> Response:
    call.require((("ZohoCRM.org.READ",),))
    return json_response(
        {
            "org": [
                {
                    "id": ORG_ID,
                    "zgid": ZGID,
                    "company_name": "crmqual Sandbox Org",
                    "currency": "USD",
                    "currency_symbol": "$",
                    "iso_code": "USD",
                    "time_zone": "UTC",
                    "country_code": "US",
                    "primary_email": API_USER["email"],
                    "domain_name": "crmqual-sandbox",
                    "mc_status": False,
                }
            ]
        }
    )


def modules(call: Call) -> Response:
    """All modules; with `If-Modified-Since` only those changed since (304 if none), so the
    SDK's field cache refresh costs nothing when nothing changed."""
    call.require((("ZohoCRM.settings.modules.READ",),))
    found = list(call.store.modules().values())
    since = call.request.headers.get("If-Modified-Since")
    if since:
        try:
            instant = iso(datetime.fromisoformat(since.strip().replace("Z", "+00:00")))
        except ValueError as exc:
            raise invalid_param("If-Modified-Since") from exc
        found = [m for m in found if m.get("modified_time", "") > instant]
        if not found:
            return empty_response(304)
    return json_response({"modules": found})
