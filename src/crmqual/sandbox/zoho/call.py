"""What a Zoho handler gets for one request: the request, the sandbox's state, its limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from crmqual.sandbox.faults import Decision, FaultProfile
from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import SandboxStore, TokenRow
from crmqual.sandbox.zoho.auth import ZohoAuth
from crmqual.sandbox.zoho.errors import INVALID_DATA_MESSAGE, ZohoError, invalid_module
from crmqual.sandbox.zoho.scopes import Requirement

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class ZohoLimits:
    """The documented limits the dialect enforces (zoho.md sections 4-8); configurable because
    several are not confirmed or differ between sources."""

    per_page: int = 200
    fields_per_call: int = 50
    page_records: int = 2000
    page_token_records: int = 100_000
    page_token_hours: int = 24
    ids_per_call: int = 100
    records_per_write: int = 100
    fields_per_create: int = 5
    custom_fields: int = 500
    scope_status: int = 401
    v2_page_cap: bool = False
    #: Layout updates (zoho.md 14, not confirmed): sections created and field entries per
    #: request, whether the standard layout takes an update, whether a section label may
    #: hold any Unicode letter (default: ASCII letters, digits and spaces only).
    layout_sections_per_request: int = 5
    layout_fields_per_request: int = 5
    standard_layout_editable: bool = True
    layout_label_unicode: bool = False


@dataclass
class Call:
    request: Request
    version: str
    now: datetime
    store: SandboxStore
    auth: ZohoAuth
    limits: ZohoLimits
    api_domain: str | None
    token: TokenRow | None = field(default=None)
    decision: Decision | None = field(default=None)
    profile: FaultProfile | None = field(default=None)

    def require(self, requirement: Requirement) -> TokenRow:
        """Authenticate and check scopes; raises the documented 401 answers (including the
        token-expiry fault)."""
        expire = self.decision is not None and self.decision.fault == "token_expiry"
        self.token = self.auth.authorize(
            self.request.headers.get("Authorization"),
            requirement,
            self.limits.scope_status,
            expire_now=expire,
        )
        return self.token

    def record_fault(self, index: int) -> bool:
        """Does the per-record validation fault refuse record `index` of this write?"""
        if self.decision is None or self.profile is None:
            return False
        return self.decision.record_fails(index, self.profile.record_error)

    def client(self) -> str:
        return client_name(self.request)

    def module_fields(self, module: str) -> dict[str, FieldDef]:
        if module not in self.store.modules():
            raise invalid_module(module)
        return {f.api_name: f for f in self.store.fields(module)}

    def json_body(self) -> Any:
        """The body as JSON whatever the Content-Type (zcrmsdk sends PUT bodies without one)."""
        raw = self.request.get_data(cache=True)
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise ZohoError.of(400, "INVALID_DATA", INVALID_DATA_MESSAGE, {}) from exc


def client_name(request: Request) -> str:
    """Who called: Zoho's SDKs name themselves in `X-ZOHO-SDK`; others by User-Agent."""
    return request.headers.get("X-ZOHO-SDK") or request.headers.get("User-Agent") or "unknown"


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=JSON_TYPE)


def empty_response(status: int) -> Response:
    """204 and 304 answers: no body, no Content-Type (the SDKs branch on the status)."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response
