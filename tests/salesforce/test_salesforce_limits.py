"""The daily API allowance and transport failures (salesforce.md 3, 7) against `responses`:
Sforce-Limit-Info read on every answer and the run stopped (exit 5) before the allowance
falls below the reserve; 403 REQUEST_LIMIT_EXCEEDED as the spent allowance (exit 5, not
retried) or the concurrency limit (retried); 5xx and timeouts retried within the policy;
a malformed body; secrets never in messages."""

from __future__ import annotations

import pytest
import requests
import responses
from salesforce_payloads import (
    CLIENT_ID,
    COLLECTIONS_URL,
    KEY_PEM,
    QUERY_URL,
    SESSIONS,
    account,
    adapter,
    error,
    page,
    rid,
    saved,
)

from crmqual.contract import ReadQuery
from crmqual.errors import ApiError, ExitCode, QuotaReachedError, TransientError
from crmqual.http import SECRETS

BY_ID = ReadQuery(fields=("Name",), ids=(rid(1),))
UNTIL_TWO = ReadQuery(fields=("Name",), ids=(rid(1), rid(2)))


def _usage(used: int, allowance: int) -> dict[str, str]:
    return {"Sforce-Limit-Info": f"api-usage={used}/{allowance}"}


def test_the_allowance_is_read_from_every_answer(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([account(1)], 1), headers=_usage(18, 5000))
    sf = adapter(sleeps)
    list(sf.read(BY_ID))
    assert sf.api_remaining == 4982
    assert sf.quota_left() == 4982  # what the sync summary and `crmqual fleet status` show


def test_the_run_stops_before_a_call_once_the_reserve_is_reached(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, json=page([account(1)], 1), headers=_usage(4900, 5000))
    sf = adapter(sleeps, api_reserve=100, limits={"ids_per_query": 1})
    with pytest.raises(QuotaReachedError) as raised:
        list(sf.read(UNTIL_TWO))
    assert raised.value.exit_code == ExitCode.QUOTA
    assert "100 left, at or below the reserve of 100" in str(raised.value)
    assert "保留量" in raised.value.zh
    assert len(rsps.calls) == 2  # the login and one query: the second query was never sent


def test_a_spent_daily_allowance_is_exit_5_and_not_retried(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        QUERY_URL,
        status=403,
        json=error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        headers=_usage(15000, 15000),
    )
    with pytest.raises(QuotaReachedError) as raised:
        list(adapter(sleeps).read(BY_ID))
    assert raised.value.exit_code == ExitCode.QUOTA and sleeps == []


def test_the_concurrency_limit_is_waited_out_and_retried(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    busy = error("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.")
    rsps.get(QUERY_URL, status=403, json=busy, headers=_usage(10, 5000))
    rsps.get(QUERY_URL, json=page([account(1)], 1), headers=_usage(11, 5000))
    assert [r["Id"] for p in adapter(sleeps).read(BY_ID) for r in p] == [rid(1)]
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_retried_with_backoff_then_succeeds(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float], status: int
) -> None:
    rsps.get(QUERY_URL, status=status, body="<html><h1>Bad Gateway</h1></html>")
    rsps.get(QUERY_URL, status=status, json=error("UNKNOWN_EXCEPTION", "An unexpected error"))
    rsps.get(QUERY_URL, json=page([account(1)], 1))
    assert [r["Id"] for p in adapter(sleeps).read(BY_ID) for r in p] == [rid(1)]
    assert len(sleeps) == 2


def test_a_5xx_that_persists_ends_as_crm_unavailable_after_the_attempts(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    for _ in range(4):
        rsps.get(QUERY_URL, status=503, json=error("SERVER_UNAVAILABLE", "retry later"))
    with pytest.raises(TransientError) as raised:
        list(adapter(sleeps).read(BY_ID))
    assert raised.value.exit_code == ExitCode.CRM_UNAVAILABLE and raised.value.status == 503
    assert len(sleeps) == 3


def test_a_retry_after_header_is_honoured(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        QUERY_URL, status=503, json=error("SERVER_UNAVAILABLE", "x"), headers={"Retry-After": "7"}
    )
    rsps.get(QUERY_URL, json=page([account(1)], 1))
    list(adapter(sleeps).read(BY_ID))
    assert sleeps == [7.0]


def test_a_timed_out_read_is_retried(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, body=requests.ReadTimeout("read timed out"))
    rsps.get(QUERY_URL, body=requests.ConnectTimeout("connect timed out"))
    rsps.get(QUERY_URL, json=page([account(1)], 1))
    assert [r["Id"] for p in adapter(sleeps).read(BY_ID) for r in p] == [rid(1)]


def test_a_malformed_error_body_is_still_classified_by_its_status(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(QUERY_URL, status=400, body="Bad Request")
    with pytest.raises(ApiError) as raised:
        list(adapter(sleeps).read(BY_ID))
    assert raised.value.status == 400 and len(rsps.calls) == 2  # not retried


def test_timeouts_and_attempts_come_from_the_connection(
    rsps: responses.RequestsMock, login: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.patch(COLLECTIONS_URL, json=[saved(rid(1))])
    sf = adapter(sleeps, connect_timeout=3, read_timeout=45)
    sf.allow_writes_to(["Risk_Grade__c"])
    sf.write([(rid(1), {"Risk_Grade__c": "A"})])
    assert rsps.calls[-1].request.req_kwargs["timeout"] == (3.0, 45.0)


def test_secrets_are_masked_in_reprs_and_messages(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(
        "https://login.salesforce.com/services/oauth2/token",
        json={"access_token": SESSIONS[0], "instance_url": "https://acme.my.salesforce.com"},
    )
    rsps.get(
        QUERY_URL, status=400, json=error("MALFORMED_QUERY", f"unexpected token {SESSIONS[0]}")
    )
    sf = adapter(sleeps)
    with pytest.raises(ApiError) as raised:
        list(sf.read(BY_ID))
    text = str(raised.value) + repr(sf) + repr(sf.login) + repr(sf.connection)
    assert SESSIONS[0] not in text and "****" in str(raised.value)
    assert "BEGIN PRIVATE KEY" not in text and CLIENT_ID in repr(sf.connection)
    assert SECRETS.redact(KEY_PEM) == "****"
