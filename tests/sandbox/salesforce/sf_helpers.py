"""Helpers of the Salesforce dialect's tests: a seeded sandbox, a served one, and a thin
requests client for the answer-shape tests (in-process)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.client import loopback_session
from crmqual.sandbox.salesforce.seed import seed_salesforce

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
ACCOUNTS = 450  # three REST pages of the minimum batch size (200)


def make_box(db: Path, accounts: int = ACCOUNTS, **kwargs: Any) -> SalesforceSandbox:
    box = SalesforceSandbox(db, **kwargs)
    box.clock.freeze(START)
    seed_salesforce(box.store, accounts, seed=3, workers=0)
    return box


@dataclass
class Served:
    """A sandbox served by `python -m crmqual.sandbox serve --crm salesforce` in its own
    process; `box` opens the same file (to move its clock, read its logs)."""

    box: SalesforceSandbox
    creds: SalesforceCredentials

    def session(self) -> requests.Session:
        return loopback_session(self.creds.login_url, self.creds.ca_file)


V = "/services/data/v62.0"
TIMEOUT = 10


def login(creds: SalesforceCredentials) -> str:
    """A session id through the client-credentials flow on the org's My Domain."""
    answer = requests.post(
        creds.instance_url + "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@dataclass
class Rest:
    creds: SalesforceCredentials
    token: str = ""

    def __post_init__(self) -> None:
        if not self.token:
            self.token = login(self.creds)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, self.creds.instance_url + V + path, headers=headers, timeout=TIMEOUT, **kwargs
        )

    def query(self, soql: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", "/query", params={"q": soql}, **kwargs)

    def patch(self, records: list[dict[str, Any]], all_or_none: bool = False) -> requests.Response:
        body = {
            "allOrNone": all_or_none,
            "records": [{"attributes": {"type": "Account"}, **r} for r in records],
        }
        return self.call("PATCH", "/composite/sobjects", json=body)

    def ids(self, n: int) -> list[str]:
        answer = self.query(f"SELECT Id FROM Account ORDER BY Id LIMIT {n}")
        return [r["Id"] for r in answer.json()["records"]]


def grant(rest: Rest, field: str, read: bool = True, edit: bool = True) -> None:
    """Field-level security through plain REST records (salesforce.md 8.3)."""
    ps = rest.call("POST", "/sobjects/PermissionSet", json={"Name": "Sync", "Label": "Sync"})
    assert ps.status_code == 201, ps.text
    perm = rest.call(
        "POST",
        "/sobjects/FieldPermissions",
        json={
            "ParentId": ps.json()["id"],
            "SobjectType": "Account",
            "Field": f"Account.{field}",
            "PermissionsRead": read,
            "PermissionsEdit": edit,
        },
    )
    assert perm.status_code == 201, perm.text
    user = rest.call(
        "GET",
        "/query",
        params={"q": "SELECT Id FROM User WHERE Username = 'integration@crmqual-sandbox.example'"},
    ).json()["records"][0]["Id"]
    assigned = rest.call(
        "POST",
        "/sobjects/PermissionSetAssignment",
        json={"AssigneeId": user, "PermissionSetId": ps.json()["id"]},
    )
    assert assigned.status_code == 201, assigned.text


def new_field(rest: Rest, name: str, metadata: dict[str, object]) -> None:
    answer = rest.call(
        "POST",
        "/tooling/sobjects/CustomField",
        json={"FullName": f"Account.{name}", "Metadata": metadata},
    )
    assert answer.status_code == 201, answer.text
