"""Zoho's REST API v8 as crmqual calls it: credits, server time, JSON answers (its error
table is ``errors``).

``ZohoApi.call`` returns a ``ZohoAnswer`` (status, parsed body, headers) or raises a crmqual
error; HTTP itself (timeouts, retries, token refresh, redaction) is ``crmqual.http``'s job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from crmqual.adapters.zoho.auth import ZohoTokens
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.adapters.zoho.errors import ZOHO_TABLE, error_of
from crmqual.errors import ApiError, QuotaReachedError
from crmqual.http import Action, HttpClient, HttpSettings, Operation, Verdict, safe_url

CREDITS_HEADER = "X-API-CREDITS-REMAINING"


@dataclass(frozen=True)
class ZohoAnswer:
    status: int
    body: Any  # parsed JSON; None for 204/304 and empty bodies
    headers: Mapping[str, str]

    @property
    def empty(self) -> bool:
        return self.status in (204, 304) or self.body is None


def _body(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _MALFORMED


_MALFORMED = object()


class ZohoApi:
    """One org's API: authenticated calls with credits, server time and errors tracked."""

    def __init__(
        self,
        connection: ZohoConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        settings: HttpSettings | None = None,
    ) -> None:
        self.connection = connection
        self.http = HttpClient(
            settings or connection.http_settings(),
            classify=self._classify,
            before_call=self._check_reserve,
            observe=self._observe,
            session=session,
            sleep=sleep,
        )
        self.tokens = ZohoTokens(
            self.http,
            connection.token_url,
            connection.client_id,
            connection.client_secret,
            connection.refresh_token,
        )
        self.http.auth = self.tokens
        self.credits_remaining: int | None = None
        self._server_date: tuple[datetime, float] | None = None

    def __repr__(self) -> str:
        return f"ZohoApi({self.connection.token_url!r}, calls={self.calls})"

    @property
    def calls(self) -> int:
        return self.http.counter.total

    @property
    def api_domain(self) -> str:
        """The configured domain, else the one the token answer named, else the DC's."""
        if self.connection.api_domain:
            return self.connection.api_domain
        if self.tokens.api_domain is None:
            self.tokens.headers()  # mint: the answer names the org's API domain
        return self.tokens.api_domain or self.connection.default_api_domain

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        records: bool = False,
        resend: bool = True,
        within: Operation | None = None,
    ) -> ZohoAnswer:
        """``path`` below the API domain, e.g. ``/crm/v8/Accounts``. With ``records``, an
        answer of record-level errors (e.g. a PUT where every record failed) is returned
        rather than raised. ``resend=False`` and ``within``: see ``HttpClient.request``."""
        url = self.api_domain + path
        response = self.http.request(
            method,
            url,
            params=params,
            json=json,
            headers=headers,
            endpoint=endpoint,
            resend=resend,
            within=within,
        )
        body = _body(response)
        if body is _MALFORMED:
            raise ApiError(
                f"{method} {safe_url(url)}: HTTP {response.status_code} with a body that is "
                "not JSON",
                url=safe_url(url),
                status=response.status_code,
            )
        if response.status_code >= 400 and not records:
            code, message = error_of(body)
            raise ApiError(
                f"{method} {safe_url(url)}: HTTP {response.status_code} {code} {message}".strip(),
                url=safe_url(url),
                status=response.status_code,
                code=code,
            )
        return ZohoAnswer(response.status_code, body, response.headers)

    def server_time(self, max_age: float = 5.0) -> datetime | None:
        """The ``Date`` of an answer received less than ``max_age`` seconds ago, if any.

        Not advanced by the time elapsed since: a ``Date`` is whole seconds, rounded down, so
        the value is never later than the server's clock (safe as a watermark signpost).
        """
        seen = self._server_date
        if seen is None or time.monotonic() - seen[1] > max_age:
            return None
        return seen[0]

    # -- hooks of the HTTP client ---------------------------------------------------------------
    def _classify(self, response: requests.Response) -> Verdict:
        body = _body(response)
        code, message = error_of(body) if body is not _MALFORMED else ("", "")
        action = ZOHO_TABLE.classify(response.status_code, code or None)
        if action == Action.RATE_LIMITED and self.credits_remaining == 0:
            # zoho.md 7: 429 is both "concurrency exceeded" and "credits used up"; only the
            # latter leaves no credits, and waiting within a run does not bring them back.
            action = Action.QUOTA
        return Verdict(action, code, message)

    def _observe(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self._server_date = (parsedate_to_datetime(date), time.monotonic())
        if "/oauth/" in (response.url or ""):
            return  # token answers carry no credit information
        raw = response.headers.get(CREDITS_HEADER)
        try:
            self.credits_remaining = int(raw) if raw is not None else None
        except ValueError:
            self.credits_remaining = None

    def _check_reserve(self) -> None:
        remaining, reserve = self.credits_remaining, self.connection.credit_reserve
        if remaining is not None and remaining <= reserve:
            raise QuotaReachedError(
                f"Zoho API credits: {remaining} left, at or below the reserve of {reserve}; "
                "stopping before the next call (the next run resumes)"
            )
