"""Helpers shared by the sandbox's tests: a test client that checks answers against the OAS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from sandbox_oas import DEVIATIONS, OAS_DIR, ZohoOas, deviation_keys

from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
TIMEOUT = 10


_OAS = ZohoOas() if OAS_DIR.is_dir() else None
VALIDATED: list[tuple[str, str, int]] = []
"""Every answer validated against the OAS in this session: (method, path, status)."""


def check_oas(response: requests.Response) -> None:
    """Fail unless an answer to an operation the OAS covers validates against its response
    schema, or every error in it is a documented deviation (sandbox_oas.DEVIATIONS)."""
    if _OAS is None or response.request is None:
        return
    path = urlsplit(response.request.url or "").path
    method = response.request.method or "GET"
    operation = _OAS.operation(method, path)
    if operation is None:
        return
    problems = _OAS.errors(*operation, method, response.status_code, response.content)
    VALIDATED.append((method, path, response.status_code))
    if problems:
        keys = deviation_keys(operation[0], response.json(), [path for path, _ in problems])
        assert keys and keys <= set(DEVIATIONS), (method, path, response.text[:500], problems)


@dataclass
class Api:
    """A thin requests client for tests: gets a token like any client, then calls the API.
    Every answer is checked against Zoho's OAS where it covers the operation."""

    creds: ZohoCredentials
    token: str = ""

    def fetch_token(self) -> dict[str, Any]:
        answer = requests.post(
            self.creds.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": self.creds.client_id,
                "client_secret": self.creds.client_secret,
                "refresh_token": self.creds.refresh_token,
            },
            timeout=TIMEOUT,
        )
        body: dict[str, Any] = answer.json()
        self.token = body.get("access_token", "")
        return body

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.token:
            self.fetch_token()
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}", **kwargs.pop("headers", {})}
        response = requests.request(
            method, self.creds.api_base + path, headers=headers, timeout=TIMEOUT, **kwargs
        )
        check_oas(response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)


def narrow(box: ZohoSandbox, creds: ZohoCredentials, *scopes: str) -> Api:
    """A client whose refresh token carries only `scopes`."""
    refresh = box.auth.mint_refresh_token(tuple(scopes))
    return Api(
        ZohoCredentials(
            creds.api_base,
            creds.token_url,
            creds.upload_url,
            creds.client_id,
            creds.client_secret,
            refresh,
        )
    )
