"""The Salesforce dialect's answers and errors, checked against
shared/reference/salesforce.md (in-process, on Salesforce's own host names)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sf_helpers import START, Rest, grant, login, make_box, new_field

from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.call import SalesforceLimits
from crmqual.sandbox.salesforce.ids import checksum, parse_id, sf_id
from crmqual.sandbox.salesforce.quota import Gate, Quota

SESSION_ERROR = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


# -- ids ------------------------------------------------------------------------------------------
def test_ids_are_18_characters_with_salesforce_checksum() -> None:
    assert checksum("00300000003T2PG") == "AA0"  # Salesforce's documented example pair
    assert checksum("001A0000006Vm9r") == "IAC"
    ident = sf_id("001", 123_456_789)
    assert len(ident) == 18 and ident[15:] == checksum(ident[:15])
    assert parse_id(ident) == ("001", 123_456_789)
    assert parse_id(ident.upper()) == ("001", 123_456_789)  # case-insensitive through the suffix
    assert parse_id(ident[:15]) == ("001", 123_456_789)
    assert parse_id("nonsense") is None
    assert sorted(sf_id("001", n) for n in (5, 70, 4000)) == [
        sf_id("001", n) for n in (5, 70, 4000)
    ]


# -- sessions and limits --------------------------------------------------------------------------
def test_invalid_session_is_a_json_array_401(creds: SalesforceCredentials) -> None:
    rest = Rest(creds, token="bogus")
    answer = rest.query("SELECT Id FROM Account")
    assert answer.status_code == 401 and answer.json() == SESSION_ERROR
    assert answer.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_sessions_expire_after_the_configured_time(box: SalesforceSandbox) -> None:
    with box.inprocess() as creds:
        rest = Rest(creds)
        assert rest.query("SELECT Id FROM Account LIMIT 1").status_code == 200
        box.clock.advance(7200)
        answer = rest.query("SELECT Id FROM Account LIMIT 1")
        assert answer.status_code == 401 and answer.json() == SESSION_ERROR


def test_sessions_expire_after_a_number_of_calls_and_simple_salesforce_logs_in_again(
    tmp_path: Path,
) -> None:
    from simple_salesforce import Salesforce

    box = make_box(tmp_path / "s.db", accounts=5, limits=SalesforceLimits(session_calls=2))
    with box.inprocess() as c:
        sf = Salesforce(username=c.username, password=c.password, security_token=c.security_token)
        first = sf.session_id
        for _ in range(3):
            assert sf.query("SELECT Id FROM Account")["totalSize"] == 5
    assert sf.session_id != first
    assert [c.status for c in box.calls() if "query" in c.endpoint] == [200, 200, 401, 200]


def test_every_rest_answer_carries_sforce_limit_info_and_limits_agree(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    first = rest.query("SELECT Id FROM Account LIMIT 1")
    assert first.headers["Sforce-Limit-Info"] == f"api-usage=1/{box.quota.allowance}"
    limits = rest.call("GET", "/limits/").json()
    assert limits["DailyApiRequests"] == {"Max": 110_000, "Remaining": 110_000 - 2}


def test_request_limit_exceeded_at_the_daily_allowance(tmp_path: Path) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceRefusedRequest

    box = make_box(tmp_path / "q.db", accounts=3, quota=Quota("developer", 3))
    with box.inprocess() as c:
        rest = Rest(c)
        for n in (1, 2, 3):
            answer = rest.query("SELECT Id FROM Account")
            assert answer.status_code == 200
            assert answer.headers["Sforce-Limit-Info"] == f"api-usage={n}/3"
        refused = rest.query("SELECT Id FROM Account")
        assert refused.status_code == 403
        assert refused.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert refused.headers["Sforce-Limit-Info"] == "api-usage=3/3"
        sf = Salesforce(username=c.username, password=c.password, security_token=c.security_token)
        with pytest.raises(SalesforceRefusedRequest):
            sf.query("SELECT Id FROM Account")
        box.clock.advance(24 * 3600 + 60)  # the rolling window moves on
        assert Rest(c).query("SELECT Id FROM Account").status_code == 200
    assert box.api_usage()["spent"] == 1


def test_editions_set_the_allowance() -> None:
    assert Quota("developer").allowance == 15_000
    assert Quota("enterprise").allowance == 110_000
    assert Quota("unlimited").allowance == 150_000
    assert Quota("sandbox").allowance == 5_000_000
    assert Quota("developer").concurrency == 5 and Quota("enterprise").concurrency == 25


def test_the_concurrency_limit_answers_request_limit_exceeded(box: SalesforceSandbox) -> None:
    app = box.app("https://crmqual-sandbox.my.salesforce.com")
    app.guard.gate = Gate(1)
    assert app.guard.gate.enter()  # one long request holds the only slot
    from crmqual.sandbox.inprocess import route

    with route(app, ["https://crmqual-sandbox.my.salesforce.com"]):
        creds = box.credentials("https://login.salesforce.com", app.instance_url or "")
        answer = Rest(creds).query("SELECT Id FROM Account")
    assert answer.status_code == 403
    assert answer.json()[0] == {
        "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
    }


# -- query ----------------------------------------------------------------------------------------
def test_malformed_query_and_invalid_field_shapes(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    bad = rest.query("SELECT Id FROM")
    assert bad.status_code == 400
    (error,) = bad.json()
    assert error["errorCode"] == "MALFORMED_QUERY" and "unexpected token" in error["message"]
    unknown = rest.query("SELECT Id, Nope__c FROM Account")
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nope__c' on entity 'Account'" in unknown.json()[0]["message"]
    quoted = rest.query("SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01T00:00:00Z'")
    assert quoted.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in quoted.text
    escape = rest.query(r"SELECT Id FROM Account WHERE Name = 'a\x'")
    assert escape.json()[0]["errorCode"] == "MALFORMED_QUERY"
    kind = rest.query("SELECT Id FROM Nothing__c")
    assert kind.status_code == 400 and kind.json()[0]["errorCode"] == "INVALID_TYPE"


def test_soql_subset_filters_orders_and_limits(box: SalesforceSandbox) -> None:
    ids = box.load_records([{"Name": "O'Brien \\ Sons", "AnnualRevenue": 5.0}])
    with box.inprocess() as creds:
        rest = Rest(creds)
        found = rest.query(r"SELECT Id, Name FROM Account WHERE Name = 'O\'Brien \\ Sons'").json()
        assert [r["Id"] for r in found["records"]] == ids
        all_ids = rest.ids(31)
        picked = rest.query(
            f"SELECT Id FROM Account WHERE Id IN ('{all_ids[3]}', '{all_ids[7][:15]}') "
            "AND SystemModstamp <= 2026-03-02T10:00:00+01:00 ORDER BY Id DESC"
        ).json()
        assert [r["Id"] for r in picked["records"]] == [all_ids[7], all_ids[3]]
        assert picked["totalSize"] == 2
        limited = rest.query("SELECT Id, Name FROM Account ORDER BY Name DESC LIMIT 4").json()
        names = [r["Name"] for r in limited["records"]]
        assert len(names) == 4 and names == sorted(names, key=str.lower, reverse=True)
        after = rest.query(
            "SELECT Id FROM Account WHERE SystemModstamp > 2026-03-02T09:00:00Z"
        ).json()
        assert after["totalSize"] == 0  # nothing modified after the frozen START


def test_next_records_url_pages_honour_batch_size(tmp_path: Path) -> None:
    box = make_box(tmp_path / "p.db", accounts=450)
    with box.inprocess() as creds:
        rest = Rest(creds)
        page = rest.query(
            "SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=50"}
        ).json()
        assert page["totalSize"] == 450 and len(page["records"]) == 200  # minimum 200
        seen = [r["Id"] for r in page["records"]]
        while not page["done"]:
            url = page["nextRecordsUrl"]
            assert url.startswith("/services/data/v62.0/query/01g") and "?" not in url
            answer = rest.call("GET", url.removeprefix("/services/data/v62.0"))
            page = answer.json()
            seen += [r["Id"] for r in page["records"]]
        assert len(seen) == 450 == len(set(seen))
        stale = rest.call("GET", "/query/01g000000000000AAA-200")
        assert stale.status_code == 400 and stale.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
        everything = rest.call("GET", "/queryAll", params={"q": "SELECT Id FROM Account"})
        assert everything.json()["totalSize"] == 450


# -- field-level security -------------------------------------------------------------------------
def test_fls_hides_a_new_field_from_describe_query_and_update_until_granted(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    new_field(
        rest,
        "Risk_Grade__c",
        {
            "type": "Picklist",
            "label": "Risk Grade",
            "valueSet": {
                "restricted": True,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [{"fullName": g, "label": g, "default": False} for g in "ABCDE"],
                },
            },
        },
    )
    target = rest.ids(1)[0]

    def described() -> set[str]:
        fields = rest.call("GET", "/sobjects/Account/describe").json()["fields"]
        return {f["name"] for f in fields}

    assert "Risk_Grade__c" not in described()
    hidden = rest.query("SELECT Id, Risk_Grade__c FROM Account")
    assert hidden.status_code == 400 and hidden.json()[0]["errorCode"] == "INVALID_FIELD"
    refused = rest.patch([{"id": target, "Risk_Grade__c": "B"}])
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Risk_Grade__c'" in refused.json()[0]["message"]
    grant(rest, "Risk_Grade__c")
    assert "Risk_Grade__c" in described()
    saved = rest.patch([{"id": target, "Risk_Grade__c": "B"}])
    assert saved.json() == [{"id": target, "success": True, "errors": []}]
    shown = rest.query(f"SELECT Risk_Grade__c FROM Account WHERE Id = '{target}'").json()
    assert shown["records"][0]["Risk_Grade__c"] == "B"
    bad = rest.patch([{"id": target, "Risk_Grade__c": "Z"}]).json()[0]
    assert bad["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_read_only_grant_shows_but_does_not_let_write(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    new_field(
        rest, "Risk_Score__c", {"type": "Number", "label": "Risk Score", "precision": 5, "scale": 1}
    )
    grant(rest, "Risk_Score__c", read=True, edit=False)
    fields = {f["name"]: f for f in rest.call("GET", "/sobjects/Account/describe").json()["fields"]}
    assert fields["Risk_Score__c"]["updateable"] is False
    assert fields["Risk_Score__c"]["type"] == "double"
    answer = rest.patch([{"id": rest.ids(1)[0], "Risk_Score__c": 1.5}])
    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    edit_only = rest.call(
        "POST",
        "/sobjects/FieldPermissions",
        json={
            "ParentId": rest.query("SELECT Id FROM PermissionSet").json()["records"][0]["Id"],
            "SobjectType": "Account",
            "Field": "Account.Risk_Score__c",
            "PermissionsRead": False,
            "PermissionsEdit": True,
        },
    )
    assert edit_only.status_code == 400
    assert edit_only.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


# -- saves ----------------------------------------------------------------------------------------
def test_system_modstamp_moves_on_an_equal_value_save(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    target = rest.ids(1)[0]
    soql = (
        "SELECT Name, SystemModstamp, LastModifiedDate, LastModifiedById FROM Account "
        f"WHERE Id = '{target}'"
    )
    before = rest.query(soql).json()["records"][0]
    box.clock.advance(90)
    saved = rest.patch([{"id": target, "Name": before["Name"]}])  # the same value
    assert saved.json()[0]["success"] is True
    after = rest.query(soql).json()["records"][0]
    assert after["Name"] == before["Name"]
    assert after["SystemModstamp"] == "2026-03-02T09:01:30.000+0000" != before["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"]
    assert after["LastModifiedById"] == sf_id("005", 1)
    (entry,) = box.writes()
    assert entry.changes == {} and entry.source == "api"
    delta = rest.query("SELECT Id FROM Account WHERE SystemModstamp > 2026-03-02T09:00:00Z").json()
    assert [r["Id"] for r in delta["records"]] == [target]


def test_collections_all_or_none_rolls_back_and_keeps_input_order(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    a, b, c = rest.ids(3)
    answer = rest.patch(
        [
            {"id": c, "Industry": "Media"},
            {"id": a, "NumberOfEmployees": "many"},
            {"id": b, "Industry": "Media"},
        ],
        all_or_none=True,
    )
    assert answer.status_code == 200
    results = answer.json()
    assert [r["id"] for r in results] == [c, a, b]
    assert [r["success"] for r in results] == [False, False, False]
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert box.writes() == []
    missing = rest.patch([{"id": sf_id("001", 999_999), "Industry": "Media"}]).json()[0]
    assert missing["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    too_many = rest.patch([{"id": a, "Industry": "Media"}] * 201)
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    read_only = rest.patch([{"id": a, "SystemModstamp": "2026-01-01T00:00:00Z"}])
    assert read_only.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_validation_rule_answers_field_custom_validation_exception(
    creds: SalesforceCredentials,
) -> None:
    rest = Rest(creds)
    new_field(
        rest,
        "Credit_Limit__c",
        {"type": "Currency", "label": "Credit Limit", "precision": 16, "scale": 2},
    )
    grant(rest, "Credit_Limit__c")
    a, b = rest.ids(2)
    results = rest.patch(
        [{"id": a, "Credit_Limit__c": -5}, {"id": b, "Credit_Limit__c": 25000}]
    ).json()
    assert results[0]["errors"] == [
        {
            "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Credit limit cannot be negative",
            "fields": [],
        }
    ]
    assert results[1]["success"] is True


def test_describe_global_lists_the_served_objects(box: SalesforceSandbox) -> None:
    from simple_salesforce import Salesforce

    with box.inprocess() as c:
        sf = Salesforce(username=c.username, password=c.password, security_token=c.security_token)
        listed = {o["name"]: o for o in sf.describe()["sobjects"]}
    assert listed["Account"]["keyPrefix"] == "001" and listed["Account"]["updateable"] is True
    assert {"Task", "PermissionSet", "FieldPermissions", "PermissionSetAssignment"} <= set(listed)


def test_single_record_patch_and_get(creds: SalesforceCredentials, box: SalesforceSandbox) -> None:
    rest = Rest(creds)
    target = rest.ids(1)[0]
    assert (
        rest.call("PATCH", f"/sobjects/Account/{target}", json={"Phone": "+1 555"}).status_code
        == 204
    )
    got = rest.call("GET", f"/sobjects/Account/{target}", params={"fields": "Phone,Name"}).json()
    assert got["Phone"] == "+1 555" and list(got) == ["attributes", "Phone", "Name"]
    gone = rest.call("GET", f"/sobjects/Account/{sf_id('001', 999_999)}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_post_task(creds: SalesforceCredentials, box: SalesforceSandbox) -> None:
    rest = Rest(creds)
    target = rest.ids(1)[0]
    made = rest.call(
        "POST",
        "/sobjects/Task",
        json={"Subject": "Review credit", "WhatId": target, "ActivityDate": "2026-03-09"},
    )
    assert made.status_code == 201
    assert made.json()["id"].startswith("00T") and made.json()["success"] is True
    listed = rest.query(f"SELECT Subject, Status FROM Task WHERE WhatId = '{target}'").json()
    assert listed["records"][0]["Subject"] == "Review credit"
    assert listed["records"][0]["Status"] == "Not Started"
    bad = rest.call(
        "POST", "/sobjects/Task", json={"Subject": "x", "WhatId": sf_id("001", 999_999)}
    )
    assert bad.json()[0]["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"
    missing = rest.call("POST", "/sobjects/Task", json={"Status": "Open"})
    assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


# -- faults ---------------------------------------------------------------------------------------
def test_faults_answer_as_salesforce(tmp_path: Path) -> None:
    locked = make_box(tmp_path / "f.db", accounts=3, faults=FaultProfile(record_error=1.0))
    with locked.inprocess() as creds:
        rest = Rest(creds)
        result = rest.patch([{"id": rest.ids(1)[0], "Industry": "Media"}]).json()[0]
        assert result["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    unavailable = make_box(
        tmp_path / "u.db",
        accounts=1,
        faults=FaultProfile(server_error=1.0, server_error_statuses=(503,)),
    )
    with unavailable.inprocess() as creds:
        answer = Rest(creds).query("SELECT Id FROM Account")
        assert answer.status_code == 503
        assert answer.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    expiring = make_box(tmp_path / "e.db", accounts=1, faults=FaultProfile(token_expiry=1.0))
    with expiring.inprocess() as creds:
        answer = Rest(creds).query("SELECT Id FROM Account")
        assert answer.status_code == 401 and answer.json() == SESSION_ERROR


# -- logins ---------------------------------------------------------------------------------------
def test_logins_refuse_bad_credentials(creds: SalesforceCredentials) -> None:
    import requests

    wrong = requests.post(
        creds.instance_url + "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, "x"),
        timeout=10,
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    on_login_host = requests.post(
        creds.login_url + "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
        timeout=10,
    )
    assert on_login_host.json() == {
        "error": "invalid_grant",
        "error_description": "request not supported on this domain",
    }
    bad_jwt = requests.post(
        creds.login_url + "/services/oauth2/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": "not.a.jwt",
        },
        timeout=10,
    )
    assert bad_jwt.json()["error"] == "invalid_grant"
    assert login(creds)


def test_jwt_signed_by_another_key_is_refused(creds: SalesforceCredentials) -> None:
    import jwt
    import requests
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {
        "iss": creds.client_id,
        "sub": creds.username,
        "aud": "https://login.salesforce.com",
        "exp": str(int(START.timestamp()) + 180),
    }
    forged = jwt.encode(claims, other, algorithm="RS256")
    answer = requests.post(
        creds.login_url + "/services/oauth2/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": forged},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    key = Path(creds.private_key_file).read_bytes()
    genuine = jwt.encode(claims, key, algorithm="RS256")
    ok = requests.post(
        creds.login_url + "/services/oauth2/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": genuine},
        timeout=10,
    )
    assert ok.status_code == 200 and "refresh_token" not in ok.json()
    assert ok.json()["instance_url"] == creds.instance_url


def test_soap_login_is_unavailable_from_api_65(creds: SalesforceCredentials) -> None:
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=creds.username,
            password=creds.password,
            security_token=creds.security_token,
            version="65.0",
        )
    assert caught.value.code == "UNSUPPORTED_API_VERSION"


def test_call_log_names_endpoints_stably(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    rest.query("SELECT Id FROM Account")
    rest.call("GET", "/sobjects/Account/describe")
    names = [c.endpoint for c in box.calls()]
    assert names == [
        "POST /services/oauth2/token",
        "GET /services/data/v{version}/query",
        "GET /services/data/v{version}/sobjects/{sobject}/describe",
    ]


def test_a_hand_edit_is_a_person_s_save(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    (target,) = rest.ids(1)
    box.clock.advance(30)
    box.hand_edit(target, {"Phone": "+86 21 5555"})
    row = rest.query(
        f"SELECT Phone, LastModifiedById, SystemModstamp FROM Account WHERE Id = '{target}'"
    ).json()["records"][0]
    assert row["Phone"] == "+86 21 5555" and row["LastModifiedById"] == sf_id("005", 2)
    assert row["SystemModstamp"] == "2026-03-02T09:00:30.000+0000"
    (entry,) = box.writes()
    assert entry.source == "hand" and entry.changes["Phone"][1] == "+86 21 5555"
