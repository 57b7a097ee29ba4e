"""Fxiaoke's two token endpoints and the check of a presented token (fxiaoke.md section 2).

Body mode (`POST /cgi/corpAccessToken/get/V2`) gives a `corpAccessToken`; header mode
(`POST /oauth2.0/token`, `grantType: app_secret`) an `accessToken`. Each lives 7,200 s of
sandbox time; asking again within 6,600 s of issue returns the same token (with the seconds it
has left as `expiresIn`), asking later mints a new one while the old one lives out its time.
A token is accepted only in its own mode; an expired, unknown or other-mode token gets 20016.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmqual.sandbox.fxiaoke.errors import FxError, envelope
from crmqual.sandbox.fxiaoke.settings import Codes
from crmqual.sandbox.fxiaoke.tenant import INTEGRATION_USER, Tenant
from crmqual.sandbox.store import SandboxStore, TokenRow, iso

LIFETIME = 7_200
SAME_TOKEN_WITHIN = 6_600
BODY, HEADER = "fx_body", "fx_header"
TOKEN_MESSAGE = "corpAccessToken或accessToken无效或已过期"


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int


class Tokens:
    def __init__(self, store: SandboxStore, tenant: Tenant, codes: Codes) -> None:
        self.store = store
        self.tenant = tenant
        self.codes = codes

    def _check_app(self, body: dict[str, Any]) -> None:
        t = self.tenant
        given = (body.get("appId"), body.get("appSecret"), body.get("permanentCode"))
        if given != (t.app_id, t.app_secret, t.permanent_code):
            raise FxError(self.codes.app, "appId、appSecret或permanentCode错误")

    def issue(self, mode: str, now: datetime) -> Issued:
        """The mode's current token if issued less than 6,600 s ago and alive, else a new one."""
        key = f"fxiaoke:token:{mode}"
        with self.store.transaction():
            raw = self.store.get_meta(key)
            if raw is not None:
                current = json.loads(raw)
                issued = datetime.fromisoformat(current["issued"])
                age = (now - issued).total_seconds()
                row = self.store.find_token(current["token"])
                alive = row is not None and row.expires_at is not None and row.expires_at > iso(now)
                if 0 <= age < SAME_TOKEN_WITHIN and alive:
                    return Issued(current["token"], int(LIFETIME - age))
            token = secrets.token_hex(16).upper()
            expires = iso(now + timedelta(seconds=LIFETIME))
            self.store.save_token(
                TokenRow(
                    token,
                    mode,
                    self.tenant.app_id,
                    (),
                    INTEGRATION_USER.open_user_id,
                    expires,
                    False,
                ),
                iso(now),
            )
            self.store.set_meta(key, json.dumps({"token": token, "issued": iso(now)}))
            return Issued(token, LIFETIME)

    def body_mode(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """`/cgi/corpAccessToken/get/V2`."""
        self._check_app(body)
        issued = self.issue(BODY, now)
        return envelope(
            0,
            "success",
            corpAccessToken=issued.token,
            corpId=self.tenant.corp_id,
            expiresIn=issued.expires_in,
        )

    def header_mode(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """`/oauth2.0/token` with `grantType: app_secret` (client credentials)."""
        if body.get("grantType") != "app_secret":
            raise FxError(self.codes.app, "grantType不支持")
        self._check_app(body)
        issued = self.issue(HEADER, now)
        return envelope(
            0,
            "success",
            accessToken=issued.token,
            expiresIn=issued.expires_in,
            openUserId=INTEGRATION_USER.open_user_id,
            appId=self.tenant.app_id,
            ea=self.tenant.ea,
        )

    def check(self, token: Any, mode: str, now: datetime) -> TokenRow:
        """The token row, or 20016."""
        row = self.store.find_token(token) if isinstance(token, str) and token else None
        if row is None or row.kind != mode or row.expires_at is None or row.expires_at <= iso(now):
            raise FxError(self.codes.token, TOKEN_MESSAGE)
        return row

    def expire(self, token: str, now: datetime) -> None:
        """End a token's life now (the `token_expiry` fault; tests)."""
        self.store.expire_token(token, iso(now))
