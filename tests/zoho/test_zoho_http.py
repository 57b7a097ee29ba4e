"""crmqual.http on its own: timeouts, retries, waits, the error table, redaction, counting."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pytest
import requests
import responses

from crmqual.errors import (
    ApiError,
    AuthError,
    ExitCode,
    QuotaReachedError,
    RateLimitedError,
    TransientError,
)
from crmqual.http import (
    DEFAULT_TABLE,
    MASK,
    Action,
    HttpClient,
    HttpSettings,
    Redactor,
    Rule,
    Verdict,
    install_redaction,
    retry_after,
)

URL = "https://crm.example.test/api/things"


def client(sleeps: list[float], **kwargs: object) -> HttpClient:
    settings = kwargs.pop("settings", HttpSettings(max_attempts=4, max_total_wait=60))
    assert isinstance(settings, HttpSettings)
    return HttpClient(settings, sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]


def test_every_request_has_a_connect_and_read_timeout(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    seen: list[object] = []
    http = client(sleeps, settings=HttpSettings(connect_timeout=3, read_timeout=7))
    original = http.session.request

    def spy(*args: object, **kwargs: object) -> requests.Response:
        seen.append(kwargs.get("timeout"))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    http.session.request = spy  # type: ignore[assignment,method-assign]
    rsps.get(URL, json={})
    http.request("GET", URL)
    assert seen == [(3, 7)]


def test_5xx_is_retried_with_backoff_then_succeeds(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(URL, status=503)
    rsps.get(URL, status=500)
    rsps.get(URL, json={"ok": True})
    http = client(sleeps)
    assert http.request("GET", URL).json() == {"ok": True}
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)
    assert http.counter.total == 3


def test_attempts_are_bounded_and_the_error_reraised(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    for _ in range(4):
        rsps.get(URL, status=502)
    with pytest.raises(TransientError) as caught:
        client(sleeps).request("GET", URL)
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE
    assert "HTTP 502" in str(caught.value)
    assert len(sleeps) == 3


def test_retry_after_is_honoured(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    rsps.get(URL, status=429, headers={"Retry-After": "7"})
    rsps.get(URL, json={})
    client(sleeps).request("GET", URL)
    assert sleeps == [7.0]


def test_total_wait_is_bounded(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    rsps.get(URL, status=429, headers={"Retry-After": "50"})
    rsps.get(URL, status=429, headers={"Retry-After": "50"})
    with pytest.raises(RateLimitedError):
        client(sleeps).request("GET", URL)
    assert sleeps == [50.0]  # a second wait of 50 s would pass the 60 s budget


@pytest.mark.parametrize(
    "failure", [requests.exceptions.ReadTimeout("slow"), requests.exceptions.ConnectionError("x")]
)
def test_timeouts_and_lost_connections_are_retried(
    rsps: responses.RequestsMock, sleeps: list[float], failure: Exception
) -> None:
    rsps.get(URL, body=failure)
    rsps.get(URL, json={"ok": 1})
    assert client(sleeps).request("GET", URL).json() == {"ok": 1}
    assert len(sleeps) == 1


def test_a_timeout_every_time_ends_as_crm_unavailable(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    for _ in range(4):
        rsps.get(URL, body=requests.exceptions.ConnectTimeout("no route"))
    with pytest.raises(TransientError, match="timed out") as caught:
        client(sleeps).request("GET", URL)
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE


def test_client_errors_are_not_retried(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    rsps.get(URL, status=400, json={"error": "bad"})
    with pytest.raises(ApiError) as caught:
        client(sleeps).request("GET", URL)
    assert caught.value.status == 400 and sleeps == []


class _Auth:
    def __init__(self) -> None:
        self.token = "tok-AAAAAAAA"
        self.refreshed: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self, stale: Mapping[str, str]) -> None:
        self.refreshed.append(stale["Authorization"])
        self.token = "tok-BBBBBBBB"


def test_refresh_then_retry_once(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    auth = _Auth()
    rsps.get(
        URL,
        status=401,
        match=[responses.matchers.header_matcher({"Authorization": "Bearer tok-AAAAAAAA"})],
    )
    rsps.get(
        URL,
        json={},
        match=[responses.matchers.header_matcher({"Authorization": "Bearer tok-BBBBBBBB"})],
    )
    client(sleeps, auth=auth).request("GET", URL)
    assert auth.refreshed == ["Bearer tok-AAAAAAAA"] and sleeps == [0]


def test_a_second_refusal_after_refreshing_is_an_auth_error(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(URL, status=401)
    rsps.get(URL, status=401)
    with pytest.raises(AuthError) as caught:
        client(sleeps, auth=_Auth()).request("GET", URL)
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE


def test_before_call_can_stop_a_call_before_it_is_sent(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    def reserve() -> None:
        raise QuotaReachedError("reserve reached")

    http = client(sleeps, before_call=reserve)
    with pytest.raises(QuotaReachedError):
        http.request("GET", URL)
    assert http.counter.total == 0


def test_quota_verdicts_stop_without_retrying(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(URL, status=429)
    http = client(sleeps, classify=lambda r: Verdict(Action.QUOTA, "LIMIT", "used up"))
    with pytest.raises(QuotaReachedError) as caught:
        http.request("GET", URL)
    assert caught.value.exit_code == ExitCode.QUOTA and sleeps == []


def test_record_verdicts_return_the_answer(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.put(URL, status=400, json={"data": []})
    http = client(sleeps, classify=lambda r: Verdict(Action.RECORD))
    assert http.request("PUT", URL).status_code == 400


def test_error_table_precedence() -> None:
    table = DEFAULT_TABLE.extend(
        [
            Rule(Action.AUTH, code="SCOPE"),
            Rule(Action.RECORD, status=400, code="BAD"),
            Rule(Action.FAIL, code="BAD"),
        ]
    )
    assert table.classify(401, "SCOPE") == Action.AUTH  # code beats status
    assert table.classify(401, "OTHER") == Action.REFRESH
    assert table.classify(400, "BAD") == Action.RECORD  # status and code beat code
    assert table.classify(422, "BAD") == Action.FAIL
    assert table.classify(429) == Action.RATE_LIMITED
    assert table.classify(503) == Action.RETRY
    assert table.classify(404) == Action.FAIL
    assert table.classify(204) == Action.OK


def test_retry_after_parses_seconds_and_dates() -> None:
    answer = requests.Response()
    answer.headers["Retry-After"] = "12"
    assert retry_after(answer) == 12.0
    answer.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after(answer) == 0.0
    del answer.headers["Retry-After"]
    assert retry_after(answer) is None


def test_secrets_never_reach_logs_or_errors(
    rsps: responses.RequestsMock, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    redactor = Redactor()
    redactor.register("super-secret-token-1234", None, "")
    url = URL + "?key=super-secret-token-1234"
    rsps.get(url, status=400, json={})
    logger = logging.getLogger("crmqual.http")
    install_redaction(caplog.handler, redactor)
    caplog.set_level(logging.DEBUG, logger="crmqual.http")
    with pytest.raises(ApiError) as caught:
        client(sleeps, redactor=redactor).request("GET", url)
    logger.warning("leaked %s?", "super-secret-token-1234")
    assert "super-secret-token-1234" not in str(caught.value)
    assert "super-secret-token-1234" not in caught.value.url
    assert "super-secret-token-1234" not in caplog.text and MASK in caplog.text


def test_authorization_headers_are_masked() -> None:
    redactor = Redactor()
    redactor.register("abcdefgh")
    shown = redactor.headers({"Authorization": "Zoho-oauthtoken x", "X-Key": "id abcdefgh"})
    assert shown == {"Authorization": MASK, "X-Key": f"id {MASK}"}
    assert "abcdefgh" not in repr(redactor)


def test_calls_are_counted_per_endpoint(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    rsps.get(URL, status=500)
    rsps.get(URL, json={})
    rsps.post(URL, json={})
    http = client(sleeps)
    http.request("GET", URL, endpoint="GET things")
    http.request("POST", URL)
    assert http.counter.by_endpoint == {"GET things": 2, "POST /api/things": 1}
    assert http.counter.total == 3


def test_a_long_retry_wait_says_what_it_waits_for_by_default(
    rsps: responses.RequestsMock, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14: a wait over 5 s is a warning (shown without -v) naming the call and why."""
    caplog.set_level(logging.WARNING, logger="crmqual.http")
    rsps.get(URL, status=429, headers={"Retry-After": "12"})
    rsps.get(URL, status=503)
    rsps.get(URL, json={})
    http = client(sleeps, settings=HttpSettings(max_attempts=4, max_total_wait=60, jitter=False))
    http.request("GET", URL + "?page=2")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "waiting 12 s before retrying GET /api/things (HTTP 429, Retry-After)"
    ]
    assert sleeps[0] == 12 and sleeps[1] <= 5  # the short backoff stays at INFO
