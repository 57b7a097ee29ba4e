"""One request as the handlers see it: the store, the sandbox time, the calling user and the
API version, and the sandbox's settings."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request

from crmqual.sandbox.faults import Decision, FaultProfile
from crmqual.sandbox.salesforce.errors import SalesforceError, bad_json
from crmqual.sandbox.store import SandboxStore


@dataclass(frozen=True)
class SalesforceLimits:
    """The limits the sandbox enforces; tests may scale them down."""

    default_batch: int = 2000
    min_batch: int = 200
    max_batch: int = 2000
    collection_max: int = 200
    #: a session lives this long (the org's timeout; Salesforce's default is two hours)
    session_seconds: int = 7200
    #: ... or this many API calls (None: no call limit); exercises the re-login paths
    session_calls: int | None = None
    #: Bulk API 2.0 results page size when `maxRecords` is not given
    bulk_page: int = 50_000


@dataclass
class Call:
    request: Request
    store: SandboxStore
    now: datetime
    version: str
    user: int
    limits: SalesforceLimits
    instance_url: str
    decision: Decision = field(default_factory=lambda: Decision(0))
    profile: FaultProfile | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.request.get_data(cache=True) or b"null")
        except ValueError:
            raise bad_json() from None

    def base(self) -> str:
        return f"/services/data/v{self.version}"


def client_name(request: Request) -> str:
    return request.headers.get("User-Agent", "unknown")


def require(condition: bool, code: str, message: str, status: int = 400) -> None:
    if not condition:
        raise SalesforceError(status, code, message)
