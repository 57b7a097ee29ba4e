"""simple-salesforce itself, unchanged (the release pinned in pyproject.toml), against the
Salesforce sandbox served over HTTPS by a separate process (issue 15's evidence)."""

from __future__ import annotations

import csv
import io
import json
import ssl
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import requests
from sf_helpers import ACCOUNTS, Served, make_box
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

pytestmark = pytest.mark.slow


def password_login(served: Served) -> Salesforce:
    c = served.creds
    return Salesforce(
        username=c.username,
        password=c.password,
        security_token=c.security_token,
        session=served.session(),
    )


def test_the_served_origin_is_https_with_the_printed_ca(served: Served) -> None:
    c = served.creds
    assert c.login_url.startswith("https://127.0.0.1:") and c.instance_url == c.login_url
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(c.instance_url + "/services/data/v59.0/limits", timeout=10)
    answer = requests.get(
        c.instance_url + "/services/data/v59.0/limits", verify=c.ca_file, timeout=10
    )
    assert answer.status_code == 401
    assert answer.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert isinstance(
        ssl.get_server_certificate(("127.0.0.1", int(c.login_url.rsplit(":", 1)[1]))), str
    )


def test_username_password_login(served: Served) -> None:
    sf = password_login(served)
    assert sf.sf_instance == served.creds.instance_url.removeprefix("https://")
    assert sf.auth_type == "password"
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1


def test_a_wrong_password_is_refused_as_salesforce_does(served: Served) -> None:
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    c = served.creds
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=c.username,
            password="wrong",
            security_token=c.security_token,
            session=served.session(),
        )
    assert caught.value.code == "INVALID_LOGIN"


def test_jwt_bearer_login(served: Served) -> None:
    c = served.creds
    sf = Salesforce(
        username=c.username,
        consumer_key=c.client_id,
        privatekey_file=c.private_key_file,
        session=served.session(),
    )
    assert sf.auth_type == "jwt-bearer"
    assert sf.query("SELECT Id FROM Account LIMIT 2")["totalSize"] == 2


def test_client_credentials_login(served: Served) -> None:
    c = served.creds
    sf = Salesforce(
        consumer_key=c.client_id,
        consumer_secret=c.client_secret,
        domain=c.domain,
        session=served.session(),
    )
    assert sf.auth_type == "client-credentials"
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1


def test_query_answers_salesforce_shape(served: Served) -> None:
    sf = password_login(served)
    page = sf.query(
        "SELECT Id, Name, AnnualRevenue, SystemModstamp FROM Account "
        "WHERE SystemModstamp > 2000-01-01T00:00:00Z ORDER BY SystemModstamp, Id",
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert page["totalSize"] == ACCOUNTS and page["done"] is False
    assert len(page["records"]) == 200
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    first = page["records"][0]
    assert list(first) == ["attributes", "Id", "Name", "AnnualRevenue", "SystemModstamp"]
    assert first["attributes"]["type"] == "Account"
    assert first["attributes"]["url"] == f"/services/data/v59.0/sobjects/Account/{first['Id']}"
    assert len(first["Id"]) == 18 and first["SystemModstamp"].endswith(".000+0000")


def test_query_all_iter_across_several_pages(served: Served) -> None:
    sf = password_login(served)
    ids = [
        r["Id"]
        for r in sf.query_all_iter(
            "SELECT Id FROM Account ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=200"}
        )
    ]
    assert len(ids) == ACCOUNTS and len(set(ids)) == ACCOUNTS and ids == sorted(ids)
    pages = [c for c in served.box.calls() if c.endpoint.endswith("/query/{locator}")]
    assert len(pages) >= 2  # 450 records at 200 a page: two more pages after the first


