"""A thin requests client for the Salesforce dialect's answer-shape tests (in-process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from crmqual.sandbox.salesforce.backend import SalesforceCredentials

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
