"""Bulk API 2.0 jobs and the Tooling API (CustomField, Layout) of the Salesforce dialect,
checked against shared/reference/salesforce.md sections 6 and 8 (in-process)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sf_helpers import Rest, grant

from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox


def _job(rest: Rest, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    # simple-salesforce sends Accept: text/csv when creating a query job; the answer is JSON
    answer = rest.call("POST", f"/jobs/{kind}", json=body, headers={"Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    job: dict[str, Any] = answer.json()
    return job


def test_query_job_states_and_locator_pages(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    job = _job(
        rest,
        "query",
        {"operation": "query", "query": "SELECT Id, Name, AnnualRevenue FROM Account ORDER BY Id"},
    )
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    early = rest.call("GET", f"/jobs/query/{job['id']}/results")
    assert early.status_code == 412 and early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    states = [rest.call("GET", f"/jobs/query/{job['id']}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    rows: list[dict[str, str]] = []
    locator = ""
    pages = 0
    while True:
        params = {"maxRecords": 12, **({"locator": locator} if locator else {})}
        page = rest.call("GET", f"/jobs/query/{job['id']}/results", params=params)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/csv")
        chunk = list(csv.DictReader(io.StringIO(page.text)))
        assert int(page.headers["Sforce-NumberOfRecords"]) == len(chunk)
        rows += chunk
        pages += 1
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == 3 and len(rows) == 30
    assert list(rows[0]) == ["Id", "Name", "AnnualRevenue"]  # the SELECT's order
    import requests

    wrong = requests.get(
        f"{creds.instance_url}/services/data/v61.0/jobs/query/{job['id']}/results",
        headers={"Authorization": f"Bearer {rest.token}"},
        timeout=10,
    )
    assert wrong.status_code == 409


def test_query_job_with_a_bad_query_is_refused_at_creation(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    answer = rest.call(
        "POST", "/jobs/query", json={"operation": "query", "query": "SELECT Nope FROM Account"}
    )
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_FIELD"


def _ingest(rest: Rest, text: str) -> dict[str, Any]:
    job = _job(
        rest,
        "ingest",
        {
            "object": "Account",
            "operation": "update",
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        },
    )
    assert job["state"] == "Open"
    upload = rest.call(
        "PUT",
        f"/jobs/ingest/{job['id']}/batches",
        data=text.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 201
    closed = rest.call("PATCH", f"/jobs/ingest/{job['id']}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"
    polls = [rest.call("GET", f"/jobs/ingest/{job['id']}").json() for _ in range(2)]
    assert polls[0]["state"] == "InProgress"
    return polls[-1]


def test_ingest_na_clears_and_an_empty_cell_leaves_alone(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    a, b = rest.ids(2)
    before = box.record(b)
    assert before is not None
    text = f'Id,Website,Phone\n{a},#N/A,"+1 555, ext 2"\n{b},,\n'
    done = _ingest(rest, text)
    assert done["state"] == "JobComplete" and done["numberRecordsProcessed"] == 2
    first, second = box.record(a), box.record(b)
    assert first is not None and second is not None
    assert first["Website"] is None and first["Phone"] == "+1 555, ext 2"
    assert second["Website"] == before["Website"] and second["Phone"] == before["Phone"]
    assert second["SystemModstamp"] == "2026-03-02T09:00:00+00:00"  # a save all the same
    good = rest.call("GET", f"/jobs/ingest/{done['id']}/successfulResults/").text
    assert good.splitlines()[0] == "sf__Id,sf__Created,Id,Website,Phone"
    both = [
        rest.call("GET", f"/jobs/ingest/{done['id']}/{name}/")
        for name in ("unprocessedrecords", "unprocessedRecords")
    ]
    assert [r.text for r in both] == ["Id,Website,Phone\n"] * 2


def test_ingest_with_an_unknown_column_fails_the_job(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    (a,) = rest.ids(1)
    done = _ingest(rest, f"Id,Secret__c\n{a},x\n")
    assert done["state"] == "Failed"
    assert done["errorMessage"] == "InvalidBatch : Field name not found : Secret__c"


def test_ingest_refuses_other_operations(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    answer = rest.call("POST", "/jobs/ingest", json={"object": "Account", "operation": "insert"})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALIDJOB"


# -- tooling ---------------------------------------------------------------------------------------
def test_custom_field_metadata_is_checked(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)

    def create(name: str, meta: dict[str, Any]) -> Any:
        return rest.call(
            "POST",
            "/tooling/sobjects/CustomField",
            json={"FullName": f"Account.{name}", "Metadata": meta},
        )

    enum = create("Flags__c", {"type": "MultiPicklist", "label": "Flags"})
    assert enum.status_code == 400
    assert "not a valid value for the enum 'FieldType'" in enum.json()[0]["message"]
    wide = create("Score__c", {"type": "Number", "label": "Score", "precision": 19, "scale": 0})
    assert wide.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    lines = create(
        "Flags__c",
        {
            "type": "MultiselectPicklist",
            "label": "Flags",
            "valueSet": {"valueSetDefinition": {"value": [{"fullName": "X"}]}},
        },
    )
    assert lines.json()[0]["fields"] == ["visibleLines"]
    for name, meta in (
        ("Scored_At__c", {"type": "DateTime", "label": "Scored At"}),
        ("Review_Date__c", {"type": "Date", "label": "Review Date"}),
        ("Note__c", {"type": "Text", "label": "Note", "length": 80}),
        (
            "Flags__c",
            {
                "type": "MultiselectPicklist",
                "label": "Flags",
                "visibleLines": 4,
                "valueSet": {
                    "restricted": True,
                    "valueSetDefinition": {
                        "value": [{"fullName": "OVERDUE"}, {"fullName": "LITIGATION"}]
                    },
                },
            },
        ),
    ):
        assert create(name, meta).status_code == 201
    listed = rest.call(
        "GET",
        "/tooling/query",
        params={"q": "SELECT Id, DeveloperName FROM CustomField WHERE DeveloperName = 'Flags'"},
    ).json()
    assert listed["totalSize"] == 1
    assert listed["records"][0]["attributes"]["url"].startswith(
        "/services/data/v62.0/tooling/sobjects/CustomField/00N"
    )


def test_multiselect_values_are_joined_by_semicolons(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    rest.call(
        "POST",
        "/tooling/sobjects/CustomField",
        json={
            "FullName": "Account.Risk_Flags__c",
            "Metadata": {
                "type": "MultiselectPicklist",
                "label": "Risk Flags",
                "visibleLines": 4,
                "valueSet": {
                    "restricted": True,
                    "valueSetDefinition": {
                        "value": [{"fullName": "OVERDUE"}, {"fullName": "LITIGATION"}]
                    },
                },
            },
        },
    )
    grant(rest, "Risk_Flags__c")
    (a,) = rest.ids(1)
    ok = rest.patch([{"id": a, "Risk_Flags__c": "OVERDUE;LITIGATION"}]).json()[0]
    assert ok["success"] is True
    bad = rest.patch([{"id": a, "Risk_Flags__c": "OVERDUE;FRAUD"}]).json()[0]
    assert bad["errors"][0]["message"].endswith("bad value for restricted picklist field: FRAUD")


def test_layout_update_replaces_the_whole_layout(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    layouts = rest.call(
        "GET", "/tooling/query", params={"q": "SELECT Id, Name FROM Layout"}
    ).json()["records"]
    layout_id = layouts[0]["Id"]
    only = {
        "layoutSections": [
            {
                "label": "Only",
                "style": "OneColumn",
                "layoutColumns": [{"layoutItems": [{"field": "Name", "behavior": "Required"}]}],
            }
        ]
    }
    done = rest.call("PATCH", f"/tooling/sobjects/Layout/{layout_id}", json={"Metadata": only})
    assert done.status_code == 204
    read = rest.call("GET", f"/tooling/sobjects/Layout/{layout_id}").json()
    assert read["Metadata"] == only and read["Name"] == "Account Layout"
    unknown = {
        "layoutSections": [
            {
                "label": "x",
                "layoutColumns": [{"layoutItems": [{"field": "Name"}, {"field": "Ghost__c"}]}],
            }
        ]
    }
    refused = rest.call(
        "PATCH", f"/tooling/sobjects/Layout/{layout_id}", json={"Metadata": unknown}
    )
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    no_name = {"layoutSections": [{"label": "x", "layoutColumns": [{"layoutItems": []}]}]}
    assert (
        rest.call(
            "PATCH", f"/tooling/sobjects/Layout/{layout_id}", json={"Metadata": no_name}
        ).status_code
        == 400
    )


def test_the_metadata_soap_api_is_refused_plainly(creds: SalesforceCredentials) -> None:
    import requests

    answer = requests.post(creds.instance_url + "/services/Soap/m/59.0", data=b"<x/>", timeout=10)
    assert answer.status_code == 500 and "Tooling API" in answer.text