def test_collections_update_with_a_partial_failure(served: Served) -> None:
    sf = password_login(served)
    ids = [r["Id"] for r in sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 3")["records"]]
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "id": ids[0], "Industry": "Retail"},
            {"attributes": {"type": "Account"}, "id": ids[1], "Business_Status__c": "Bankrupt"},
            {"attributes": {"type": "Account"}, "id": ids[2], "NumberOfEmployees": 12},
        ],
    }
    results = sf.restful("composite/sobjects", method="PATCH", json=body)
    assert [r["success"] for r in results] == [True, False, True]
    assert [r["id"] for r in results] == ids
    assert results[1]["errors"] == [
        {
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Business Status: bad value for restricted picklist field: Bankrupt",
            "fields": ["Business_Status__c"],
        }
    ]
    assert served.box.record(ids[0])["Industry"] == "Retail"  # type: ignore[index]
    assert served.box.record(ids[2])["NumberOfEmployees"] == 12  # type: ignore[index]


def test_account_describe(served: Served) -> None:
    sf = password_login(served)
    described = sf.Account.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["name"] == "Account" and described["keyPrefix"] == "001"
    assert fields["Name"]["type"] == "string" and fields["Name"]["updateable"] is True
    assert fields["SystemModstamp"]["updateable"] is False
    assert fields["Revenue__c"]["custom"] is True and fields["Revenue__c"]["type"] == "currency"
    status = fields["Business_Status__c"]
    assert status["restrictedPicklist"] is True
    assert [v["value"] for v in status["picklistValues"]][:2] == ["Active", "Suspended"]


def test_bulk2_query_streamed(served: Served) -> None:
    sf = password_login(served)
    pages = list(
        sf.bulk2.Account.query("SELECT Id, Name FROM Account ORDER BY Id", max_records=200, wait=0)
    )
    assert len(pages) == 3
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(rows) == ACCOUNTS and list(rows[0]) == ["Id", "Name"]
    assert len({r["Id"] for r in rows}) == ACCOUNTS


def test_bulk2_update_successful_failed_and_unprocessed(served: Served) -> None:
    sf = password_login(served)
    ids = [r["Id"] for r in sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 6")["records"]]
    records = [
        {"Id": ids[0], "Industry": "Mining"},
        {"Id": ids[1], "Business_Status__c": "Nope"},
        {"Id": ids[2], "Industry": "Energy"},
    ]
    (done,) = sf.bulk2.Account.update(records=records, wait=0)
    assert done["numberRecordsProcessed"] == 3 and done["numberRecordsFailed"] == 1
    results = sf.bulk2.Account.get_all_ingest_records(done["job_id"])
    assert {r["sf__Id"] for r in results["successfulRecords"]} == {ids[0], ids[2]}
    (failed,) = results["failedRecords"]
    assert failed["sf__Id"] == ids[1]
    assert failed["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:")
    assert results["unprocessedRecords"] == []
    # A job that fails part-way leaves the rest unprocessed.
    served.box.bulk2_fail_next("ingest", after_rows=1)
    from simple_salesforce.exceptions import SalesforceOperationError

    with pytest.raises(SalesforceOperationError):
        sf.bulk2.Account.update(
            records=[
                {"Id": ids[3], "Industry": "Media"},
                {"Id": ids[4], "Industry": "Media"},
                {"Id": ids[5], "Industry": "Media"},
            ],
            wait=0,
        )
    job = served.box.bulk2_jobs("ingest")[-1]
    assert job["state"] == "Failed"
    partial = sf.bulk2.Account.get_all_ingest_records(job["id"])
    assert len(partial["successfulRecords"]) == 1
    assert len(partial["unprocessedRecords"]) == 2


def test_tooling_custom_field_create_and_read(served: Served) -> None:
    sf = password_login(served)
    created = sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": "Account.Risk_Reasons__c",
            "Metadata": {
                "type": "LongTextArea",
                "label": "Risk Reasons",
                "length": 32768,
                "visibleLines": 4,
            },
        },
    )
    assert created["success"] is True and created["id"].startswith("00N")
    read = sf.toolingexecute(f"sobjects/CustomField/{created['id']}")
    assert read["FullName"] == "Account.Risk_Reasons__c"
    assert read["Metadata"]["type"] == "LongTextArea" and read["Metadata"]["length"] == 32768
    with pytest.raises(SalesforceMalformedRequest) as duplicate:
        sf.toolingexecute(
            "sobjects/CustomField",
            method="POST",
            data={
                "FullName": "Account.Risk_Reasons__c",
                "Metadata": {"type": "Text", "label": "x", "length": 10},
            },
        )
    assert "There is already a field named" in duplicate.value.content[0]["message"]
    # Invisible until field-level security grants it.
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Risk_Reasons__c FROM Account LIMIT 1")
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_tooling_layout_read_and_update(served: Served) -> None:
    sf = password_login(served)
    (layout,) = sf.toolingexecute(
        "query/?q=SELECT+Id,Name+FROM+Layout+WHERE+TableEnumOrId='Account'"
    )["records"]
    read = sf.toolingexecute(f"sobjects/Layout/{layout['Id']}")
    sections = read["Metadata"]["layoutSections"]
    assert sections[0]["label"] == "Account Information"
    sections.append(
        {
            "label": "Credit Risk",
            "style": "TwoColumnsTopToBottom",
            "customLabel": True,
            "detailHeading": True,
            "editHeading": True,
            "layoutColumns": [
                {"layoutItems": [{"field": "Revenue__c", "behavior": "Readonly"}]},
                {"layoutItems": []},
            ],
        }
    )
    updated = sf.restful(
        f"tooling/sobjects/Layout/{layout['Id']}",
        method="PATCH",
        json={"Metadata": {"layoutSections": sections}},
    )
    assert updated is None  # 204
    again = sf.toolingexecute(f"sobjects/Layout/{layout['Id']}")
    assert [s["label"] for s in again["Metadata"]["layoutSections"]][-1] == "Credit Risk"


