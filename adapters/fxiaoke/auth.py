"""Fxiaoke's two token modes (fxiaoke.md 2): minted when needed, renewed before they expire and
when Fxiaoke answers 20016, never logged.

- ``header``: ``POST /oauth2.0/token`` (``grantType: app_secret``) gives an ``accessToken``,
  sent as ``authorization: Bearer``, with ``x-fs-ea`` (the tenant's ``ea`` from the same
  answer) and ``x-fs-userid`` (the acting employee).
- ``body``: ``POST /cgi/corpAccessToken/get/V2`` gives a ``corpAccessToken`` and ``corpId``,
  sent in every body with ``currentOpenUserId`` (the acting employee).

A token lives 7,200 s; asking again within 6,600 s of issue returns the same one, so crmqual
renews it ``RENEW_BEFORE`` seconds before its end (6,650 s into a fresh token, inside the
documented 6,650-7,200 s window). A 20016 mid-run mints a new one under a lock (parallel calls
mint one token, not one each); the HTTP client then sends the request again, once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from crmqual.adapters.fxiaoke.config import FxiaokeConnection
from crmqual.adapters.fxiaoke.errors import envelope
from crmqual.errors import ApiError, AuthError, CrmUnavailableError
from crmqual.http import SECRETS, HttpClient

HEADER_TOKEN = "/oauth2.0/token"
BODY_TOKEN = "/cgi/corpAccessToken/get/V2"
RENEW_BEFORE = 550.0
BEARER = "Bearer "


def trace_params() -> dict[str, str]:
    """A fresh ``thirdTraceId`` (an RFC 4122 version-4 UUID), as the current docs require."""
    return {"thirdTraceId": str(uuid.uuid4())}


class FxiaokeTokens:
    """One tenant's token in the configured mode; the ``HttpClient``'s ``TokenAuth``."""

    def __init__(
        self,
        http: HttpClient,
        connection: FxiaokeConnection,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self.connection = connection
        self.mode = connection.token_mode
        self._clock = clock
        self._lock = threading.Lock()
        self._local = threading.local()
        self._token: str | None = None
        self._renew_at = 0.0
        self.corp_id: str | None = None
        self.ea: str | None = None
        self.minted = 0
        SECRETS.register(
            connection.app_secret.get_secret_value(), connection.permanent_code.get_secret_value()
        )

    def __repr__(self) -> str:
        return f"FxiaokeTokens({self.connection.base_url!r}, mode={self.mode!r})"

    @property
    def token_url(self) -> str:
        path = HEADER_TOKEN if self.mode == "header" else BODY_TOKEN
        return self.connection.base_url + path

    def current(self) -> str:
        """The token to send now: minted first when there is none or it is due for renewal."""
        token = self._token
        if token is None or self._clock() >= self._renew_at:
            with self._lock:
                if self._token is None or self._clock() >= self._renew_at:
                    self._mint()
                token = self._token
        assert token is not None
        return token

    # -- TokenAuth ------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        if self.mode == "body":
            return {}  # the token travels in the body (``body_fields``)
        token = self.current()
        return {
            "authorization": BEARER + token,
            "x-fs-ea": self.ea or "",
            "x-fs-userid": self.connection.user,
        }

    def refresh(self, stale: Mapping[str, str]) -> None:
        """Mint a new token unless another call already replaced the refused one."""
        if self.mode == "header":
            refused = stale.get("authorization", "").removeprefix(BEARER)
        else:
            refused = getattr(self._local, "sent", "")
        with self._lock:
            if self._token is None or self._token == refused:
                self._mint()

    def body_fields(self) -> dict[str, str]:
        """What a body-mode call carries beside ``data`` (nothing in header mode)."""
        if self.mode == "header":
            return {}
        token = self.current()
        self._local.sent = token  # which token this thread's request carried, for refresh
        return {
            "corpAccessToken": token,
            "corpId": self.corp_id or "",
            "currentOpenUserId": self.connection.user,
        }

    # -- minting --------------------------------------------------------------------------------
    def _mint(self) -> None:
        c = self.connection
        body: dict[str, Any] = {
            "appId": c.app_id,
            "appSecret": c.app_secret.get_secret_value(),
            "permanentCode": c.permanent_code.get_secret_value(),
        }
        params = None
        if self.mode == "header":
            body["grantType"] = "app_secret"
            params = trace_params()
        path = HEADER_TOKEN if self.mode == "header" else BODY_TOKEN
        try:
            response = self._http.request(
                "POST",
                self.token_url,
                params=params,
                json=body,
                authenticated=False,
                endpoint=f"POST {path}",
            )
        except (AuthError, ApiError) as exc:
            raise _refused(self.token_url, exc.code) from None
        answer = envelope(response)
        if answer is None:
            raise CrmUnavailableError(
                f"the Fxiaoke token endpoint {self.token_url} answered HTTP "
                f"{response.status_code} without an errorCode envelope"
            )
        key = "accessToken" if self.mode == "header" else "corpAccessToken"
        token = answer.get(key)
        if answer["errorCode"] != 0 or not isinstance(token, str) or not token:
            raise _refused(self.token_url, str(answer["errorCode"]))
        SECRETS.register(token)
        lifetime = _seconds(answer.get("expiresIn"))
        self._token = token
        self._renew_at = self._clock() + max(lifetime - RENEW_BEFORE, 0.0)
        if self.mode == "header":
            self.ea = str(answer.get("ea") or self.ea or "")
        else:
            self.corp_id = str(answer.get("corpId") or self.corp_id or "")
        self.minted += 1


def _refused(url: str, code: str) -> AuthError:
    error = AuthError(
        f"Fxiaoke refused a token at {url}: errorCode {code}; check app_id, app_secret and "
        "permanent_code, and that the app is authorised for this tenant, then run "
        "`crmqual check`",
        code=code,
    )
    error.zh = (
        f"纷享销客拒绝在 {url} 发放令牌：errorCode {code}；请核对 app_id、app_secret 和 "
        "permanent_code，并确认应用已授权给本企业，然后运行 `crmqual check`"
    )
    return error


def _seconds(raw: Any) -> float:
    """``expiresIn`` in seconds (0-7,200); two hours when absent or unreadable."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return 7200.0
    return min(max(value, 0.0), 7200.0)
