"""Every documented request shape of zoho.md against the in-process Zoho dialect: status,
headers and body. Each answer is also checked against Zoho's OAS by the `api` fixture."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sandbox_helpers import START, TIMEOUT, Api, narrow
from werkzeug.http import http_date

from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.call import ZohoLimits

V8 = "/crm/v8"


def _ids(response: requests.Response) -> list[str]:
    return [r["id"] for r in response.json()["data"]]


# -- OAuth ------------------------------------------------------------------------------------
def test_refresh_grant_answer_keeps_sdks_on_the_sandbox(api: Api) -> None:
    body = api.fetch_token()
    assert set(body) == {"access_token", "api_domain", "token_type", "expires_in"}
    assert body["api_domain"] == "https://www.zohoapis.com"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_token_errors_are_http_200_with_error_body(api: Api) -> None:
    def post(**overrides: str) -> requests.Response:
        form = {
            "grant_type": "refresh_token",
            "client_id": api.creds.client_id,
            "client_secret": api.creds.client_secret,
            "refresh_token": api.creds.refresh_token,
            **overrides,
        }
        return requests.post(api.creds.token_url, data=form, timeout=TIMEOUT)

    for overrides, error in (
        ({"refresh_token": "1000.nope"}, "invalid_code"),
        ({"client_id": "1000.OTHER"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ):
        answer = post(**overrides)
        assert answer.status_code == 200
        assert answer.json() == {"error": error}
        assert answer.headers["Date"] == http_date(START)


def test_authorization_code_is_spent_once(box: ZohoSandbox, api: Api) -> None:
    code = box.auth.mint_grant_code(("ZohoCRM.modules.ALL",))
    form = {
        "grant_type": "authorization_code",
        "client_id": api.creds.client_id,
        "client_secret": api.creds.client_secret,
        "code": code,
    }
    first = requests.post(api.creds.token_url, data=form, timeout=TIMEOUT).json()
    assert {"access_token", "refresh_token", "expires_in"} <= set(first)
    again = requests.post(api.creds.token_url, data=form, timeout=TIMEOUT).json()
    assert again == {"error": "invalid_code"}


def test_client_credentials_grant_has_no_refresh_token_and_its_scope(api: Api) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": api.creds.client_id,
        "client_secret": api.creds.client_secret,
        "scope": "ZohoCRM.org.READ",
    }
    body = requests.post(api.creds.token_url, data=form, timeout=TIMEOUT).json()
    assert "refresh_token" not in body
    api.token = body["access_token"]
    assert api.get(f"{V8}/org").status_code == 200
    assert api.get(f"{V8}/Accounts", params={"fields": "Account_Name"}).status_code == 401


def test_access_token_expires_on_the_sandbox_clock(box: ZohoSandbox, api: Api) -> None:
    api.fetch_token()
    box.clock.advance(3599)
    assert api.get(f"{V8}/org").status_code == 200
    box.clock.advance(1)
    answer = api.get(f"{V8}/org")
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    assert answer.headers["Date"] == http_date(START + timedelta(seconds=3600))


def test_tokens_survive_a_new_app_on_the_same_file(box: ZohoSandbox, tmp_path: Path) -> None:
    with box.inprocess() as creds:
        api = Api(creds)
        api.fetch_token()
    again = ZohoSandbox(box.db)
    with again.inprocess():
        assert Api(creds, api.token).get(f"{V8}/org").status_code == 200


def test_missing_or_foreign_authorization_header(api: Api) -> None:
    for header in ({}, {"Authorization": "Bearer abc"}):
        answer = requests.get(api.creds.api_base + f"{V8}/org", headers=header, timeout=TIMEOUT)
        assert answer.status_code == 401
        assert answer.json()["code"] == "AUTHENTICATION_FAILURE"


@pytest.mark.parametrize(
    ("scopes", "method", "path", "kwargs"),
    [
        (("ZohoCRM.modules.accounts.READ",), "PUT", "/Accounts", {"json": {"data": [{"id": 1}]}}),
        (("ZohoCRM.modules.accounts.UPDATE",), "GET", "/Accounts", {"params": {"fields": "id"}}),
        (("ZohoCRM.modules.ALL",), "GET", "/settings/fields", {"params": {"module": "Accounts"}}),
        (("ZohoCRM.modules.ALL",), "GET", "/Accounts/search", {"params": {"word": "x"}}),
        (("ZohoCRM.settings.fields.READ",), "POST", "/settings/fields?module=Accounts", {}),
        (("ZohoCRM.modules.contacts.ALL",), "GET", "/Accounts", {"params": {"fields": "id"}}),
        (("ZohoCRM.settings.ALL",), "GET", "/users", {"params": {"type": "CurrentUser"}}),
    ],
)
def test_scope_mismatch(
    box: ZohoSandbox,
    api: Api,
    scopes: tuple[str, ...],
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    answer = narrow(box, api.creds, *scopes).call(method, V8 + path, **kwargs)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "OAUTH_SCOPE_MISMATCH",
        "details": {},
        "message": "invalid oauth scope to access this URL",
        "status": "error",
    }


def test_narrow_scopes_that_suffice(box: ZohoSandbox, api: Api) -> None:
    reader = narrow(
        box,
        api.creds,
        "ZohoCRM.modules.accounts.READ",
        "ZohoSearch.securesearch.READ",
        "ZohoCRM.settings.fields.READ",
    )
    assert reader.get(f"{V8}/Accounts", params={"fields": "Account_Name"}).status_code == 200
    assert reader.get(f"{V8}/Accounts/search", params={"word": "a"}).status_code == 200
    assert reader.get(f"{V8}/settings/fields", params={"module": "Accounts"}).status_code == 200


# -- list -------------------------------------------------------------------------------------
def test_list_needs_fields_in_v8_not_in_v2(api: Api) -> None:
    answer = api.get(f"{V8}/Accounts")
    assert answer.status_code == 400
    assert answer.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert answer.json()["details"] == {"param_name": "fields"}
    v2 = api.get("/crm/v2/Accounts")
    assert v2.status_code == 200
    assert "Total_Assets" in v2.json()["data"][0]


def test_list_answer_shape(api: Api) -> None:
    answer = api.get(
        f"{V8}/Accounts", params={"fields": "Account_Name,Total_Assets", "per_page": 10}
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert answer.headers["Date"] == http_date(START)
    body = answer.json()
    assert [set(r) for r in body["data"]] == [{"id", "Account_Name", "Total_Assets"}] * 10
    assert all(r["id"].isdigit() and len(r["id"]) == 19 for r in body["data"])
    info = body["info"]
    assert {k: info[k] for k in ("per_page", "count", "page", "more_records")} == {
        "per_page": 10,
        "count": 10,
        "page": 1,
        "more_records": True,
    }
    assert (info["sort_by"], info["sort_order"]) == ("id", "desc")
    assert info["next_page_token"]
    assert info["page_token_expiry"] == (START + timedelta(hours=24)).isoformat()
    assert "previous_page_token" not in info
    ids = [int(i) for i in _ids(answer)]
    assert ids == sorted(ids, reverse=True)


def test_list_field_limits(api: Api) -> None:
    too_many = ",".join(["Account_Name"] + [f"F{i}" for i in range(50)])
    answer = api.get(f"{V8}/Accounts", params={"fields": too_many})
    assert answer.status_code == 400
    assert answer.json()["code"] == "LIMIT_EXCEEDED"
    assert answer.json()["details"]["limit"] == 50
    unknown = api.get(f"{V8}/Accounts", params={"fields": "Account_Name,Nope"})
    assert unknown.status_code == 400
    assert unknown.json()["details"]["api_name"] == "Nope"
    assert api.get(f"{V8}/Accounts", params={"fields": "id", "per_page": 201}).status_code == 400
    fifty = ",".join(f.api_name for f in api_fields(api)[:50])
    assert api.get(f"{V8}/Accounts", params={"fields": fifty}).status_code == 200


def api_fields(api: Api) -> list[Any]:
    from crmqual.sandbox.zoho.schema import MODULE

    answer = api.get(f"{V8}/settings/fields", params={"module": MODULE})
    return [type("F", (), {"api_name": f["api_name"]}) for f in answer.json()["fields"]]


def test_documented_limits_are_the_defaults() -> None:
    limits = ZohoLimits()
    assert (limits.per_page, limits.fields_per_call, limits.records_per_write) == (200, 50, 100)
    assert (limits.page_records, limits.page_token_records, limits.ids_per_call) == (
        2000,
        100_000,
        100,
    )


@pytest.fixture
def paged(tmp_path: Path) -> Any:
    """A sandbox of 95 accounts with limits scaled down 100-fold: page reaches 20 records,
    page_token 60 (the shape of 2,000 and 100,000)."""
    box = ZohoSandbox(
        tmp_path / "paged.db", limits=ZohoLimits(page_records=20, page_token_records=60)
    )
    box.clock.freeze(START)
    box.load_records({"Account_Name": f"Company {n}"} for n in range(95))
    with box.inprocess() as creds:
        yield box, Api(creds)


def test_page_stops_at_the_limit_and_page_token_continues(paged: Any) -> None:
    _, api = paged
    params = {"fields": "Account_Name", "per_page": 10, "sort_order": "asc"}
    seen: list[str] = []
    for page in (1, 2):
        answer = api.get(f"{V8}/Accounts", params={**params, "page": page})
        seen += _ids(answer)
    over = api.get(f"{V8}/Accounts", params={**params, "page": 3})
    assert over.status_code == 400
    assert over.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    assert over.json()["details"] == {"limit": 20}
    token = answer.json()["info"]["next_page_token"]
    both = api.get(f"{V8}/Accounts", params={**params, "page": 2, "page_token": token})
    assert both.status_code == 400
    pages = 2
    while True:
        answer = api.get(
            f"{V8}/Accounts", params={"fields": "Account_Name", "per_page": 10, "page_token": token}
        )
        if answer.status_code != 200:
            break
        pages += 1
        seen += _ids(answer)
        info = answer.json()["info"]
        assert info["page"] == pages
        if not info["more_records"]:
            break
        token = info["next_page_token"]
    # The ceiling: 60 records reachable, then the token is refused.
    assert len(seen) == 60 == len(set(seen))
    assert seen == sorted(seen)
    assert answer.status_code == 400
    assert answer.json()["code"] == "LIMIT_EXCEEDED"
    assert answer.json()["details"]["limit"] == 60


def test_v2_pages_past_the_page_limit(paged: Any) -> None:
    _, api = paged
    answer = api.get("/crm/v2/Accounts", params={"per_page": 10, "page": 10})
    assert answer.status_code == 200
    assert answer.json()["info"]["count"] == 5
    assert answer.json()["info"]["more_records"] is False
    assert "next_page_token" not in answer.json()["info"]


def test_page_token_expires_after_24_hours(paged: Any) -> None:
    box, api = paged
    first = api.get(f"{V8}/Accounts", params={"fields": "id", "per_page": 10})
    token = first.json()["info"]["next_page_token"]
    box.clock.advance(24 * 3600)
    api.fetch_token()
    answer = api.get(f"{V8}/Accounts", params={"fields": "id", "page_token": token})
    assert answer.status_code == 400
    assert answer.json()["details"]["param_name"] == "page_token"


def test_sort_by_modified_time_and_if_modified_since(box: ZohoSandbox, api: Api) -> None:
    ids = [r["id"] for r in box.records()]
    box.clock.advance(60)
    box.hand_edit(ids[3], {"Phone": "+1-555-0000"})
    box.clock.advance(60)
    box.hand_edit(ids[1], {"Phone": "+1-555-0001"})
    api.fetch_token()
    since = (START + timedelta(seconds=30)).isoformat()
    answer = api.get(
        f"{V8}/Accounts",
        params={
            "fields": "Modified_Time,Modified_By",
            "sort_by": "Modified_Time",
            "sort_order": "asc",
        },
        headers={"If-Modified-Since": since},
    )
    assert answer.status_code == 200
    assert _ids(answer) == [ids[3], ids[1]]
    assert answer.json()["data"][1]["Modified_Time"] == (START + timedelta(seconds=120)).isoformat()
    assert answer.json()["data"][1]["Modified_By"]["name"] == "Li Wei"
    later = (START + timedelta(seconds=500)).isoformat()
    none = api.get(f"{V8}/Accounts", params={"fields": "id"}, headers={"If-Modified-Since": later})
    assert none.status_code == 304
    assert none.content == b""
    assert none.headers["Date"] == http_date(START + timedelta(seconds=120))
    bad = api.get(f"{V8}/Accounts", params={"fields": "id", "sort_by": "Account_Name"})
    assert bad.status_code == 400


def test_ids_and_their_cap(box: ZohoSandbox, api: Api) -> None:
    ids = [r["id"] for r in box.records()][:5]
    answer = api.get(f"{V8}/Accounts", params={"fields": "Account_Name", "ids": ",".join(ids)})
    assert sorted(_ids(answer)) == sorted(ids)
    assert answer.json()["info"]["more_records"] is False
    many = ",".join(str(10**18 + n) for n in range(101))
    over = api.get(f"{V8}/Accounts", params={"fields": "id", "ids": many})
    assert over.status_code == 400
    assert over.json()["code"] == "LIMIT_EXCEEDED"
    assert over.json()["details"]["limit"] == 100


def test_custom_view_filters_and_empty_is_204(box: ZohoSandbox, api: Api) -> None:
    customers = box.add_custom_view("Customers", "(Account_Type:equals:Customer)")
    answer = api.get(f"{V8}/Accounts", params={"fields": "Account_Type", "cvid": customers})
    expected = sum(1 for r in box.records() if r["Account_Type"] == "Customer")
    assert answer.json()["info"]["count"] == expected > 0
    assert {r["Account_Type"] for r in answer.json()["data"]} == {"Customer"}
    nobody = box.add_custom_view("Nobody", "(Account_Name:equals:No Such Company)")
    empty = api.get(f"{V8}/Accounts", params={"fields": "id", "cvid": nobody})
    assert empty.status_code == 204
    assert empty.content == b""
    clash = api.get(f"{V8}/Accounts", params={"fields": "id", "cvid": customers, "sort_by": "id"})
    assert clash.status_code == 400


def test_get_one_record(box: ZohoSandbox, api: Api) -> None:
    record_id = next(box.records())["id"]
    answer = api.get(f"{V8}/Accounts/{record_id}")
    assert answer.status_code == 200
    (record,) = answer.json()["data"]
    assert record["id"] == record_id
    assert record["Created_By"]["id"] == "5725767000000000011"
    assert api.get(f"{V8}/Accounts/1234").status_code == 204


def test_search(box: ZohoSandbox, api: Api) -> None:
    name = next(box.records())["Account_Name"]
    crit = f"(Account_Name:equals:{name.replace(',', chr(92) + ',')})"
    found = api.get(f"{V8}/Accounts/search", params={"criteria": crit})
    assert found.status_code == 200
    assert [r["Account_Name"] for r in found.json()["data"]] == [name]
    ranged = api.get(
        f"{V8}/Accounts/search",
        params={"criteria": "((Total_Assets:greater_than:0)and(Overdue_Count:equals:0))"},
    )
    expected = sum(1 for r in box.records() if r["Total_Assets"] > 0 and r["Overdue_Count"] == 0)
    assert ranged.json()["info"]["count"] == expected
    v2 = api.get("/crm/v2/Accounts/search", params={"criteria": "(Total_Assets:greater_than:0)"})
    assert v2.status_code == 400
    assert api.get(f"{V8}/Accounts/search", params={"word": "zzzzqqq"}).status_code == 204
    missing = api.get(f"{V8}/Accounts/search")
    assert missing.status_code == 400
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    assert (
        api.get(f"{V8}/Accounts/search", params={"criteria": "(Nope:equals:1)"}).status_code == 400
    )


# -- update -----------------------------------------------------------------------------------
def test_update_moves_modified_time_and_logs_the_write(box: ZohoSandbox, api: Api) -> None:
    record_id = next(box.records())["id"]
    box.clock.advance(90)
    api.fetch_token()
    body = json.dumps({"data": [{"id": int(record_id), "External_Rating": "AA+"}], "trigger": []})
    answer = api.put(f"{V8}/Accounts", data=body)  # no Content-Type, like zcrmsdk
    assert answer.status_code == 200
    (item,) = answer.json()["data"]
    assert (item["code"], item["status"], item["message"]) == (
        "SUCCESS",
        "success",
        "record updated",
    )
    stamp = (START + timedelta(seconds=90)).isoformat()
    assert item["details"]["Modified_Time"] == stamp
    assert item["details"]["id"] == record_id
    assert item["details"]["Modified_By"]["name"] == "Sandbox Admin"
    assert box.record(record_id)["Modified_Time"] == stamp
    (entry,) = box.write_log(record_id=record_id)
    assert entry.source == "api"
    assert entry.client.startswith("python-requests/")
    assert entry.at == stamp
    assert list(entry.changes) == ["External_Rating"]
    # Writing the same value again still moves Modified_Time (the sandbox's assumption).
    box.clock.advance(10)
    again = api.put(f"{V8}/Accounts/{record_id}", json={"data": [{"External_Rating": "AA+"}]})
    assert again.json()["data"][0]["details"]["Modified_Time"] > stamp
    assert box.write_log(record_id=record_id)[-1].changes == {}


def test_update_per_record_errors(box: ZohoSandbox, api: Api) -> None:
    ids = [r["id"] for r in box.records()][:6]
    data = [
        {"id": ids[0], "Business_Status": "Suspended"},
        {"id": ids[1], "Business_Status": "Bankrupt-ish"},
        {"id": "999", "Account_Name": "x"},
        {"Account_Name": "no id"},
        {"id": ids[2], "Account_Name": None},
        {"id": ids[3], "Modified_Time": "2026-01-01T00:00:00+00:00"},
        {"id": ids[4], "Employees": "many"},
        {"id": ids[5], "Account_Number": "x" * 41},
    ]
    answer = api.put(f"{V8}/Accounts", json={"data": data})
    assert answer.status_code == 207
    items = answer.json()["data"]
    assert [i["code"] for i in items] == [
        "SUCCESS",
        "INVALID_DATA",
        "INVALID_DATA",
        "MANDATORY_NOT_FOUND",
        "MANDATORY_NOT_FOUND",
        "INVALID_DATA",
        "INVALID_DATA",
        "INVALID_DATA",
    ]
    assert items[1]["details"] == {
        "expected_data_type": "picklist",
        "api_name": "Business_Status",
        "json_path": "$.data[1].Business_Status",
    }
    assert items[2]["details"] == {"id": "999"}
    assert items[3]["details"] == {"api_name": "id", "json_path": "$.data[3].id"}
    assert items[6]["details"]["expected_data_type"] == "integer"
    assert items[7]["details"]["maximum_length"] == 40
    assert box.record(ids[1])["Business_Status"] != "Bankrupt-ish"
    assert [w.record_id for w in box.write_log()] == [int(ids[0])]


def test_update_all_failing_and_batch_limits(box: ZohoSandbox, api: Api) -> None:
    failing = api.put(f"{V8}/Accounts", json={"data": [{"id": "1", "Phone": "1"}]})
    assert failing.status_code == 400
    assert failing.json()["data"][0]["code"] == "INVALID_DATA"
    record_id = next(box.records())["id"]
    over = api.put(f"{V8}/Accounts", json={"data": [{"id": record_id}] * 101})
    assert over.status_code == 400
    assert over.json()["code"] == "LIMIT_EXCEEDED"
    assert over.json()["details"]["limit"] == 100
    hundred = api.put(f"{V8}/Accounts", json={"data": [{"id": record_id, "Phone": "1"}] * 100})
    assert hundred.status_code == 200
    no_data = api.put(f"{V8}/Accounts", json={"trigger": []})
    assert no_data.status_code == 400
    assert no_data.json()["code"] == "MANDATORY_NOT_FOUND"


# -- fields -----------------------------------------------------------------------------------
def test_fields_metadata(api: Api) -> None:
    answer = api.get(f"{V8}/settings/fields", params={"module": "Accounts"})
    assert answer.status_code == 200
    fields = {f["api_name"]: f for f in answer.json()["fields"]}
    assert fields["Total_Assets"]["data_type"] == "currency"
    assert fields["Total_Assets"]["custom_field"] is True
    assert fields["Account_Name"]["system_mandatory"] is True
    assert [v["display_value"] for v in fields["Business_Status"]["pick_list_values"]][:2] == [
        "-None-",
        "Active",
    ]
    assert fields["Parent_Account"]["lookup"]["module"] == {
        "api_name": "Accounts",
        "id": "5725767000000000031",
    }
    v2 = api.get("/crm/v2/settings/fields", params={"module": "Accounts"}).json()["fields"]
    assert {f["api_name"]: f for f in v2}["Parent_Account"]["lookup"]["module"] == "Accounts"
    one = api.get(f"{V8}/settings/fields/{fields['Cash']['id']}", params={"module": "Accounts"})
    assert [f["api_name"] for f in one.json()["fields"]] == ["Cash"]


def test_fields_errors(api: Api) -> None:
    missing = api.get(f"{V8}/settings/fields")
    assert missing.status_code == 400
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"
    wrong = api.get(f"{V8}/settings/fields", params={"module": "Nope"})
    assert wrong.json() == {
        "code": "INVALID_MODULE",
        "details": {"api_name": "Nope"},
        "message": "The module name given seems to be invalid",
        "status": "error",
    }
    assert (
        api.get(
            f"{V8}/settings/fields", params={"module": "Accounts", "type": "unused"}
        ).status_code
        == 204
    )


def _create(api: Api, *fields: dict[str, Any]) -> requests.Response:
    return api.post(f"{V8}/settings/fields?module=Accounts", json={"fields": list(fields)})


def test_custom_field_creation_and_picklist_append(box: ZohoSandbox, api: Api) -> None:
    grade = {
        "field_label": "Risk Grade",
        "data_type": "picklist",
        "tooltip": {"name": "info_icon", "value": "A best .. E worst"},
        "pick_list_values": [{"display_value": v, "actual_value": v} for v in "ABCDE"],
    }
    answer = _create(api, grade, {"field_label": "Risk Reasons 理由", "data_type": "textarea"})
    assert answer.status_code == 201
    items = answer.json()["fields"]
    assert [i["code"] for i in items] == ["SUCCESS", "SUCCESS"]
    fields = {
        f["api_name"]: f
        for f in api.get(f"{V8}/settings/fields", params={"module": "Accounts"}).json()["fields"]
    }
    assert fields["Risk_Grade"]["id"] == items[0]["details"]["id"]
    assert fields["Risk_Reasons"]["field_label"] == "Risk Reasons 理由"
    record_id = next(box.records())["id"]
    assert (
        api.put(f"{V8}/Accounts", json={"data": [{"id": record_id, "Risk_Grade": "B"}]}).status_code
        == 200
    )
    assert (
        api.put(f"{V8}/Accounts", json={"data": [{"id": record_id, "Risk_Grade": "F"}]}).status_code
        == 400
    )
    patch = api.patch(
        f"{V8}/settings/fields/{items[0]['details']['id']}?module=Accounts",
        json={"fields": [{"pick_list_values": [{"display_value": "F", "actual_value": "F"}]}]},
    )
    assert patch.status_code == 200
    assert patch.json()["fields"][0]["message"] == "field updated"
    assert (
        api.put(f"{V8}/Accounts", json={"data": [{"id": record_id, "Risk_Grade": "F"}]}).status_code
        == 200
    )
    values = [
        v["display_value"]
        for v in api.get(
            f"{V8}/settings/fields/{items[0]['details']['id']}", params={"module": "Accounts"}
        ).json()["fields"][0]["pick_list_values"]
    ]
    assert values == ["A", "B", "C", "D", "E", "F"]


def test_custom_field_creation_errors(box: ZohoSandbox, api: Api) -> None:
    def first_error(answer: requests.Response) -> tuple[int, str, dict[str, Any]]:
        (error,) = answer.json()["fields"]
        return answer.status_code, error["code"], error["details"]

    assert first_error(_create(api, {"data_type": "text"})) == (
        400,
        "MANDATORY_NOT_FOUND",
        {"api_name": "field_label", "json_path": "$.fields[0].field_label"},
    )
    assert (
        first_error(_create(api, {"field_label": "Grade", "data_type": "picklist"}))[1]
        == "MANDATORY_NOT_FOUND"
    )
    assert (
        first_error(_create(api, {"field_label": "Odd", "data_type": "hologram"}))[1]
        == "INVALID_DATA"
    )
    status, code, details = first_error(
        _create(api, {"field_label": "Long", "data_type": "text", "length": 300})
    )
    assert (status, code, details["maximum_length"]) == (400, "INVALID_DATA", 255)
    assert (
        first_error(_create(api, {"field_label": "Total Assets", "data_type": "text"}))[1]
        == "DUPLICATE_DATA"
    )
    six = [{"field_label": f"F {n}", "data_type": "text"} for n in range(6)]
    status, code, details = first_error(_create(api, *six))
    assert (status, code, details["limit"]) == (400, "LIMIT_EXCEEDED", 5)
    before = len(box.store.fields("Accounts"))
    _create(api, {"field_label": "Fine", "data_type": "text"}, {"data_type": "text"})
    assert len(box.store.fields("Accounts")) == before  # all or nothing


def test_custom_field_quota(tmp_path: Path) -> None:
    box = ZohoSandbox(tmp_path / "q.db", limits=ZohoLimits(custom_fields=2))
    with box.inprocess() as creds:
        api = Api(creds)
        assert _create(api, {"field_label": "One", "data_type": "text"}).status_code == 201
        answer = _create(
            api,
            {"field_label": "Two", "data_type": "text"},
            {"field_label": "Three", "data_type": "text"},
        )
        assert answer.status_code == 400
        (error,) = answer.json()["fields"]
        assert error["details"] == {
            "limit": 2,
            "limit_due_to": [{"api_name": "fields", "json_path": "$.fields[1]"}],
        }


# -- org, users, routing, observation ---------------------------------------------------------
def test_current_user_org_and_modules(api: Api) -> None:
    user = api.get(f"{V8}/users", params={"type": "CurrentUser"}).json()["users"]
    assert [u["email"] for u in user] == ["admin@crmqual-sandbox.test"]
    assert api.get("/crm/v2/org").json()["org"][0]["zgid"] == "5725767000000000051"
    modules = api.get(f"{V8}/settings/modules").json()["modules"]
    assert [m["api_name"] for m in modules] == ["Accounts", "Tasks"]
    since = {"If-Modified-Since": "2100-01-01T00:00:00+00:00"}
    assert api.get(f"{V8}/settings/modules", headers=since).status_code == 304
    since = {"If-Modified-Since": "2000-01-01T00:00:00+00:00"}
    assert api.get(f"{V8}/settings/modules", headers=since).status_code == 200


def test_unknown_route_and_method(api: Api) -> None:
    answer = api.get(f"{V8}/Accounts/actions/nothing")
    assert answer.status_code == 404
    assert answer.json()["code"] == "INVALID_URL_PATTERN"
    assert answer.headers["Date"] == http_date(START)
    assert api.call("DELETE", f"{V8}/org").status_code == 405


def test_calls_are_counted_per_endpoint(box: ZohoSandbox, api: Api) -> None:
    api.get(f"{V8}/Accounts", params={"fields": "id"})
    api.get(f"{V8}/Accounts", params={"fields": "id"})
    api.get("/crm/v2/Accounts")
    counts = box.call_counts()
    assert counts["GET /crm/v8/{module}"] == 2
    assert counts["GET /crm/v2/{module}"] == 1
    assert counts["POST /oauth/v2/token"] == 1


# -- COQL -------------------------------------------------------------------------------------
def _coql(api: Api, query: str, version: str = "v8") -> requests.Response:
    return api.post(f"/crm/{version}/coql", json={"select_query": query})


def test_coql_select_where_order_limit(box: ZohoSandbox, api: Api) -> None:
    answer = _coql(
        api,
        "select Account_Name, Total_Assets from Accounts "
        "where (Total_Assets > 0 and Account_Type = 'Customer') or Overdue_Count >= 3 "
        "order by Total_Assets desc limit 1, 5",
    )
    assert answer.status_code == 200
    rows = [
        r
        for r in box.records()
        if (r["Total_Assets"] > 0 and r["Account_Type"] == "Customer") or r["Overdue_Count"] >= 3
    ]
    rows.sort(key=lambda r: r["Total_Assets"], reverse=True)
    body = answer.json()
    assert [r["id"] for r in body["data"]] == [r["id"] for r in rows[1:6]]
    assert set(body["data"][0]) == {"id", "Account_Name", "Total_Assets"}
    assert body["info"] == {"count": 5, "more_records": len(rows) > 6}
    query = "select Account_Name from Accounts where Account_Name like '%有限公司' limit 200"
    like = _coql(api, query)
    assert all(r["Account_Name"].endswith("有限公司") for r in like.json()["data"])
    ids = [r["id"] for r in box.records()][:2]
    chosen = _coql(api, f"select id from Accounts where id in ({ids[0]}, {ids[1]})")
    assert sorted(r["id"] for r in chosen.json()["data"]) == sorted(ids)


def test_coql_errors(api: Api) -> None:
    syntax = _coql(api, "select from Accounts where id is not null")
    assert (syntax.status_code, syntax.json()["code"]) == (400, "SYNTAX_ERROR")
    assert _coql(api, "select Account_Name from Accounts").json()["code"] == "SYNTAX_ERROR"
    column = _coql(api, "select Nope from Accounts where id is not null")
    assert column.json() == {
        "code": "INVALID_QUERY",
        "details": {"column_name": "Nope"},
        "message": "column given seems to be invalid",
        "status": "error",
    }
    over = _coql(api, "select id from Accounts where id is not null limit 2001")
    assert (over.status_code, over.json()["code"]) == (400, "LIMIT_EXCEEDED")
    far = _coql(api, "select id from Accounts where id is not null limit 9000, 2000")
    assert far.json()["details"] == {"limit": 10000, "by": "offset"}
    v2 = _coql(api, "select id from Accounts where id is not null limit 201", version="v2")
    assert v2.json()["details"]["limit"] == 200
    none = _coql(api, "select id from Accounts where Account_Name = 'No Such Company'")
    assert none.status_code == 204


def test_coql_scopes(box: ZohoSandbox, api: Api) -> None:
    query = "select id from Accounts where id is not null"
    assert _coql(narrow(box, api.creds, "ZohoCRM.coql.READ"), query).status_code == 200
    assert _coql(narrow(box, api.creds, "ZohoCRM.modules.ALL"), query).status_code == 200
    assert _coql(narrow(box, api.creds, "ZohoCRM.settings.ALL"), query).status_code == 401
