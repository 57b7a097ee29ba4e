"""The Zoho adapter against `responses` answers shaped like zoho.md's payloads: every request
shape it sends (asserted with matchers) and every documented answer it must handle."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers
from zoho_payloads import (
    ACCESS_TOKENS,
    API,
    CLIENT_SECRET,
    COUNT_URL,
    DATE,
    FIELDS_URL,
    LIST_URL,
    REFRESH_TOKEN,
    TOKEN_URL,
    connection,
    error,
    field_meta,
    page,
    record,
    success,
    token_body,
)

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.auth import ZohoTokens
from crmqual.adapters.zoho.config import ZohoApiLimits, ZohoBulkSettings
from crmqual.contract import (
    CheckStatus,
    FieldSpec,
    FieldType,
    FilterRule,
    ReadQuery,
    RecordResult,
)
from crmqual.errors import (
    ApiError,
    AuthError,
    CrmUnavailableError,
    ExitCode,
    QuotaReachedError,
    ReadTooLargeError,
    WriteNotAllowedError,
)
from crmqual.http import HttpClient

IST = timezone(timedelta(hours=5, minutes=30))
FIELDS = ("id", "Modified_Time", "Account_Name")
BEARER = {"Authorization": f"Zoho-oauthtoken {ACCESS_TOKENS[0]}"}


def adapter(sleeps: list[float], **overrides: Any) -> ZohoAdapter:
    return ZohoAdapter(connection(**overrides), sleep=sleeps.append)


def list_params(**extra: Any) -> dict[str, str]:
    base = {
        "fields": "Modified_Time,Account_Name",
        "per_page": "2",
        "sort_by": "Modified_Time",
        "sort_order": "asc",
    }
    return {**base, **{k: str(v) for k, v in extra.items()}}


def q(params: dict[str, str]) -> list[Any]:
    return [matchers.query_param_matcher(params)]


# -- connection ---------------------------------------------------------------------------------
def test_token_is_minted_once_and_sent_as_zoho_oauthtoken(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 1}, match=[matchers.header_matcher(BEARER)])
    rsps.get(LIST_URL, json=page([record(1)], more=False), match=[matchers.header_matcher(BEARER)])
    zoho = adapter(sleeps)
    assert [len(p) for p in zoho.read(ReadQuery(FIELDS))] == [1]
    assert token.call_count == 1
    assert zoho.api_calls == 3


def test_invalid_token_mid_run_refreshes_then_retries(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 1})
    rsps.get(LIST_URL, status=401, json=error("INVALID_TOKEN", "invalid oauth token"))
    second = rsps.post(TOKEN_URL, json=token_body(ACCESS_TOKENS[1]))
    rsps.get(
        LIST_URL,
        json=page([record(1)], more=False),
        match=[matchers.header_matcher({"Authorization": f"Zoho-oauthtoken {ACCESS_TOKENS[1]}"})],
    )
    pages = list(adapter(sleeps).read(ReadQuery(FIELDS)))
    assert len(pages) == 1 and second.call_count == 1


def test_a_token_endpoint_hiccup_during_a_refresh_is_retried(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, status=401, json=error("INVALID_TOKEN", "invalid oauth token"))
    rsps.post(TOKEN_URL, status=502, body="")
    rsps.post(TOKEN_URL, json=token_body(ACCESS_TOKENS[1]))
    rsps.get(
        FIELDS_URL,
        json={"fields": []},
        match=[matchers.header_matcher({"Authorization": f"Zoho-oauthtoken {ACCESS_TOKENS[1]}"})],
    )
    assert "id" in adapter(sleeps).describe()


@pytest.mark.parametrize("error", ["access_denied", "Access Denied"])
def test_a_throttled_token_request_stops_as_a_quota(
    rsps: responses.RequestsMock, sleeps: list[float], error: str
) -> None:
    rsps.post(TOKEN_URL, json={"error": error, "status": "failure"})
    with pytest.raises(QuotaReachedError, match="throttles token requests") as caught:
        adapter(sleeps).describe()
    assert caught.value.exit_code == 5


@pytest.mark.parametrize("status", [401, 403])
def test_scope_mismatch_is_an_auth_error_without_refreshing(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float], status: int
) -> None:
    body = error("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
    rsps.get(FIELDS_URL, status=status, json=body)
    with pytest.raises(AuthError) as caught:
        adapter(sleeps).describe()
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE
    assert caught.value.code == "OAUTH_SCOPE_MISMATCH"
    assert token.call_count == 1 and sleeps == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"error": "invalid_code"}, "refresh token is unknown"),
        ({"error": "invalid_client"}, "client id or client secret"),
        ({}, "no access token"),
    ],
)
def test_refused_token_requests_fail_as_auth_without_leaking_secrets(
    rsps: responses.RequestsMock, sleeps: list[float], answer: dict[str, str], words: str
) -> None:
    rsps.post(TOKEN_URL, json=answer)  # Zoho answers token errors with HTTP 200
    with pytest.raises(AuthError, match=words) as caught:
        adapter(sleeps).describe()
    assert CLIENT_SECRET not in str(caught.value) and REFRESH_TOKEN not in str(caught.value)


def test_the_token_answers_api_domain_is_used(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    eu_api = "https://www.zohoapis.eu"
    rsps.post(
        "https://accounts.zoho.eu/oauth/v2/token",
        json={**token_body(), "api_domain": eu_api},
    )
    rsps.get(f"{eu_api}/crm/v8/settings/fields", json={"fields": []})
    assert "id" in adapter(sleeps, data_centre="eu").describe()


def test_tokens_refresh_before_expiry_and_read_ms_lifetimes(rsps: responses.RequestsMock) -> None:
    now = [0.0]
    rsps.post(TOKEN_URL, json=token_body(ACCESS_TOKENS[0]))
    rsps.post(
        TOKEN_URL,
        json={**token_body(ACCESS_TOKENS[1]), "expires_in": 120_000, "expires_in_sec": 120},
    )
    tokens = ZohoTokens(
        HttpClient(),
        TOKEN_URL,
        "id",
        SecretStr("sec-ret-1"),
        SecretStr("ref-resh-1"),
        margin=60,
        clock=lambda: now[0],
    )
    assert ACCESS_TOKENS[0] in tokens.headers()["Authorization"]
    now[0] = 3539.0
    assert ACCESS_TOKENS[0] in tokens.headers()["Authorization"]
    now[0] = 3541.0  # within the margin of the hour: refreshed before Zoho refuses it
    assert ACCESS_TOKENS[1] in tokens.headers()["Authorization"]
    assert tokens.minted == 2
    now[0] = 3541.0 + 59.0  # 120 s (sent as ms) minus the margin
    assert tokens._expires_at == pytest.approx(3541.0 + 60.0)
    assert "sec-ret-1" not in repr(tokens) and "ref-resh-1" not in repr(tokens)


def test_parallel_refreshes_of_one_refused_token_mint_once(rsps: responses.RequestsMock) -> None:
    rsps.post(TOKEN_URL, json=token_body(ACCESS_TOKENS[0]))
    rsps.post(TOKEN_URL, json=token_body(ACCESS_TOKENS[1]))
    tokens = ZohoTokens(HttpClient(), TOKEN_URL, "id", SecretStr("sec-ret-1"), SecretStr("r-1x"))
    refused = tokens.headers()
    threads = [threading.Thread(target=tokens.refresh, args=(refused,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tokens.minted == 2
    assert ACCESS_TOKENS[1] in tokens.headers()["Authorization"]


# -- reading -----------------------------------------------------------------------------------
def test_full_read_switches_from_page_to_page_token_at_the_limit(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": "5"}, match=q({}))
    rsps.get(
        LIST_URL,
        json=page([record(1), record(2)], more=True, token="t1"),
        match=q(list_params(page=1)),
    )
    rsps.get(
        LIST_URL,
        json=page([record(3), record(4)], more=True, page_no=2, token="t2"),
        match=q(list_params(page=2)),
    )
    # page 3 would start at record 5, past the 4 records `page` reaches: page_token from here
    rsps.get(
        LIST_URL,
        json=page([record(5)], more=False, page_no=3),
        match=q(list_params(page_token="t2")),
    )
    pages = list(adapter(sleeps).read(ReadQuery(FIELDS)))
    assert [[r["id"] for r in p] for p in pages] == [
        [record(1)["id"], record(2)["id"]],
        [record(3)["id"], record(4)["id"]],
        [record(5)["id"]],
    ]


def test_incremental_read_sends_if_modified_since_and_no_count_when_one_page_holds_it(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    """A nightly read that fits one page asks for no count (an unregistered call fails)."""
    since = datetime(2026, 3, 1, 10, 0, 0, 500_000, tzinfo=IST)  # Zoho has whole seconds
    rsps.get(
        LIST_URL,
        json=page([record(7)], more=False),
        match=[
            matchers.query_param_matcher(list_params(page=1)),
            matchers.header_matcher({"If-Modified-Since": "2026-03-01T10:00:00+05:30"}),
        ],
    )
    pages = list(adapter(sleeps).read(ReadQuery(FIELDS, since=since)))
    assert [r["id"] for r in pages[0]] == [record(7)["id"]]


def test_an_incremental_read_of_more_than_a_page_counts_by_criteria(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    since = datetime(2026, 3, 1, 10, 0, 0, tzinfo=IST)
    rsps.get(LIST_URL, json=page([record(1), record(2)], more=True), match=q(list_params(page=1)))
    rsps.get(
        COUNT_URL,
        json={"count": 3},
        match=q({"criteria": "(Modified_Time:greater_equal:2026-03-01T10:00:00+05:30)"}),
    )
    rsps.get(LIST_URL, json=page([record(3)], more=False, page_no=2), match=q(list_params(page=2)))
    pages = list(adapter(sleeps).read(ReadQuery(FIELDS, since=since)))
    assert [[r["id"] for r in p] for p in pages] == [
        [record(1)["id"], record(2)["id"]],
        [record(3)["id"]],
    ]


def test_a_whole_second_watermark_asks_from_the_second_before(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        LIST_URL,
        status=304,
        match=[matchers.header_matcher({"If-Modified-Since": "2026-03-01T09:59:59+05:30"})],
    )
    since = datetime(2026, 3, 1, 10, 0, 0, tzinfo=IST)
    assert list(adapter(sleeps).read(ReadQuery(FIELDS, since=since))) == []


@pytest.mark.parametrize("status", [304, 204])
def test_nothing_modified_or_nothing_at_all_yields_no_page(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float], status: int
) -> None:
    rsps.get(LIST_URL, status=status)
    since = datetime(2026, 3, 1, tzinfo=UTC)
    assert list(adapter(sleeps).read(ReadQuery(FIELDS, since=since))) == []


def test_more_than_fifty_fields_are_read_in_groups_completed_by_ids(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    limits = ZohoApiLimits(page_size=2, fields_per_call=2, ids_per_call=1)
    one, two = record(1, A="a1"), record(2, A="a2")
    rsps.get(COUNT_URL, json={"count": 2})
    rsps.get(
        LIST_URL,
        json=page([one, two], more=False),
        match=q(
            {
                "fields": "Modified_Time,A",
                "per_page": "2",
                "sort_by": "Modified_Time",
                "sort_order": "asc",
                "page": "1",
            }
        ),
    )
    for r, b in ((one, "b1"), (two, "b2")):
        rsps.get(
            LIST_URL,
            json=page([{"id": r["id"], "B": b, "C": None}], more=False),
            match=q({"fields": "B,C", "ids": r["id"]}),
        )
    pages = list(adapter(sleeps, limits=limits).read(ReadQuery(("id", "A", "B", "C"))))
    assert pages == [[{**one, "B": "b1", "C": None}, {**two, "B": "b2", "C": None}]]


def test_ids_read_in_chunks_of_the_ids_cap_without_counting(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    limits = ZohoApiLimits(ids_per_call=2)
    a, b, c = record(1), record(2), record(3)
    rsps.get(
        LIST_URL,
        json=page([a, b], more=False),
        match=q({"fields": "Modified_Time,Account_Name", "ids": f"{a['id']},{b['id']}"}),
    )
    rsps.get(
        LIST_URL, status=204, match=q({"fields": "Modified_Time,Account_Name", "ids": c["id"]})
    )
    query = ReadQuery(FIELDS, ids=(a["id"], b["id"], c["id"], a["id"]))
    pages = list(adapter(sleeps, limits=limits).read(query))
    assert [[r["id"] for r in p] for p in pages] == [[a["id"], b["id"]]]


def test_filters_apply_on_the_client_before_further_groups_are_fetched(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    limits = ZohoApiLimits(page_size=2, fields_per_call=2)
    keep, drop = record(1, Account_Type="Customer"), record(2, Account_Type="Partner")
    rsps.get(COUNT_URL, json={"count": 2})
    rsps.get(
        LIST_URL,
        json=page([keep, drop], more=False),
        match=q(
            {
                "fields": "Modified_Time,Account_Type",
                "per_page": "2",
                "sort_by": "Modified_Time",
                "sort_order": "asc",
                "page": "1",
            }
        ),
    )
    rsps.get(
        LIST_URL,
        json=page([{"id": keep["id"], "Account_Name": "Acme"}], more=False),
        match=q({"fields": "Account_Name", "ids": keep["id"]}),
    )
    query = ReadQuery(FIELDS, filters=(FilterRule("Account_Type", "equals", ("Customer",)),))
    pages = list(adapter(sleeps, limits=limits).read(query))
    assert pages == [[{**keep, "Account_Name": "Acme"}]]


def test_a_read_past_the_page_token_ceiling_stops_before_it_starts(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 11})  # the ceiling is 10 in these tests
    no_bulk = ZohoBulkSettings(read=False)  # with it, Bulk Read: tests/zoho/test_zoho_bulk.py
    with pytest.raises(ReadTooLargeError, match="Bulk Read") as caught:
        next(adapter(sleeps, bulk=no_bulk).read(ReadQuery(FIELDS)))
    assert caught.value.exit_code == ExitCode.CONFIG
    assert "bulk.read: true" in str(caught.value)


def test_without_a_count_the_ceiling_is_checked_as_the_read_goes(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    limits = ZohoApiLimits(page_size=2, page_records=4, page_token_records=4)
    rsps.get(COUNT_URL, status=404, json=error("INVALID_URL_PATTERN", "no such URL"))
    rsps.get(
        LIST_URL,
        json=page([record(1), record(2)], more=True, token="t1"),
        match=q(list_params(page=1)),
    )
    rsps.get(
        LIST_URL,
        json=page([record(3), record(4)], more=True, token="t2"),
        match=q(list_params(page=2)),
    )
    pages = adapter(sleeps, limits=limits).read(ReadQuery(FIELDS))
    assert len(next(pages)) == 2 and len(next(pages)) == 2
    with pytest.raises(ReadTooLargeError):
        next(pages)


def test_more_records_without_a_next_page_token_is_an_api_error(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    limits = ZohoApiLimits(page_size=2, page_records=2)
    rsps.get(COUNT_URL, json={"count": 3})
    rsps.get(LIST_URL, json=page([record(1), record(2)], more=True))
    with pytest.raises(ApiError, match="next_page_token"):
        list(adapter(sleeps, limits=limits).read(ReadQuery(FIELDS)))


# -- answers the transport must handle -------------------------------------------------------
def test_5xx_then_success(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, status=500, json=error("INTERNAL_ERROR", "Internal server error"))
    rsps.get(FIELDS_URL, status=503, body="")
    rsps.get(FIELDS_URL, json={"fields": [field_meta("Account_Name", "text")]})
    assert "Account_Name" in adapter(sleeps).describe()
    assert len(sleeps) == 2


def test_429_concurrency_waits_as_told_and_retries(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    busy = error("TOO_MANY_REQUESTS", "concurrency limit exceeded")
    rsps.get(FIELDS_URL, status=429, json=busy, headers={"Retry-After": "3"})
    rsps.get(FIELDS_URL, status=429, json=busy)
    rsps.get(FIELDS_URL, json={"fields": []})
    adapter(sleeps).describe()
    assert sleeps[0] == 3.0 and len(sleeps) == 2


def test_429_with_no_credits_left_stops_for_the_quota(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        FIELDS_URL,
        status=429,
        json=error("TOO_MANY_REQUESTS", "API credits exhausted"),
        headers={"X-API-CREDITS-REMAINING": "0"},
    )
    with pytest.raises(QuotaReachedError) as caught:
        adapter(sleeps).describe()
    assert caught.value.exit_code == ExitCode.QUOTA and sleeps == []


def test_the_credit_reserve_stops_before_the_next_call(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": []}, headers={"X-API-CREDITS-REMAINING": "1500"})
    rsps.get(COUNT_URL, json={"count": 9}, headers={"X-API-CREDITS-REMAINING": "1000"})
    zoho = adapter(sleeps, credit_reserve=1000)
    zoho.describe()
    assert zoho.credits_remaining == 1500
    pages = zoho.read(ReadQuery(FIELDS))
    with pytest.raises(QuotaReachedError, match="reserve of 1000"):
        next(pages)  # the count call brought it to 1000: no list call is sent
    assert zoho.credits_remaining == 1000 and zoho.api_calls == 3


def test_a_malformed_body_is_an_api_error(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, body="<html>gateway</html>", content_type="text/html")
    with pytest.raises(ApiError, match="not JSON") as caught:
        adapter(sleeps).describe()
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE


def test_a_list_answer_without_data_is_an_api_error(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(COUNT_URL, json={"count": 1})
    rsps.get(LIST_URL, json={"info": {}})
    with pytest.raises(ApiError, match="data list"):
        list(adapter(sleeps).read(ReadQuery(FIELDS)))


def test_timeouts_are_retried_then_reported_as_crm_unavailable(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    for _ in range(3):
        rsps.get(FIELDS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(CrmUnavailableError, match="timed out") as caught:
        adapter(sleeps, max_attempts=3).describe()
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE and len(sleeps) == 2


# -- writing -------------------------------------------------------------------------------------
def test_write_puts_batches_with_trigger_off_and_reports_each_record(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    a, b, c = (record(n)["id"] for n in (1, 2, 3))
    first = {"data": [{"id": a, "Risk_Grade": "A"}, {"id": b, "Risk_Grade": "Q"}], "trigger": []}
    rsps.put(
        LIST_URL,
        status=207,
        json={
            "data": [
                success(a),
                error(
                    "INVALID_DATA",
                    "invalid data",
                    api_name="Risk_Grade",
                    expected_data_type="picklist",
                    json_path="$.data[1].Risk_Grade",
                ),
            ]
        },
        match=[matchers.json_params_matcher(first)],
    )
    rsps.put(
        LIST_URL,
        json={"data": [success(c)]},
        match=[
            matchers.json_params_matcher(
                {"data": [{"id": c, "Assessed_At": "2026-03-02T09:00:00+00:00"}], "trigger": []}
            )
        ],
    )
    zoho = adapter(sleeps, limits=ZohoApiLimits(write_batch=2))
    zoho.allow_writes_to(["Risk_Grade", "Assessed_At"])
    results = zoho.write(
        [
            (a, {"Risk_Grade": "A"}),
            (b, {"Risk_Grade": "Q"}),
            (c, {"Assessed_At": datetime(2026, 3, 2, 9, tzinfo=UTC)}),
        ]
    )
    assert results == [
        RecordResult(a, True),
        RecordResult(b, False, "INVALID_DATA", "invalid data", "Risk_Grade"),
        RecordResult(c, True),
    ]


def test_a_batch_where_every_record_fails_is_reported_per_record(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(
        LIST_URL,
        status=400,
        json={"data": [error("INVALID_DATA", "the id given seems to be invalid", id="123")]},
    )
    zoho = adapter(sleeps)
    zoho.allow_writes_to(["Risk_Grade"])
    assert zoho.write([("123", {"Risk_Grade": "A"})]) == [
        RecordResult("123", False, "INVALID_DATA", "the id given seems to be invalid")
    ]


def test_a_whole_request_error_on_write_raises(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(LIST_URL, status=400, json=error("LIMIT_EXCEEDED", "Record count exceeded", limit=100))
    zoho = adapter(sleeps)
    zoho.allow_writes_to(["Risk_Grade"])
    with pytest.raises(ApiError, match="LIMIT_EXCEEDED"):
        zoho.write([("1", {"Risk_Grade": "A"})])


def test_fewer_results_than_records_sent_is_an_api_error(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.put(LIST_URL, json={"data": [success("1")]})
    zoho = adapter(sleeps)
    zoho.allow_writes_to(["Risk_Grade"])
    with pytest.raises(ApiError, match="2 records with 1 results"):
        zoho.write([("1", {"Risk_Grade": "A"}), ("2", {"Risk_Grade": "B"})])


def test_zohos_own_currency_field_is_never_written(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    zoho = adapter(sleeps)
    zoho.allow_writes_to(["Currency", "Risk_Grade"])
    with pytest.raises(WriteNotAllowedError, match="Currency"):
        zoho.write([("1", {"Currency": "EUR"})])
    with pytest.raises(WriteNotAllowedError, match="undeclared"):
        zoho.write([("1", {"Account_Name": "x"})])
    assert zoho.api_calls == 0


# -- describing and provisioning -----------------------------------------------------------------
def test_describe_maps_zoho_types(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        FIELDS_URL,
        match=q({"module": "Accounts"}),
        json={
            "fields": [
                field_meta("Account_Name", "text"),
                field_meta("Owner", "ownerlookup"),
                field_meta("Risk_Flags", "multiselectpicklist", values=("OVERDUE", "DEFAULT")),
                field_meta("Credit_Limit", "currency"),
                field_meta("Score", "double"),
                field_meta("Employees", "integer"),
                field_meta("Assessed", "datetime"),
            ]
        },
    )
    described = adapter(sleeps).describe()
    assert {n: s.type for n, s in described.items()} == {
        "Account_Name": FieldType.TEXT,
        "Owner": FieldType.TEXT,
        "Risk_Flags": FieldType.MULTISELECT,
        "Credit_Limit": FieldType.CURRENCY,
        "Score": FieldType.NUMBER,
        "Employees": FieldType.INTEGER,
        "Assessed": FieldType.DATETIME,
        "id": FieldType.TEXT,
    }
    assert described["Risk_Flags"].picklist == ("OVERDUE", "DEFAULT")


GRADE = FieldSpec("Risk_Grade", FieldType.PICKLIST, "Risk Grade", ("A", "B"), "风险等级")
LIMIT = FieldSpec("Credit_Limit", FieldType.CURRENCY, "Credit Limit", label_zh="信用额度")


def test_provision_creates_fields_with_documented_payloads(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": [field_meta("Account_Name", "text")]})
    created = {
        "code": "SUCCESS",
        "status": "success",
        "message": "field created",
        "details": {"id": "1"},
    }
    grade_payload = {
        "api_name": "Risk_Grade",
        "field_label": "Risk Grade",
        "data_type": "picklist",
        "tooltip": {"name": "info_icon", "value": "风险等级"},
        "pick_list_values": [
            {"display_value": "A", "actual_value": "A"},
            {"display_value": "B", "actual_value": "B"},
        ],
    }
    limit_payload = {
        "api_name": "Credit_Limit",
        "field_label": "Credit Limit",
        "data_type": "currency",
        "tooltip": {"name": "info_icon", "value": "信用额度"},
        "length": 16,
        "decimal_place": 2,
        "currency": {"rounding_option": "normal", "precision": 2},
    }
    for payload in (grade_payload, limit_payload):
        rsps.post(
            FIELDS_URL,
            status=201,
            json={"fields": [created]},
            match=[
                matchers.query_param_matcher({"module": "Accounts"}),
                matchers.json_params_matcher({"fields": [payload]}),
            ],
        )
    rsps.get(
        FIELDS_URL,
        json={
            "fields": [
                field_meta("Account_Name", "text"),
                field_meta("Risk_Grade", "picklist", values=("A", "B")),
                field_meta("Credit_Limit", "currency"),
            ]
        },
    )
    zoho = adapter(sleeps, limits=ZohoApiLimits(fields_per_create=1))
    plan = zoho.provision([GRADE, LIMIT])
    assert [s.api_name for s in plan.create] == ["Risk_Grade", "Credit_Limit"]


def test_provision_with_chinese_in_the_label(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": []})
    rsps.post(
        FIELDS_URL,
        status=201,
        json={
            "fields": [
                {
                    "code": "SUCCESS",
                    "status": "success",
                    "message": "field created",
                    "details": {"id": "1"},
                }
            ]
        },
        match=[
            matchers.json_params_matcher(
                {
                    "fields": [
                        {
                            "api_name": "Credit_Limit",
                            "field_label": "Credit Limit 信用额度",
                            "data_type": "currency",
                            "length": 16,
                            "decimal_place": 2,
                            "currency": {"rounding_option": "normal", "precision": 2},
                        }
                    ]
                }
            )
        ],
    )
    rsps.get(FIELDS_URL, json={"fields": [field_meta("Credit_Limit", "currency")]})
    adapter(sleeps, chinese_labels="label").provision([LIMIT])


def test_provision_appends_missing_picklist_values(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    existing = field_meta("Risk_Grade", "picklist", values=("A",))
    rsps.get(FIELDS_URL, json={"fields": [existing]})
    rsps.patch(
        f"{FIELDS_URL}/{existing['id']}",
        json={
            "fields": [
                {
                    "code": "SUCCESS",
                    "status": "success",
                    "message": "field updated",
                    "details": {"id": existing["id"]},
                }
            ]
        },
        match=[
            matchers.query_param_matcher({"module": "Accounts"}),
            matchers.json_params_matcher(
                {
                    "fields": [
                        {
                            "id": existing["id"],
                            "pick_list_values": [{"display_value": "B", "actual_value": "B"}],
                        }
                    ]
                }
            ),
        ],
    )
    plan = adapter(sleeps).provision([GRADE])
    assert plan.append_values == {"Risk_Grade": ["B"]} and not plan.create


@pytest.mark.parametrize(
    ("existing", "words"),
    [
        (field_meta("Risk_Grade", "text"), "exists as text"),
        (field_meta("Old_Grade", "picklist", label="Risk Grade"), "already used by Old_Grade"),
    ],
)
def test_provision_reports_conflicts_before_writing_anything(
    rsps: responses.RequestsMock,
    token: responses.BaseResponse,
    sleeps: list[float],
    existing: dict[str, Any],
    words: str,
) -> None:
    rsps.get(FIELDS_URL, json={"fields": [existing]})
    plan = adapter(sleeps).provision([GRADE])
    assert len(plan.conflicts) == 1 and words in plan.conflicts[0]


def test_a_refused_create_is_an_api_error_naming_the_field(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": []})
    rsps.post(
        FIELDS_URL,
        status=400,
        json={
            "fields": [
                error(
                    "DUPLICATE_DATA",
                    "duplicate data",
                    api_name="field_label",
                    json_path="$.fields[0].field_label",
                )
            ]
        },
    )
    with pytest.raises(ApiError, match="Risk_Grade: DUPLICATE_DATA duplicate data field_label"):
        adapter(sleeps).provision([GRADE])


def test_the_field_quota_is_an_api_error(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(FIELDS_URL, json={"fields": []})
    rsps.post(
        FIELDS_URL,
        status=400,
        json={
            "fields": [
                error(
                    "LIMIT_EXCEEDED",
                    "limit exceeded",
                    limit=500,
                    limit_due_to=[{"api_name": "fields", "json_path": "$.fields[0]"}],
                )
            ]
        },
    )
    with pytest.raises(ApiError) as caught:
        adapter(sleeps).provision([GRADE])
    assert caught.value.code == "LIMIT_EXCEEDED" and caught.value.status == 400


# -- server time and check -----------------------------------------------------------------------
def test_server_time_comes_from_the_date_header(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(
        LIST_URL,
        json=page([record(1)], more=False),
        headers={"Date": DATE},
        match=q({"fields": "Modified_Time", "per_page": "1"}),
    )
    rsps.get(FIELDS_URL, json={"fields": []}, headers={"Date": "Mon, 02 Mar 2026 09:05:00 GMT"})
    zoho = adapter(sleeps)
    assert zoho.server_time() == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    zoho.describe()
    assert zoho.server_time() == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # no call: recent answer


def test_check_maps_scope_errors_and_leaves_write_scopes_unverified(
    rsps: responses.RequestsMock, token: responses.BaseResponse, sleeps: list[float]
) -> None:
    rsps.get(LIST_URL, json=page([record(1)], more=False))
    rsps.get(
        FIELDS_URL,
        status=401,
        json=error("OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL"),
    )
    report = adapter(sleeps).check(["id", "Account_Name"], ["Risk_Grade"])
    assert report.as_rows()[:5] == [
        ("credentials", "ok", f"access token minted at {TOKEN_URL}"),
        ("scope ZohoCRM.modules.accounts.READ", "ok", "list Accounts succeeded"),
        ("scope ZohoCRM.settings.fields.READ", "failed", "missing: describe Accounts was refused"),
        (
            "scope ZohoCRM.modules.accounts.UPDATE",
            "unverified",
            "needed to write grades back; cannot be proven without writing a record",
        ),
        (
            "scope ZohoCRM.settings.fields.CREATE",
            "unverified",
            "needed by `crmqual provision` only; cannot be proven without creating a field",
        ),
    ]
    assert not report.ok


def test_check_reports_missing_fields_and_bad_credentials(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(TOKEN_URL, json=token_body())
    rsps.get(LIST_URL, status=204)
    rsps.get(FIELDS_URL, json={"fields": [field_meta("Account_Name", "text")]})
    report = adapter(sleeps).check(["id", "Account_Name", "Revenue"], ["Risk_Grade"])
    failed = {i.item: i.detail for i in report.items if i.status != CheckStatus.OK}
    assert failed == {
        "field Revenue": "no field 'Revenue' in Accounts: fix the mapping",
        "output field Risk_Grade": "by `crmqual provision`",
        "scope ZohoCRM.modules.accounts.UPDATE": (
            "needed to write grades back; cannot be proven without writing a record"
        ),
        "scope ZohoCRM.settings.fields.CREATE": (
            "needed by `crmqual provision` only; cannot be proven without creating a field"
        ),
    }
    assert report.exit_code == 2  # the mapping's field Revenue
    rsps.post(TOKEN_URL, json={"error": "invalid_client"})
    bad = adapter(sleeps).check(["id"])
    assert bad.items[0].status == CheckStatus.FAILED and "invalid_client" in bad.items[0].detail
    assert {i.status for i in bad.items[1:]} == {CheckStatus.UNVERIFIED}


def test_api_base_override_wins(rsps: responses.RequestsMock, sleeps: list[float]) -> None:
    rsps.post("http://127.0.0.1:9/oauth/v2/token", json=token_body())
    rsps.get("http://127.0.0.1:9/crm/v8/settings/fields", json={"fields": []})
    zoho = adapter(sleeps, accounts_url="http://127.0.0.1:9/", api_domain="http://127.0.0.1:9")
    zoho.describe()
    assert API not in repr(zoho)
