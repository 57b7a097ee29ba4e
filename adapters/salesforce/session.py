"""One org's HTTP: crmqual's ``HttpClient`` (timeouts, the one retry policy, Retry-After,
secret redaction, call counting) with Salesforce's error table, its daily API allowance read
from ``Sforce-Limit-Info`` on every answer, and the ``requests`` session simple-salesforce is
handed, which sends each of its requests through that client.

simple-salesforce has no timeouts or retries of its own and builds its own URLs and headers
(salesforce.md 1, 3); through ``ClientSession`` every call it makes (REST, Bulk 2.0, Tooling)
is one logical request of the ``HttpClient``: a 401 ``INVALID_SESSION_ID`` makes the client
log in again (``login.SalesforceLogin.refresh``) and send the request once more with the new
session, whichever flow obtained it; simple-salesforce never sees the 401.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.adapters.salesforce.errors import DAILY_LIMIT_MESSAGE, SALESFORCE_TABLE, error_of
from crmqual.errors import QuotaReachedError
from crmqual.http import Action, HttpClient, HttpSettings, Operation, Verdict, new_session

LIMIT_HEADER = "Sforce-Limit-Info"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
#: path segments that name one job, record or query cursor (counted under one endpoint name)
_ID_SEGMENT = re.compile(r"^(?=[A-Za-z0-9-]*\d)[A-Za-z0-9]{15,18}(-\d+)?$")


def endpoint_name(method: str, url: str) -> str:
    """``PATCH /services/data/v62.0/jobs/ingest/{id}``: ids folded, so counts add up."""
    segments = urlsplit(url).path.split("/")
    return f"{method} " + "/".join("{id}" if _ID_SEGMENT.match(s) else s for s in segments)


class _TrustingSession(requests.Session):
    """A pooled session that verifies TLS against ``ca_file`` whatever the environment says
    (requests lets ``REQUESTS_CA_BUNDLE`` override ``session.verify``)."""

    def __init__(self, ca_file: Path) -> None:
        super().__init__()
        self.ca_file = str(ca_file)
        base = new_session()
        for prefix, adapter in base.adapters.items():
            self.mount(prefix, adapter)
        self.headers.update(base.headers)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["verify"] = self.ca_file
        return super().request(method, url, *args, **kwargs)


class ClientSession(requests.Session):
    """The ``session=`` simple-salesforce gets: every request it makes is sent by crmqual's
    ``HttpClient`` (its answers are returned, its failures raised as crmqual errors).

    Inside ``once(operation)`` the requests of this thread are sent with ``resend=False`` and
    as attempts of ``operation`` (see ``HttpClient.request``): a write whose answer is lost is
    not sent again blindly, its operation finds out first what was applied."""

    def __init__(self, http: HttpClient) -> None:
        super().__init__()
        self.http = http
        self._local = threading.local()

    @contextmanager
    def once(self, operation: Operation | None = None) -> Iterator[None]:
        self._local.once = (operation,)
        try:
            yield
        finally:
            self._local.once = None

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        json: Any = None,
        **_ignored: Any,  # timeout, stream, proxies, allow_redirects: the client's own
    ) -> requests.Response:
        once = getattr(self._local, "once", None)
        return self.http.request(
            method,
            url,
            params=params,
            data=data,
            json=json,
            headers=dict(headers or {}),
            endpoint=endpoint_name(method, url),
            resend=once is None,
            within=None if once is None else once[0],
        )


class OrgHttp:
    """The org's ``HttpClient`` and what its answers say: the API allowance, the server time."""

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        ca_file: Path | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        settings: HttpSettings | None = None,
    ) -> None:
        self.connection = connection
        if session is None and ca_file is not None:
            session = _TrustingSession(ca_file)
        self.http = HttpClient(
            settings or connection.http_settings(),
            classify=self._classify,
            before_call=self._check_reserve,
            observe=self._observe,
            session=session,
            sleep=sleep,
        )
        self.client_session = ClientSession(self.http)
        #: (used, allowance) of the org's daily API requests, from the last answer
        self.usage: tuple[int, int] | None = None
        self._server_date: tuple[datetime, float] | None = None

    def __repr__(self) -> str:
        return f"OrgHttp(calls={self.http.counter.total}, usage={self.usage})"

    @property
    def remaining(self) -> int | None:
        """Daily API calls left, as the last answer reported them."""
        if self.usage is None:
            return None
        used, allowance = self.usage
        return max(0, allowance - used)

    def server_time(self, max_age: float = 5.0) -> datetime | None:
        """The ``Date`` of an answer received less than ``max_age`` seconds ago, if any (whole
        seconds rounded down: never later than the server's clock)."""
        seen = self._server_date
        if seen is None or time.monotonic() - seen[1] > max_age:
            return None
        return seen[0]

    # -- hooks of the HTTP client ---------------------------------------------------------------
    def _classify(self, response: requests.Response) -> Verdict:
        if response.status_code < 400:
            return Verdict(Action.OK)
        try:
            body = response.json()
        except ValueError:
            body = None
        code, message = error_of(body, response.content)
        action = SALESFORCE_TABLE.classify(response.status_code, code or None)
        if action == Action.RATE_LIMITED and (
            DAILY_LIMIT_MESSAGE in message or self.remaining == 0
        ):
            # the daily allowance, not the concurrency limit: waiting within a run is no use
            action = Action.QUOTA
        return Verdict(action, code, message)

    def _observe(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self._server_date = (parsedate_to_datetime(date), time.monotonic())
        found = _USAGE.search(response.headers.get(LIMIT_HEADER, ""))
        if found:
            self.usage = (int(found.group(1)), int(found.group(2)))

    def _check_reserve(self) -> None:
        remaining, reserve = self.remaining, self.connection.api_reserve
        if remaining is not None and remaining <= reserve:
            error = QuotaReachedError(
                f"Salesforce daily API requests: {remaining} left, at or below the reserve of "
                f"{reserve} (connection.api_reserve); stopping before the next call, state is "
                "saved and the next run resumes"
            )
            error.zh = (
                f"Salesforce 每日 API 请求剩余 {remaining} 次，已达到或低于保留量 {reserve}"
                "（connection.api_reserve）；在下一次调用前停止，状态已保存，下次运行会继续"
            )
            raise error
