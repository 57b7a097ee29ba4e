"""Zoho Accounts' OAuth: the client, grants, tokens, and the check every API call passes.

Tokens live in the sandbox database, so an access token stays valid for its whole lifetime
across server restarts (zoho-sdks.md: the SDKs trust their stored expiry and never retry a 401).
Every token endpoint answer is HTTP 200, errors included, with `{"error": ...}` (zoho.md 3.2).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmqual.sandbox.clock import SandboxClock
from crmqual.sandbox.store import SandboxStore, TokenRow, iso
from crmqual.sandbox.zoho.errors import (
    AUTH_FAILED_MESSAGE,
    INVALID_TOKEN_MESSAGE,
    SCOPE_MISMATCH_MESSAGE,
    ZohoError,
)
from crmqual.sandbox.zoho.schema import API_USER
from crmqual.sandbox.zoho.scopes import ALL_SCOPES, Requirement, is_valid, satisfied

ACCESS_TOKEN_SECONDS = 3600
GRANT_CODE_SECONDS = 180
MINTS_PER_WINDOW = 10
MINT_WINDOW_SECONDS = 600
THROTTLED: dict[str, str] = {
    "error": "Access Denied",
    "error_description": "You have made too many requests continuously. "
    "Please try again after some time.",
    "status": "failure",
}
"""Zoho Accounts' answer to a throttled token request: HTTP 200, no `access_token`
(zoho.md 3.2 names the kind, "Access Denied"; the description's wording is assumed)."""
_CLIENT_KEY = "zoho_client"


@dataclass(frozen=True)
class ZohoClient:
    """The self client registered in the sandbox org."""

    client_id: str
    client_secret: str


def _token(prefix: str = "1000") -> str:
    return f"{prefix}.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


class ZohoAuth:
    """Issues and checks tokens against one store, on the sandbox clock."""

    def __init__(self, store: SandboxStore, clock: SandboxClock, *, throttle: bool = False) -> None:
        self.store = store
        self.clock = clock
        self.throttle = throttle
        """Enforce the mint quota: at most 10 access tokens per refresh token in 10 minutes."""

    # -- the client and its credentials (the sandbox's Python API uses these) -----------------
    def client(self) -> ZohoClient:
        """The org's self client, created with random credentials on first use."""
        raw = self.store.get_meta(_CLIENT_KEY)
        if raw is None:
            client = ZohoClient(
                client_id=f"1000.{secrets.token_hex(15).upper()}",
                client_secret=secrets.token_hex(21),
            )
            self.store.set_meta(_CLIENT_KEY, json.dumps(client.__dict__))
            raw = self.store.get_meta(_CLIENT_KEY)
            assert raw is not None
        return ZohoClient(**json.loads(raw))

    def mint_refresh_token(self, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        """A refresh token (never expires) for the given scopes, as a self client would make."""
        return self._save("refresh", scopes, expires_at=None)

    def mint_grant_code(self, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        """A one-time authorization code, valid three minutes (zoho.md 3.1)."""
        expires = self.clock.now() + timedelta(seconds=GRANT_CODE_SECONDS)
        return self._save("grant", scopes, expires_at=expires)

    def mint_access_token(self, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        expires = self.clock.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        return self._save("access", scopes, expires_at=expires)

    def _save(self, kind: str, scopes: tuple[str, ...], expires_at: datetime | None) -> str:
        token = _token()
        self.store.save_token(
            TokenRow(
                token=token,
                kind=kind,
                client_id=self.client().client_id,
                scopes=tuple(scopes),
                user_id=API_USER["id"],
                expires_at=iso(expires_at) if expires_at else None,
                used=False,
            ),
            created_at=iso(self.clock.now()),
        )
        return token

    # -- the token endpoint -------------------------------------------------------------------
    def token_endpoint(self, params: dict[str, str], api_domain: str | None) -> dict[str, Any]:
        """Answer `POST /oauth/v2/token` (the body; the status is always 200)."""
        client = self.client()
        if params.get("client_id") != client.client_id:
            return {"error": "invalid_client"}
        if params.get("client_secret") != client.client_secret:
            return {"error": "invalid_client"}
        grant = params.get("grant_type")
        if grant == "refresh_token":
            row = self._live(params.get("refresh_token"), "refresh")
            if row is None:
                return {"error": "invalid_code"}
            now = self.clock.now()
            if self.throttle:
                since = iso(now - timedelta(seconds=MINT_WINDOW_SECONDS))
                if self.store.mints_since(row.token, since) >= MINTS_PER_WINDOW:
                    return dict(THROTTLED)
            self.store.record_mint(row.token, iso(now))
            return self._access_answer(row.scopes, api_domain)
        if grant == "authorization_code":
            row = self._live(params.get("code"), "grant")
            if row is None or not self.store.mark_token_used(row.token):
                return {"error": "invalid_code"}
            answer = self._access_answer(row.scopes, api_domain)
            return {**answer, "refresh_token": self.mint_refresh_token(row.scopes)}
        if grant == "client_credentials":
            scopes = tuple(s for s in params.get("scope", "").replace(",", " ").split() if s)
            if not scopes or not all(is_valid(s) for s in scopes):
                return {"error": "invalid_scope"}
            answer = self._access_answer(scopes, api_domain)
            answer.pop("api_domain", None)
            return answer
        return {"error": "unsupported_grant_type"}

    def revoke(self, token: str | None) -> bool:
        row = self._live(token, "refresh")
        return row is not None and self.store.mark_token_used(row.token)

    def _live(self, token: str | None, kind: str) -> TokenRow | None:
        row = self.store.find_token(token) if token else None
        if row is None or row.kind != kind or row.used:
            return None
        if row.expires_at is not None and row.expires_at <= iso(self.clock.now()):
            return None
        return row

    def _access_answer(self, scopes: tuple[str, ...], api_domain: str | None) -> dict[str, Any]:
        # No `refresh_token`, no `expires_in_sec`, and our own base URL as `api_domain`: each
        # keeps Zoho's SDKs on the sandbox and their token store consistent (zoho-sdks.md).
        answer: dict[str, Any] = {"access_token": self.mint_access_token(scopes)}
        if api_domain:
            answer["api_domain"] = api_domain
        answer.update({"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS})
        return answer

    # -- the check of every API call ----------------------------------------------------------
    def authorize(
        self,
        header: str | None,
        requirement: Requirement,
        scope_status: int,
        *,
        expire_now: bool = False,
    ) -> TokenRow:
        """The caller's token if it is live and grants the requirement; else the error answer.
        `expire_now` (a fault) ends a live token's life here, as if its hour had run out."""
        if not header or not header.startswith("Zoho-oauthtoken "):
            raise ZohoError.of(401, "AUTHENTICATION_FAILURE", AUTH_FAILED_MESSAGE)
        row = self._live(header.removeprefix("Zoho-oauthtoken ").strip(), "access")
        if row is not None and expire_now:
            self.store.expire_token(row.token, iso(self.clock.now()))
            row = None
        if row is None:
            raise ZohoError.of(401, "INVALID_TOKEN", INVALID_TOKEN_MESSAGE)
        if not satisfied(row.scopes, requirement):
            raise ZohoError.of(scope_status, "OAUTH_SCOPE_MISMATCH", SCOPE_MISMATCH_MESSAGE)
        return row