def test_an_expired_session_is_renewed_by_a_new_login(served: Served) -> None:
    sf = password_login(served)
    old = sf.session_id
    served.box.clock.advance(7201)  # the org's two-hour session timeout, in the shared file
    try:
        assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1
    finally:
        served.box.clock.advance(-7201)
    assert sf.session_id != old
    statuses = [(c.endpoint, c.status) for c in served.box.calls()[-3:]]
    assert statuses == [
        ("GET /services/data/v{version}/query", 401),
        ("POST /services/Soap/u/{version}", 200),
        ("GET /services/data/v{version}/query", 200),
    ]


def test_hostile_faults_reach_simple_salesforce_as_salesforce_errors(tmp_path: Path) -> None:
    """Served over TLS with the shared `hostile` profile (no slow answers): every call ends
    in a result or in an exception simple-salesforce raises for Salesforce's own answers;
    expired sessions are renewed by its re-login, so they never surface."""
    from simple_salesforce.exceptions import SalesforceError

    from crmqual.sandbox.salesforce.client import loopback_session

    box = make_box(tmp_path / "h.db", accounts=5)
    profile = tmp_path / "hostile.yaml"
    profile.write_text("profile: hostile\nslow: 0\nlatency_ms: 0\n", encoding="utf-8")
    seen: Counter[str] = Counter()
    with subprocess.Popen(
        box.serve_command(faults=str(profile)), stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            c = json.loads(server.stdout.readline())
            sf = None
            for _ in range(60):
                try:
                    if sf is None:
                        sf = Salesforce(
                            username=c["username"],
                            password=c["password"],
                            security_token=c["security_token"],
                            session=loopback_session(c["login_url"], c["ca_file"]),
                        )
                    assert sf.query("SELECT Id FROM Account")["totalSize"] == 5
                    seen["ok"] += 1
                except SalesforceError as exc:
                    seen[f"{type(exc).__name__} {exc.status}"] += 1
                except requests.ConnectionError:
                    seen["dropped"] += 1
        finally:
            server.kill()
            server.wait(timeout=30)
    assert seen["ok"] > 30
    assert set(seen) <= {
        "ok",
        "dropped",
        "SalesforceRefusedRequest 403",  # REQUEST_LIMIT_EXCEEDED (concurrency)
        "SalesforceGeneralError 500",
        "SalesforceGeneralError 502",
        "SalesforceGeneralError 503",
        "SalesforceGeneralError 504",
    }
    assert len(seen) >= 4, seen
    expired = [c for c in box.calls() if c.status == 401]
    renewed = [c for c in box.calls() if c.endpoint == "POST /services/Soap/u/{version}"]
    assert len(renewed) == 1 + len(expired)  # one login, then one per expired session
