"""The Fxiaoke adapter against `responses` fixtures shaped like the documented payloads: every
request shape (both token modes, query, get by ids, update, create, describe) and the
documented answers, including a token expiring mid-run (one renewal, the request sent once
more), throttling, a validation error (not retried), a non-200 transport failure and a
malformed envelope."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from fx_payloads import (
    APP_ID,
    APP_SECRET,
    ASSESSED,
    BODY_TOKEN_URL,
    CORP_ID,
    CREATE_URL,
    DATE,
    DESCRIBE_URL,
    EA,
    EMPLOYEE,
    GET_URL,
    GRADE,
    HEADER_TOKEN_URL,
    OPEN_USER,
    PERMANENT_CODE,
    QUERY_URL,
    SCORE,
    TOKENS,
    UPDATE_URL,
    FakeTime,
    adapter,
    body_token,
    describe_body,
    envelope,
    header_token,
    page,
    record,
    sent,
)

from crmqual.adapters.fxiaoke.api import DESCRIBE
from crmqual.contract import FieldType, FollowUp, ReadQuery
from crmqual.errors import ApiError, AuthError, CrmqualError, TransientError

FIELDS = ("_id", "last_modified_time", "name", GRADE)
Mock = responses.RequestsMock


def _trace_id(call: responses.Call) -> str:
    return parse_qs(urlsplit(call.request.url).query)["thirdTraceId"][0]


def _ids(pages: list[list[dict[str, object]]]) -> list[object]:
    return [r["_id"] for p in pages for r in p]


# -- tokens -----------------------------------------------------------------------------------
def test_header_mode_token_and_headers(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body(), headers={"Date": DATE})
    fields = adapter(time).describe()
    token_call, describe_call = rsps.calls
    assert sent(token_call) == {
        "appId": APP_ID,
        "appSecret": APP_SECRET,
        "permanentCode": PERMANENT_CODE,
        "grantType": "app_secret",
    }
    assert uuid.UUID(_trace_id(token_call)).version == 4
    headers = describe_call.request.headers
    assert headers["authorization"] == f"Bearer {TOKENS[0]}"
    assert (headers["x-fs-ea"], headers["x-fs-userid"]) == (EA, EMPLOYEE)
    assert uuid.UUID(_trace_id(describe_call)).version == 4
    assert _trace_id(describe_call) != _trace_id(token_call)
    assert sent(describe_call) == {"data": {"apiName": "AccountObj", "includeDetail": True}}
    assert fields[GRADE].type == FieldType.PICKLIST and fields[GRADE].picklist == tuple("ABCDE")
    assert fields[SCORE].type == FieldType.INTEGER
    assert fields[ASSESSED].type == FieldType.DATETIME


def test_body_mode_token_travels_in_the_body(rsps: Mock, time: FakeTime) -> None:
    rsps.post(BODY_TOKEN_URL, json=body_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    adapter(time, "body").describe()
    token_call, describe_call = rsps.calls
    assert sent(token_call) == {
        "appId": APP_ID,
        "appSecret": APP_SECRET,
        "permanentCode": PERMANENT_CODE,
    }
    assert "thirdTraceId" not in (urlsplit(describe_call.request.url).query or "")
    assert "authorization" not in describe_call.request.headers
    assert sent(describe_call) == {
        "corpAccessToken": TOKENS[0],
        "corpId": CORP_ID,
        "currentOpenUserId": OPEN_USER,
        "data": {"apiName": "AccountObj", "includeDetail": True},
    }


def test_token_is_cached_then_renewed_before_it_expires(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token(TOKENS[0]))
    rsps.post(HEADER_TOKEN_URL, json=header_token(TOKENS[1]))
    for _ in range(3):
        rsps.post(DESCRIBE_URL, json=describe_body())
    fx = adapter(time)
    fx.api.call(DESCRIBE, {"apiName": "AccountObj"})
    time.now += 6_600  # still within the same-token window: kept
    fx.api.call(DESCRIBE, {"apiName": "AccountObj"})
    time.now += 60  # 6,660 s into its life: renewed inside the 6,650-7,200 s window
    fx.api.call(DESCRIBE, {"apiName": "AccountObj"})
    used = [
        c.request.headers.get("authorization") for c in rsps.calls if "describe" in c.request.url
    ]
    assert used == [f"Bearer {TOKENS[0]}"] * 2 + [f"Bearer {TOKENS[1]}"]
    assert fx.api.tokens.minted == 2


@pytest.mark.parametrize("mode", ["header", "body"])
def test_expired_token_mid_run_is_renewed_once_and_the_request_resent(
    rsps: Mock, time: FakeTime, mode: str
) -> None:
    mint = header_token if mode == "header" else body_token
    url = HEADER_TOKEN_URL if mode == "header" else BODY_TOKEN_URL
    rsps.post(url, json=mint(TOKENS[0]))
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, json=page([record(1), record(2)], 0, total=4))
    rsps.post(QUERY_URL, json=envelope(20016, "corpAccessToken或accessToken无效或已过期"))
    rsps.post(url, json=mint(TOKENS[1]))
    rsps.post(QUERY_URL, json=page([record(3), record(4)], 2))
    pages = list(adapter(time, mode).read(ReadQuery(fields=FIELDS)))
    assert len(_ids(pages)) == 4
    queries = [c for c in rsps.calls if c.request.url.startswith(QUERY_URL)]
    assert len(queries) == 3
    refused, resent = queries[1], queries[2]
    assert sent(refused)["data"] == sent(resent)["data"]
    if mode == "header":
        assert resent.request.headers["authorization"] == f"Bearer {TOKENS[1]}"
    else:
        assert (sent(refused)["corpAccessToken"], sent(resent)["corpAccessToken"]) == TOKENS


def test_a_token_refused_again_after_renewal_stops(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token(TOKENS[0]))
    rsps.post(DESCRIBE_URL, json=envelope(20016, "expired"))
    rsps.post(HEADER_TOKEN_URL, json=header_token(TOKENS[1]))
    rsps.post(DESCRIBE_URL, json=envelope(20016, "expired"))
    with pytest.raises(AuthError) as caught:
        adapter(time).describe()
    assert "20016" in str(caught.value)


def test_refused_credentials_are_an_auth_error_without_secrets(
    rsps: Mock, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(HEADER_TOKEN_URL, json=envelope(20001, "appId、appSecret或permanentCode错误"))
    with pytest.raises(AuthError) as caught:
        adapter(time).describe()
    assert "errorCode 20001" in str(caught.value)
    for text in (str(caught.value), caplog.text, repr(adapter(time))):
        assert APP_SECRET not in text and PERMANENT_CODE not in text


# -- reading ------------------------------------------------------------------------------------
def test_full_read_pages_by_offset_in_a_stable_order(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rows = [
        record(1, **{GRADE: "codeB", "owner": ["1002"]}),
        record(2),
        record(3, last_modified_time=1772441003500),
        record(4),
        record(5),
    ]
    rsps.post(QUERY_URL, json=page(rows[:2], 0, total=5))
    rsps.post(QUERY_URL, json=page(rows[2:4], 2))
    rsps.post(QUERY_URL, json=page(rows[4:], 4))
    fx = adapter(time)
    query = ReadQuery(fields=(*FIELDS, "owner"))
    pages = list(fx.read(query))
    assert _ids(pages) == [r["_id"] for r in rows]  # no fourth, empty page fetched
    assert fx.expected(query) == 5
    first = pages[0][0]
    assert first[GRADE] == "B" and first["owner"] == "1002"  # option label, employee id
    assert first["last_modified_time"] == "2026-03-02T16:43:21+08:00"
    assert pages[1][0]["last_modified_time"] == "2026-03-02T16:43:23.500000+08:00"
    infos = [sent(c)["data"] for c in rsps.calls if c.request.url.startswith(QUERY_URL)]
    assert [i["search_query_info"]["offset"] for i in infos] == [0, 2, 4]
    assert [i["find_explicit_total_num"] for i in infos] == [True, False, False]
    info = infos[0]["search_query_info"]
    assert infos[0]["dataObjectApiName"] == "AccountObj"
    assert info["limit"] == 2 and info["filters"] == []
    assert info["orders"] == [
        {"fieldName": "last_modified_time", "isAsc": True},
        {"fieldName": "_id", "isAsc": True},
    ]
    assert info["fieldProjection"] == ["_id", "last_modified_time", "name", GRADE, "owner"]


def test_incremental_read_filters_at_the_watermark_less_the_overlap(
    rsps: Mock, time: FakeTime
) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, json=page([record(9)], 0, total=1))
    watermark = datetime(2026, 3, 2, 9, 0, 0, 250_400, tzinfo=UTC)
    fx = adapter(time, limits={"page_size": 2, "overlap_seconds": 2})
    list(fx.read(ReadQuery(fields=FIELDS, since=watermark)))
    info = sent(rsps.calls[-1])["data"]["search_query_info"]
    start_ms = int(datetime(2026, 3, 2, 8, 59, 58, tzinfo=UTC).timestamp() * 1000) + 251
    assert info["filters"] == [
        {"field_name": "last_modified_time", "field_values": [start_ms], "operator": "GTE"}
    ]


def test_read_by_ids_asks_for_them_with_in(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, json=page([record(1), record(2)], 0))
    rsps.post(QUERY_URL, json=page([record(3)], 0))
    ids = tuple(record(n)["_id"] for n in (1, 2, 3))
    pages = list(adapter(time).read(ReadQuery(fields=FIELDS, ids=ids)))
    assert _ids(pages) == list(ids)
    filters = [sent(c)["data"]["search_query_info"]["filters"] for c in rsps.calls[2:]]
    assert filters == [
        [{"field_name": "_id", "field_values": list(ids[:2]), "operator": "IN"}],
        [{"field_name": "_id", "field_values": list(ids[2:]), "operator": "IN"}],
    ]


def test_throttling_is_retried_after_a_wait(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, json=envelope(20008, "接口调用过于频繁,请稍后重试"))
    rsps.post(QUERY_URL, json=envelope(20008, "接口调用过于频繁,请稍后重试"))
    rsps.post(QUERY_URL, json=page([record(1)], 0, total=1))
    pages = list(adapter(time).read(ReadQuery(fields=FIELDS)))
    assert _ids(pages) == [record(1)["_id"]]
    assert [s for s in time.sleeps if s >= 0.1] == [0.5, 1.0]


def test_a_non_200_answer_is_a_transport_failure(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, status=503, body="<html><h1>503 Service Unavailable</h1></html>")
    rsps.post(DESCRIBE_URL, json=describe_body())
    assert GRADE in adapter(time).describe()  # a 5xx is retried
    rsps.post(QUERY_URL, status=404, json=envelope(404, "接口不存在"))
    with pytest.raises(ApiError) as caught:
        list(adapter(time).read(ReadQuery(fields=FIELDS)))
    assert "HTTP 404" in str(caught.value)  # not retried: one 404 registered, used once


def test_server_errors_past_the_attempts_stop_the_read(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    for _ in range(4):
        rsps.post(DESCRIBE_URL, status=502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(TransientError):
        adapter(time).describe()


@pytest.mark.parametrize(
    "body", ["<html>maintenance</html>", '{"data": {"dataList": []}}', '[{"errorCode": 0}]']
)
def test_a_malformed_envelope_is_refused(rsps: Mock, time: FakeTime, body: str) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, status=200, body=body, content_type="application/json")
    with pytest.raises(ApiError) as caught:
        list(adapter(time).read(ReadQuery(fields=FIELDS)))
    assert "MALFORMED" in str(caught.value)


def test_an_unknown_error_code_fails_without_retrying(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    rsps.post(QUERY_URL, json=envelope(20003, "offset必须是limit的整数倍"))
    with pytest.raises(ApiError) as caught:
        list(adapter(time).read(ReadQuery(fields=FIELDS)))
    assert caught.value.code == "20003"


# -- writing ------------------------------------------------------------------------------------
def _writer(rsps: Mock, time: FakeTime) -> object:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(DESCRIBE_URL, json=describe_body())
    fx = adapter(time)
    fx.describe()
    fx.allow_writes_to([GRADE, SCORE, ASSESSED])
    return fx


def test_update_shape_one_record_per_call_flags_off(rsps: Mock, time: FakeTime) -> None:
    fx = _writer(rsps, time)
    ids = [record(n)["_id"] for n in (1, 2)]
    for rid in ids:
        rsps.post(UPDATE_URL, json=envelope(errorDescription="success", dataId=rid))
    results = fx.write(  # type: ignore[attr-defined]
        [
            (ids[0], {GRADE: "C", SCORE: 61, ASSESSED: "2026-03-02T09:00:00+00:00"}),
            (ids[1], {GRADE: "A"}),
        ]
    )
    assert [r.ok for r in results] == [True, True]
    first = sent(rsps.calls[2])
    assert first == {
        "triggerWorkFlow": False,
        "triggerApprovalFlow": False,
        "data": {
            "object_data": {
                "dataObjectApiName": "AccountObj",
                "_id": ids[0],
                GRADE: "codeC",
                SCORE: 61,
                ASSESSED: 1772442000000,
            },
            "optionInfo": {
                "skipFuncValidate": True,
                "useValidationRule": False,
                "isDuplicateSearch": False,
            },
        },
    }
    assert sent(rsps.calls[3])["data"]["object_data"] == {
        "dataObjectApiName": "AccountObj",
        "_id": ids[1],
        GRADE: "codeA",
    }


def test_a_validation_error_is_the_record_result_and_never_retried(
    rsps: Mock, time: FakeTime
) -> None:
    fx = _writer(rsps, time)
    ids = [record(n)["_id"] for n in (1, 2)]
    rsps.post(UPDATE_URL, json=envelope(20007, "数据不满足验证规则,保存失败"))
    rsps.post(UPDATE_URL, json=envelope(errorDescription="success", dataId=ids[1]))
    results = fx.write([(ids[0], {SCORE: 10}), (ids[1], {SCORE: 20})])  # type: ignore[attr-defined]
    assert (results[0].ok, results[0].code) == (False, "20007")
    assert results[1].ok
    assert len([c for c in rsps.calls if c.request.url.startswith(UPDATE_URL)]) == 2


def test_a_throttled_update_is_retried(rsps: Mock, time: FakeTime) -> None:
    fx = _writer(rsps, time)
    rid = record(1)["_id"]
    rsps.post(UPDATE_URL, json=envelope(20008, "接口调用过于频繁,请稍后重试"))
    rsps.post(UPDATE_URL, json=envelope(errorDescription="success", dataId=rid))
    assert fx.write([(rid, {SCORE: 10})])[0].ok  # type: ignore[attr-defined]


def test_a_label_that_is_no_option_is_refused_for_that_record(rsps: Mock, time: FakeTime) -> None:
    fx = _writer(rsps, time)
    result = fx.write([(record(1)["_id"], {GRADE: "Z"})])[0]  # type: ignore[attr-defined]
    assert (result.ok, result.code, result.field) == (False, "OPTION_MISSING", GRADE)


def test_a_lost_update_answer_is_reconciled_by_a_read(rsps: Mock, time: FakeTime) -> None:
    fx = _writer(rsps, time)
    rid = record(1)["_id"]
    rsps.post(UPDATE_URL, body=requests.ConnectionError("reset after the write"))
    rsps.post(GET_URL, json=envelope(data=record(1, **{SCORE: 70})))
    assert fx.write([(rid, {SCORE: 70})])[0].ok  # type: ignore[attr-defined]
    assert sent(rsps.calls[-1])["data"] == {"dataObjectApiName": "AccountObj", "objectDataId": rid}


def test_a_lost_update_not_applied_is_sent_again(rsps: Mock, time: FakeTime) -> None:
    fx = _writer(rsps, time)
    rid = record(1)["_id"]
    rsps.post(UPDATE_URL, status=502, body="<html>502 Bad Gateway</html>")
    rsps.post(GET_URL, json=envelope(data=record(1, **{SCORE: 12})))
    rsps.post(UPDATE_URL, json=envelope(errorDescription="success", dataId=rid))
    assert fx.write([(rid, {SCORE: 70})])[0].ok  # type: ignore[attr-defined]
    updates = [c for c in rsps.calls if c.request.url.startswith(UPDATE_URL)]
    assert len(updates) == 2


# -- follow-ups, rate, server time ---------------------------------------------------------------
def test_followup_is_found_before_it_is_created(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    item = FollowUp("64f0c0ffee0000000000abcd", record(1)["_id"], "Credit warning", "B -> D")
    rsps.post(QUERY_URL, json=page([], 0))
    rsps.post(GET_URL, json=envelope(data=record(1, owner=["1003"])))
    types = {
        "active_record_type": {
            "api_name": "active_record_type",
            "label": "跟进类型",
            "type": "select_one",
            "options": [{"label": "信用复核", "value": "4"}],
        }
    }
    rsps.post(DESCRIBE_URL, json=envelope(data={"describe": {"fields": types}}))
    rsps.post(CREATE_URL, json=envelope(errorDescription="success", dataId="new-followup-1"))
    rsps.post(QUERY_URL, json=page([{"_id": "new-followup-1"}], 0))
    fx = adapter(time)
    assert fx.create_followup(item) == "new-followup-1"
    assert fx.create_followup(item) == "new-followup-1"
    lookup = sent(rsps.calls[1])["data"]
    assert lookup["dataObjectApiName"] == "ActiveRecordObj"
    assert lookup["search_query_info"]["filters"] == [
        {"field_name": "name", "field_values": [f"[crmqual:{item.event_id}]"], "operator": "LIKE"}
    ]
    created = sent(rsps.calls[4])
    assert created["triggerWorkFlow"] is False
    data = created["data"]["object_data"]
    assert data["owner"] == ["1003"] and data["account_id"] == item.account_id
    assert data["name"].endswith(f"[crmqual:{item.event_id}]")
    assert data["active_record_type"] == "4"


def test_the_rate_limiter_spaces_calls(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    for _ in range(3):
        rsps.post(DESCRIBE_URL, json=describe_body())
    fx = adapter(time, limits={"rate_per_second": 4})
    for _ in range(3):
        fx.api.call(DESCRIBE, {"apiName": "AccountObj"})
    assert time.sleeps == [0.25, 0.25]  # the token call is not rate-limited


def test_server_time_comes_from_the_date_header(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, json=header_token())
    rsps.post(QUERY_URL, json=page([], 0), headers={"Date": DATE})
    assert adapter(time).server_time() == datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_errors_are_crmqual_errors_with_chinese(rsps: Mock, time: FakeTime) -> None:
    rsps.post(HEADER_TOKEN_URL, status=500, body="Internal Server Error")
    for _ in range(3):
        rsps.post(HEADER_TOKEN_URL, status=500, body="Internal Server Error")
    with pytest.raises(CrmqualError):
        adapter(time).describe()
