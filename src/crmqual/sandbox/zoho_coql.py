"""COQL: `POST /crm/v8/coql` (zoho.md section 5)."""

from __future__ import annotations

from werkzeug.wrappers import Response

from crmqual.sandbox.zoho_call import Call
from crmqual.sandbox.zoho_errors import ZohoError


def coql(call: Call) -> Response:
    call.require((("ZohoCRM.coql.READ",), ("ZohoCRM.modules.accounts.READ",)))
    raise ZohoError.of(400, "SYNTAX_ERROR", "invalid query formed", {"clause": "select"})
