"""Every request shape, answer and error of `shared/reference/fxiaoke.md` against the Fxiaoke
sandbox, in-process: tokens in both modes and the 6,600 s rule on the sandbox clock, 20016,
the acting user, paging limits, every filter operator, orders, projection, epoch-ms times,
get, update (last_modified_time and version), the follow-up create, describe with generated
names, the rate limit and faults in Fxiaoke's envelope."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from fx_client import FxApiError, FxClient
from sandbox_helpers import START

from crmqual.errors import ConfigError
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.fxiaoke.backend import FxiaokeCredentials, FxiaokeSandbox
from crmqual.sandbox.fxiaoke.settings import Codes, FxiaokeSettings, settings_file
from crmqual.sandbox.store import iso

CODES = Codes()
START_MS = int(START.timestamp()) * 1000
QUERY = "/cgi/crm/v2/data/query"
ACCOUNT = "AccountObj"


def app_body(c: FxiaokeCredentials) -> dict[str, str]:
    return {"appId": c.app_id, "appSecret": c.app_secret, "permanentCode": c.permanent_code}


def post(c: FxiaokeCredentials, path: str, body: Any, **kwargs: Any) -> dict[str, Any]:
    response = requests.post(c.base_url + path, json=body, timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert {"errorCode", "errorMessage", "traceId"} <= set(answer), answer
    return answer


def body_token(c: FxiaokeCredentials) -> str:
    answer = post(c, "/cgi/corpAccessToken/get/V2", app_body(c))
    assert answer["errorCode"] == 0, answer
    return str(answer["corpAccessToken"])


def body_call(
    c: FxiaokeCredentials, token: str, path: str, data: Any, **extra: Any
) -> dict[str, Any]:
    body = {"corpAccessToken": token, "corpId": c.corp_id, "currentOpenUserId": c.open_user_id}
    return post(c, path, {**body, "data": data, **extra})


def header_token(c: FxiaokeCredentials) -> dict[str, Any]:
    return post(
        c,
        "/oauth2.0/token",
        {**app_body(c), "grantType": "app_secret"},
        params={"thirdTraceId": str(uuid.uuid4())},
    )


def header_call(
    c: FxiaokeCredentials,
    token: str,
    path: str,
    data: Any,
    *,
    user: str | None = None,
    ea: str | None = None,
    trace: bool = True,
) -> dict[str, Any]:
    headers = {
        "authorization": f"Bearer {token}",
        "x-fs-ea": ea or c.ea,
        "x-fs-userid": user or c.employee_id,
    }
    params = {"thirdTraceId": str(uuid.uuid4())} if trace else {}
    return post(c, path, {"data": data}, headers=headers, params=params)


def query_data(**info: Any) -> dict[str, Any]:
    return {"dataObjectApiName": ACCOUNT, "search_query_info": info}


# -- tokens ------------------------------------------------------------------------------------
def test_body_mode_token_shape(creds: FxiaokeCredentials) -> None:
    answer = post(creds, "/cgi/corpAccessToken/get/V2", app_body(creds))  # no thirdTraceId
    assert answer["errorCode"] == 0 and answer["expiresIn"] == 7200
    assert answer["corpId"] == creds.corp_id and answer["corpAccessToken"]
    assert creds.app_id.startswith("FSAID_") and creds.corp_id.startswith("FSCID_")
    assert creds.open_user_id.startswith("FSUID_")


def test_body_mode_same_token_within_6600_s(
    fxbox: FxiaokeSandbox, creds: FxiaokeCredentials
) -> None:
    first = body_token(creds)
    fxbox.clock.advance(6_599)
    again = post(creds, "/cgi/corpAccessToken/get/V2", app_body(creds))
    assert again["corpAccessToken"] == first and again["expiresIn"] == 601
    fxbox.clock.advance(1)  # 6,600 s after issue: a new token
    renewed = body_token(creds)
    assert renewed != first
    data = query_data(limit=1, offset=0)
    assert body_call(creds, first, QUERY, data)["errorCode"] == 0  # the old one lives on
    fxbox.clock.advance(600)  # 7,200 s after the first was issued
    assert body_call(creds, first, QUERY, data)["errorCode"] == 20016
    assert body_call(creds, renewed, QUERY, data)["errorCode"] == 0


def test_header_mode_token_shape_and_rule(fxbox: FxiaokeSandbox, creds: FxiaokeCredentials) -> None:
    answer = header_token(creds)
    assert answer["errorCode"] == 0
    assert {"accessToken", "expiresIn", "openUserId", "appId", "ea"} <= set(answer)
    assert answer["appId"] == creds.app_id and answer["ea"] == creds.ea
    assert answer["expiresIn"] == 7200
    fxbox.clock.advance(116)
    again = header_token(creds)
    assert again["accessToken"] == answer["accessToken"] and again["expiresIn"] == 7084
    fxbox.clock.advance(6_600)
    assert header_token(creds)["accessToken"] != answer["accessToken"]


def test_token_errors(creds: FxiaokeCredentials) -> None:
    wrong = {**app_body(creds), "appSecret": "nope"}
    assert post(creds, "/cgi/corpAccessToken/get/V2", wrong)["errorCode"] == CODES.app
    trace = {"thirdTraceId": str(uuid.uuid4())}
    answer = post(creds, "/oauth2.0/token", {**wrong, "grantType": "app_secret"}, params=trace)
    assert answer["errorCode"] == CODES.app
    answer = post(creds, "/oauth2.0/token", {**app_body(creds), "grantType": "x"}, params=trace)
    assert answer["errorCode"] == CODES.app
    answer = post(creds, "/oauth2.0/token", {**app_body(creds), "grantType": "app_secret"})
    assert answer["errorCode"] == CODES.param  # header mode wants a thirdTraceId


def test_20016_on_unknown_expired_or_other_mode_tokens(
    fxbox: FxiaokeSandbox, creds: FxiaokeCredentials
) -> None:
    data = query_data(limit=1, offset=0)
    assert body_call(creds, "NOTATOKEN", QUERY, data)["errorCode"] == 20016
    assert post(creds, QUERY, {"data": data})["errorCode"] == 20016  # no token at all
    access = header_token(creds)["accessToken"]
    assert body_call(creds, access, QUERY, data)["errorCode"] == 20016
    assert header_call(creds, body_token(creds), QUERY, data)["errorCode"] == 20016
    assert header_call(creds, access, QUERY, data)["errorCode"] == 0
    fxbox.clock.advance(7_200)
    assert header_call(creds, access, QUERY, data)["errorCode"] == 20016


def test_the_thin_client_renews_on_20016(fxbox: FxiaokeSandbox, client: FxClient) -> None:
    client.query_page(ACCOUNT, 0, 1)
    fxbox.clock.advance(7_300)  # the cached token died (the client's own timer did not run)
    assert client.query_page(ACCOUNT, 0, 1)["total"] == 40
    assert client.token_calls == 2


def test_header_mode_calls_need_a_trace_id_body_mode_none(creds: FxiaokeCredentials) -> None:
    access = header_token(creds)["accessToken"]
    data = query_data(limit=1, offset=0)
    assert header_call(creds, access, QUERY, data, trace=False)["errorCode"] == CODES.param
    assert body_call(creds, body_token(creds), QUERY, data)["errorCode"] == 0


def test_the_acting_user_is_required_and_checked(
    fxbox: FxiaokeSandbox, creds: FxiaokeCredentials
) -> None:
    token = body_token(creds)
    data = query_data(limit=1, offset=0)
    body = {"corpAccessToken": token, "corpId": creds.corp_id, "data": data}
    assert post(creds, QUERY, body)["errorCode"] == CODES.user
    body["currentOpenUserId"] = "FSUID_UNKNOWN"
    assert post(creds, QUERY, body)["errorCode"] == CODES.user
    body.update(currentOpenUserId=creds.open_user_id, corpId="FSCID_OTHER")
    assert post(creds, QUERY, body)["errorCode"] == CODES.user
    access = header_token(creds)["accessToken"]
    assert header_call(creds, access, QUERY, data, user="9999")["errorCode"] == CODES.user
    assert header_call(creds, access, QUERY, data, ea="1")["errorCode"] == CODES.user
    # the audit trail follows the acting user
    record = header_call(creds, access, QUERY, data)["data"]["dataList"][0]
    update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": record["_id"], "remark": "x"}}
    answer = header_call(creds, access, "/cgi/crm/v2/data/update", update, user="1003")
    assert answer["errorCode"] == 0
    assert fxbox.record(record["_id"])["last_modified_by"] == ["1003"]
    assert fxbox.write_log()[-1].user_id == "1003"


# -- query -------------------------------------------------------------------------------------
def test_query_answer_shape_and_defaults(creds: FxiaokeCredentials) -> None:
    token = body_token(creds)
    answer = body_call(
        creds,
        token,
        QUERY,
        query_data(limit=100, offset=0, filters=[], orders=[], fieldProjection=[]),
    )
    assert answer["errorCode"] == 0 and answer["errorMessage"] == "OK"
    data = answer["data"]
    assert set(data) == {"dataList", "total", "offset", "limit"}
    assert data["total"] == 40 and data["offset"] == 0 and data["limit"] == 100
    record = data["dataList"][0]
    assert re.fullmatch(r"[0-9a-f]{24}", record["_id"])
    assert {
        "name",
        "owner",
        "create_time",
        "last_modified_time",
        "version",
        "life_status",
        "record_type",
        "industry_level1",
        "account_no",
    } <= set(record)
    assert isinstance(record["version"], str) and isinstance(record["owner"], list)
    no_total = query_data(limit=10, offset=0)
    no_total["find_explicit_total_num"] = False
    assert body_call(creds, token, QUERY, no_total)["data"]["total"] == -1


@pytest.mark.parametrize(
    ("limit", "offset", "ok"),
    [
        (100, 0, True),
        (101, 0, False),
        (0, 0, False),
        (100, 50, False),
        (10, 20, True),
        (10, 15, False),
        (10, -10, False),
    ],
)
def test_paging_limits(creds: FxiaokeCredentials, limit: int, offset: int, ok: bool) -> None:
    answer = body_call(creds, body_token(creds), QUERY, query_data(limit=limit, offset=offset))
    assert answer["errorCode"] == (0 if ok else CODES.param), answer


def test_pages_cover_every_record_once(client: FxClient) -> None:
    orders = [{"fieldName": "last_modified_time", "isAsc": True}]
    seen = [r["_id"] for r in client.query_all(ACCOUNT, limit=7, orders=orders)]
    assert len(seen) == 40 and len(set(seen)) == 40
    times = [r["last_modified_time"] for r in client.query_all(ACCOUNT, orders=orders)]
    assert times == sorted(times)


@pytest.fixture
def probe(tmp_path: Path) -> tuple[FxiaokeSandbox, dict[str, str], str, str]:
    """Four hand-made accounts and a number and a multi-select custom field."""
    box = FxiaokeSandbox(tmp_path / "probe.db", settings=FxiaokeSettings(rate_per_second=0))
    box.clock.freeze(START)
    amount = box.add_field("测试金额", "number").api_name
    tags = box.add_field("标签", "select_many", ["甲", "乙", "丙"])
    code = {p.display_value: p.actual_value for p in tags.picklist}
    rows = [
        {
            "name": "测试甲有限公司",
            amount: 100,
            tags.api_name: [code["甲"], code["乙"]],
            "remark": "alpha",
        },
        {"name": "测试乙股份有限公司", amount: 250.5, tags.api_name: [code["乙"]], "remark": None},
        {"name": "丙公司", amount: None, tags.api_name: [], "remark": "beta gamma"},
        {"name": "丁有限公司", amount: 1000, tags.api_name: [code["丙"]], "remark": ""},
    ]
    ids = box.load_records(rows)
    return box, dict(zip("1234", ids, strict=True)), amount, tags.api_name


CASES = [
    ("EQ", "amount", [100], "1"),
    ("N", "amount", [100], "234"),
    ("GT", "amount", [100], "24"),
    ("GTE", "amount", [100], "124"),
    ("LT", "amount", [250.5], "1"),
    ("LTE", "amount", ["250.5"], "12"),
    ("LIKE", "name", ["有限"], "124"),
    ("NLIKE", "name", ["有限"], "3"),
    ("IS", "remark", [], "24"),
    ("ISN", "remark", [], "13"),
    ("IN", "name", ["测试甲有限公司", "丙公司"], "13"),
    ("NIN", "name", ["测试甲有限公司", "丙公司"], "24"),
    ("BETWEEN", "amount", [100, 250.5], "12"),
    ("NBETWEEN", "amount", [100, 250.5], "34"),
    ("STARTWITH", "name", ["测试"], "12"),
    ("ENDWITH", "name", ["股份有限公司"], "2"),
    ("CONTAINS", "tags", ["乙"], "12"),
]


@pytest.mark.parametrize(("op", "field", "values", "expected"), CASES)
def test_every_filter_operator(
    probe: tuple[FxiaokeSandbox, dict[str, str], str, str],
    op: str,
    field: str,
    values: list[Any],
    expected: str,
) -> None:
    box, ids, amount, tags = probe
    name = {"amount": amount, "tags": tags}.get(field, field)
    if field == "tags":
        values = [
            box.field("标签").picklist[["甲", "乙", "丙"].index(v)].actual_value for v in values
        ]
    with box.inprocess() as c:
        filters = [{"field_name": name, "field_values": values, "operator": op}]
        answer = body_call(
            c, body_token(c), QUERY, query_data(limit=100, offset=0, filters=filters)
        )
    assert answer["errorCode"] == 0, answer
    got = {r["_id"] for r in answer["data"]["dataList"]}
    assert got == {ids[k] for k in expected}
    assert answer["data"]["total"] == len(expected)


def test_operators_are_the_references(
    probe: tuple[FxiaokeSandbox, dict[str, str], str, str],
) -> None:
    listed = (
        "EQ, N, GT, GTE, LT, LTE, LIKE, NLIKE, IS, ISN, IN, NIN, BETWEEN, NBETWEEN, "
        "STARTWITH, ENDWITH, CONTAINS"
    )
    assert {case[0] for case in CASES} == set(listed.split(", "))
    box = probe[0]
    with box.inprocess() as c:
        filters = [{"field_name": "name", "field_values": ["x"], "operator": "REGEX"}]
        answer = body_call(c, body_token(c), QUERY, query_data(limit=10, offset=0, filters=filters))
        assert answer["errorCode"] == CODES.param
        filters = [{"field_name": "no_such_field", "field_values": ["x"], "operator": "EQ"}]
        answer = body_call(c, body_token(c), QUERY, query_data(limit=10, offset=0, filters=filters))
        assert answer["errorCode"] == CODES.field


def test_orders_and_projection(probe: tuple[FxiaokeSandbox, dict[str, str], str, str]) -> None:
    box, ids, amount, _ = probe
    with box.inprocess() as c:
        token = body_token(c)
        orders = [{"fieldName": amount, "isAsc": False}]
        answer = body_call(
            c,
            token,
            QUERY,
            query_data(limit=10, offset=0, orders=orders, fieldProjection=["name", amount]),
        )
        rows = answer["data"]["dataList"]
        assert [r["_id"] for r in rows] == [ids["4"], ids["2"], ids["1"], ids["3"]]
        assert all(set(r) == {"_id", "name", amount} for r in rows)
        answer = body_call(
            c, token, QUERY, query_data(limit=10, offset=0, fieldProjection=["nope"])
        )
        assert answer["errorCode"] == CODES.field


def test_times_are_epoch_milliseconds(
    probe: tuple[FxiaokeSandbox, dict[str, str], str, str],
) -> None:
    box, ids, _, _ = probe
    box.clock.advance(3_600)
    with box.inprocess() as c:
        token = body_token(c)
        update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": ids["2"], "remark": "r"}}
        assert body_call(c, token, "/cgi/crm/v2/data/update", update)["errorCode"] == 0
        window = [START_MS + 1, START_MS + 3_600_000]
        filters = [
            {"field_name": "last_modified_time", "field_values": window, "operator": "BETWEEN"}
        ]
        answer = body_call(c, token, QUERY, query_data(limit=10, offset=0, filters=filters))
    rows = answer["data"]["dataList"]
    assert [r["_id"] for r in rows] == [ids["2"]]
    assert rows[0]["last_modified_time"] == START_MS + 3_600_000
    assert rows[0]["create_time"] == START_MS


# -- get, update, create -----------------------------------------------------------------------
def test_get_by_id(client: FxClient) -> None:
    first = next(client.query_all(ACCOUNT))
    assert client.get(ACCOUNT, first["_id"]) == first
    with pytest.raises(FxApiError) as missing:
        client.get(ACCOUNT, "5f3a3de5ffffffffffffffff")
    assert missing.value.code == CODES.not_found
    with pytest.raises(FxApiError) as unknown:
        client.get("NoSuchObj", first["_id"])
    assert unknown.value.code == CODES.object


def test_update_moves_last_modified_time_and_version(
    fxbox: FxiaokeSandbox, client: FxClient
) -> None:
    grade = fxbox.add_field("信用等级", "select_one", ["A", "B", "C"])
    limit = fxbox.add_field("信用额度(元)", "currency").api_name
    code_b = grade.picklist[1].actual_value
    record = next(client.query_all(ACCOUNT))
    fxbox.clock.advance(10)
    answer = client.update(ACCOUNT, record["_id"], {grade.api_name: code_b, limit: 50_000})
    assert answer["dataId"] == record["_id"] and answer["errorDescription"] == "success"
    after = client.get(ACCOUNT, record["_id"])
    assert after[grade.api_name] == code_b and after[limit] == 50_000
    assert after["last_modified_time"] == START_MS + 10_000
    assert int(after["version"]) == int(record["version"]) + 1
    client.update(ACCOUNT, record["_id"], {limit: 50_000})  # unchanged, same second
    again = client.get(ACCOUNT, record["_id"])
    assert again["last_modified_time"] > after["last_modified_time"]
    assert int(again["version"]) == int(after["version"]) + 1
    flags = [c.path for c in fxbox.calls() if c.endpoint == "POST /cgi/crm/v2/data/update"]
    assert flags[-1] == "/cgi/crm/v2/data/update?triggerWorkFlow=false&triggerApprovalFlow=false"
    log = fxbox.write_log()
    assert log[-2].changes[grade.api_name] == (None, code_b) and log[-1].changes == {}


def test_unchanged_updates_can_be_told_not_to_move(tmp_path: Path) -> None:
    box = FxiaokeSandbox(
        tmp_path / "u.db", settings=FxiaokeSettings(rate_per_second=0, unchanged_update_moves=False)
    )
    box.clock.freeze(START)
    (rid,) = box.load_records([{"name": "甲公司", "remark": "x"}])
    with box.inprocess() as c:
        update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": rid, "remark": "x"}}
        assert body_call(c, body_token(c), "/cgi/crm/v2/data/update", update)["errorCode"] == 0
    assert box.record(rid)["version"] == "1"


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"version": "9"}, CODES.field),
        ({"nope__c": 1}, CODES.field),
        ({"account_level": "不存在"}, CODES.field),
        ({"name": None}, CODES.field),
        ({"name": ""}, CODES.field),
        ({"owner": ["4242"]}, CODES.field),
    ],
)
def test_update_errors(client: FxClient, values: dict[str, Any], code: int) -> None:
    record = next(client.query_all(ACCOUNT))
    with pytest.raises(FxApiError) as refused:
        client.update(ACCOUNT, record["_id"], values)
    assert refused.value.code == code
    assert client.get(ACCOUNT, record["_id"]) == record


def test_update_without_flags_logs_the_documented_defaults(
    creds: FxiaokeCredentials, fxbox: FxiaokeSandbox
) -> None:
    rid = next(fxbox.records())["_id"]
    update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": rid, "remark": "y"}}
    assert body_call(creds, body_token(creds), "/cgi/crm/v2/data/update", update)["errorCode"] == 0
    assert fxbox.calls()[-1].path.endswith("?triggerWorkFlow=true&triggerApprovalFlow=true")


def test_follow_up_create(fxbox: FxiaokeSandbox, client: FxClient) -> None:
    account = next(client.query_all(ACCOUNT))["_id"]
    kind = client.describe("ActiveRecordObj")["active_record_type"]["options"]
    code = next(o["value"] for o in kind if o["label"] == "信用复核")
    values = {
        "dataObjectApiName": "ActiveRecordObj",
        "name": "信用复核:等级下调",
        "active_record_content": "风险等级由B降为D,请复核授信额度。",
        "active_record_type": code,
        "account_id": account,
    }
    answer = client.call(
        "/cgi/crm/v2/data/create",
        {"object_data": values},
        triggerWorkFlow=False,
        triggerApprovalFlow=False,
    )
    created = client.get("ActiveRecordObj", answer["dataId"])
    assert created["account_id"] == account and created["owner"] == [
        fxbox.credentials("").employee_id
    ]
    assert fxbox.calls()[-2].path.endswith("?triggerWorkFlow=false&triggerApprovalFlow=false")
    with pytest.raises(FxApiError) as missing:
        client.call(
            "/cgi/crm/v2/data/create",
            {
                "object_data": {
                    "dataObjectApiName": "ActiveRecordObj",
                    "name": "x",
                    "account_id": account,
                }
            },
        )
    assert missing.value.code == CODES.field
    with pytest.raises(FxApiError) as orphan:
        client.call(
            "/cgi/crm/v2/data/create",
            {"object_data": {**values, "account_id": "5f3a3de5ffffffffffffffff"}},
        )
    assert orphan.value.code == CODES.not_found


# -- describe ----------------------------------------------------------------------------------
def test_describe_has_generated_names_and_chinese_labels(
    fxbox: FxiaokeSandbox, client: FxClient, tmp_path: Path
) -> None:
    fields = client.describe(ACCOUNT)
    for name, label in (
        ("name", "客户名称"),
        ("account_no", "客户编号"),
        ("industry_level1", "1级行业"),
        ("owner", "负责人"),
        ("address", "详细地址"),
    ):
        assert fields[name]["label"] == label and fields[name]["define_type"] == "package"
    custom = [f for f in fields.values() if f["define_type"] == "custom"]
    assert len(custom) >= 50
    assert all(re.fullmatch(r"field_[A-Za-z0-9]{5}__c", f["api_name"]) for f in custom)
    assert all(re.search(r"[\u4e00-\u9fff]", f["label"]) for f in custom)
    status = client.field_by_label(ACCOUNT, "登记状态")
    assert status["type"] == "select_one"
    assert [o["label"] for o in status["options"]] == ["存续", "停业", "吊销", "注销", "清算"]
    assert all(o["value"] != o["label"] for o in status["options"])  # codes, not labels
    flags = fxbox.add_field("预警标记", "select_many", ["逾期", "诉讼", "其他"])
    shown = client.field_by_label(ACCOUNT, "预警标记")
    assert shown["api_name"] == flags.api_name and shown["type"] == "select_many"
    assert shown["options"][-1] == {"label": "其他", "value": "other"}
    revenue = client.field_by_label(ACCOUNT, "营业收入(万元)")
    assert revenue["type"] == "currency" and revenue["decimal_places"] == 2
    other = FxiaokeSandbox(tmp_path / "other.db")  # another tenant names the same label otherwise
    assert other.add_field("预警标记", "select_many", ["逾期"]).api_name != flags.api_name
    with pytest.raises(ValueError, match="exists already"):
        fxbox.add_field("预警标记", "text")


def test_there_is_no_field_creation_endpoint(creds: FxiaokeCredentials) -> None:
    for path in ("/cgi/crm/v2/object/field/create", "/cgi/crm/v2/object/addField"):
        response = requests.post(creds.base_url + path, json={}, timeout=10)
        assert response.status_code == 404


def test_object_list(client: FxClient) -> None:
    objects = client.call("/cgi/crm/v2/object/list", {})["data"]["objects"]
    assert {o["api_name"] for o in objects} == {ACCOUNT, "ActiveRecordObj"}


# -- limits and faults -------------------------------------------------------------------------
def test_the_rate_limit_per_second_of_sandbox_time(tmp_path: Path) -> None:
    box = FxiaokeSandbox(tmp_path / "r.db", settings=FxiaokeSettings(rate_per_second=3))
    box.clock.freeze(START)
    box.load_records([{"name": "甲公司"}])
    with box.inprocess() as c:
        token = body_token(c)
        data = query_data(limit=1, offset=0)
        codes = [body_call(c, token, QUERY, data)["errorCode"] for _ in range(5)]
        assert codes == [0, 0, 0, CODES.rate, CODES.rate]  # HTTP 200 all, Fxiaoke's envelope
        body_token(c)  # token endpoints are not counted
        box.clock.advance(1)
        assert body_call(c, token, QUERY, data)["errorCode"] == 0


def test_faults_answer_in_fxiaokes_envelope(tmp_path: Path) -> None:
    def box_with(**rates: Any) -> FxiaokeSandbox:
        box = FxiaokeSandbox(
            tmp_path / f"{next(iter(rates))}.db",
            settings=FxiaokeSettings(rate_per_second=0),
            faults=FaultProfile(**rates),
        )
        box.clock.freeze(START)
        box.load_records([{"name": "甲公司", "remark": "x"}])
        return box

    data = query_data(limit=1, offset=0)
    with box_with(rate_limit=1.0).inprocess() as c:
        assert body_call(c, body_token(c), QUERY, data)["errorCode"] == CODES.rate
    with box_with(server_error=1.0, server_error_statuses=(500, 502)).inprocess() as c:
        response = requests.post(c.base_url + QUERY, json={"data": data}, timeout=10)
        assert response.status_code in (500, 502)  # the only non-200s: transport faults
    box = box_with(token_expiry=1.0)
    with box.inprocess() as c:
        token = body_token(c)
        assert body_call(c, token, QUERY, data)["errorCode"] == 20016
        row = box.store.find_token(token)
        assert row is not None and row.expires_at == iso(START)  # it stays dead
    box = box_with(record_error=1.0)
    rid = next(box.records())["_id"]
    with box.inprocess() as c:
        update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": rid, "remark": "y"}}
        answer = body_call(c, body_token(c), "/cgi/crm/v2/data/update", update)
    assert answer["errorCode"] == CODES.validation and box.record(rid)["remark"] == "x"
    with box_with(drop=1.0).inprocess() as c, pytest.raises(requests.ConnectionError):
        body_call(c, body_token(c), QUERY, data)


def test_a_hand_edit_is_seen_by_an_incremental_read(
    fxbox: FxiaokeSandbox, client: FxClient
) -> None:
    record = next(client.query_all(ACCOUNT))
    fxbox.clock.advance(60)
    fxbox.hand_edit(record["_id"], {"remark": "客户要求提高额度"})
    since = [
        {"field_name": "last_modified_time", "field_values": [START_MS + 1], "operator": "GTE"}
    ]
    changed = list(client.query_all(ACCOUNT, filters=since))
    assert [r["_id"] for r in changed] == [record["_id"]]
    assert changed[0]["last_modified_by"] == ["1001"] and changed[0]["remark"] == "客户要求提高额度"
    entry = fxbox.write_log()[-1]
    assert entry.source == "hand" and entry.user_id == "1001"
    with pytest.raises(ValueError):
        fxbox.hand_edit(record["_id"], {"version": "7"})


def test_a_settings_file_changes_the_assumptions(tmp_path: Path) -> None:
    path = tmp_path / "fx-settings.yaml"
    path.write_text("max_limit: 1000\nrequire_trace_id: false\ncodes: {rate: 42}\n", "utf-8")
    settings = settings_file(path, FxiaokeSettings(rate_per_second=0))
    assert settings.max_limit == 1000 and settings.rate_per_second == 0
    assert settings.codes.rate == 42 and settings.codes.token == 20016
    box = FxiaokeSandbox(tmp_path / "s.db", settings=settings)
    box.load_records([{"name": f"公司{n}"} for n in range(3)])
    with box.inprocess() as c:
        access = header_token(c)["accessToken"]
        answer = header_call(c, access, QUERY, query_data(limit=500, offset=0), trace=False)
    assert answer["errorCode"] == 0 and answer["data"]["total"] == 3
    path.write_text("max_limit: 0\n", "utf-8")
    with pytest.raises(ConfigError):
        settings_file(path)


def test_a_lost_write_answer_still_wrote(tmp_path: Path) -> None:
    slept: list[float] = []
    box = FxiaokeSandbox(
        tmp_path / "lost.db",
        settings=FxiaokeSettings(rate_per_second=0),
        faults=FaultProfile(lost_write_answer=1.0, latency_ms=250),
        sleep=slept.append,
    )
    box.clock.freeze(START)
    (rid,) = box.load_records([{"name": "甲公司", "remark": "x"}])
    with box.inprocess() as c:
        token = body_token(c)
        assert body_call(c, token, QUERY, query_data(limit=1, offset=0))["errorCode"] == 0
        update = {"object_data": {"dataObjectApiName": ACCOUNT, "_id": rid, "remark": "y"}}
        with pytest.raises(requests.ConnectionError):
            body_call(c, token, "/cgi/crm/v2/data/update", update)
    assert box.record(rid)["remark"] == "y" and box.record(rid)["version"] == "2"
    assert slept == [0.25, 0.25]  # latency on both data calls, none on the token call


def test_a_write_between_pages_is_seen_by_the_same_query(
    fxbox: FxiaokeSandbox, client: FxClient
) -> None:
    orders = [{"fieldName": "last_modified_time", "isAsc": False}]
    first = client.query_page(ACCOUNT, 0, 10, orders=orders)["dataList"]
    oldest = client.query_page(ACCOUNT, 30, 10, orders=orders)["dataList"][-1]
    fxbox.clock.advance(5)
    client.update(ACCOUNT, oldest["_id"], {"remark": "新"})
    again = client.query_page(ACCOUNT, 0, 10, orders=orders)["dataList"]
    assert again[0]["_id"] == oldest["_id"] and again[0]["remark"] == "新"
    assert [r["_id"] for r in again[1:]] == [r["_id"] for r in first[:9]]
    fxbox.clock.advance(1)
    fxbox.hand_edit(first[0]["_id"], {"remark": "手工"})  # a write outside the API, too
    assert client.query_page(ACCOUNT, 0, 1, orders=orders)["dataList"][0]["_id"] == first[0]["_id"]
