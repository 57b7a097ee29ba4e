"""Zoho OAuth 2.0 with a refresh token: access tokens minted when needed, never logged.

An access token lives an hour (zoho.md 3.2). It is refreshed ``margin`` seconds before it
expires, and again when Zoho refuses it in the middle of a run (``INVALID_TOKEN``): under a
lock, with the expiry and the refused token checked again inside it, so that parallel calls
refreshing at once mint one token, not one each (Zoho allows ten mints per ten minutes; a
throttled mint, "Access Denied", stops the run as a quota does: exit 5, rerun later).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import SecretStr

from crmqual.errors import AuthError, CrmUnavailableError, QuotaReachedError
from crmqual.http import SECRETS, HttpClient

HEADER_PREFIX = "Zoho-oauthtoken "

_TOKEN_ERRORS = {
    "invalid_client": "the client id or client secret is wrong",
    "invalid_code": "the refresh token is unknown, revoked or belongs to another data centre",
    "invalid_client_secret": "the client secret is wrong",
    "access_denied": "Zoho throttles token requests (ten per ten minutes); wait ten minutes",
}


class ZohoTokens:
    """Access tokens for one refresh token; an ``HttpClient``'s ``TokenAuth``."""

    def __init__(
        self,
        http: HttpClient,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        *,
        margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.api_domain: str | None = None
        self.minted = 0
        SECRETS.register(client_secret.get_secret_value(), refresh_token.get_secret_value())

    def __repr__(self) -> str:
        return f"ZohoTokens(token_url={self.token_url!r}, client_id={self._client_id!r})"

    # -- TokenAuth ------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        token = self._token
        if token is None or self._clock() >= self._expires_at:
            with self._lock:
                if self._token is None or self._clock() >= self._expires_at:
                    self._mint()
                token = self._token
        assert token is not None
        return {"Authorization": HEADER_PREFIX + token}

    def refresh(self, stale: Mapping[str, str]) -> None:
        refused = stale.get("Authorization", "").removeprefix(HEADER_PREFIX)
        with self._lock:
            if self._token is None or self._token == refused:
                self._mint()

    # -- minting --------------------------------------------------------------------------------
    def _mint(self) -> None:
        response = self._http.request(
            "POST",
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "refresh_token": self._refresh_token.get_secret_value(),
            },
            authenticated=False,
            endpoint="POST /oauth/v2/token",
        )
        body = _json(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            error = str(body.get("error") or f"HTTP {response.status_code}")
            # Zoho spells its throttle answer "Access Denied" (zoho.md 3.2)
            key = "_".join(error.lower().split())
            reason = _TOKEN_ERRORS.get(key, "no access token in the answer")
            if key == "access_denied":  # a quota, not refused credentials: rerun later
                raise QuotaReachedError(
                    f"Zoho refused to mint an access token at {self.token_url}: {error} "
                    f"({reason}); the next run resumes"
                )
            raise AuthError(
                f"Zoho refused to mint an access token at {self.token_url}: {error} ({reason})"
            )
        SECRETS.register(token)
        self._token = token
        self._expires_at = self._clock() + _lifetime(body) - self._margin
        domain = body.get("api_domain")
        if isinstance(domain, str) and domain.startswith(("https://", "http://")):
            self.api_domain = domain.rstrip("/")
        self.minted += 1


def _lifetime(body: Mapping[str, Any]) -> float:
    """Seconds the token lives: ``expires_in`` is milliseconds when ``expires_in_sec`` is
    also given (how Zoho's SDKs read it, zoho.md 3.2), else seconds; an hour if absent."""
    raw = body.get("expires_in", 3600)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 3600.0
    return value / 1000 if "expires_in_sec" in body else value


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise CrmUnavailableError(
            f"the Zoho token endpoint answered HTTP {response.status_code} without JSON"
        ) from None
    if not isinstance(body, dict):
        raise CrmUnavailableError("the Zoho token endpoint answered with an unexpected body")
    return body
