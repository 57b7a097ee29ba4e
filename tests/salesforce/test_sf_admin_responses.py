"""The admin path's requests, shape by shape, against `responses` fixtures shaped like
Salesforce's documented answers (salesforce.md 3, 8.2, 8.3): Tooling CustomField create
(each type's Metadata), a duplicate, a Tooling error; the permission sets, their field
permissions and assignments; the layout update; the follow-up Task and a lost answer to
its create; the deletes of `provision --remove --delete-fields`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from sf_admin_org import FAST, OUTPUTS

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import FieldSpec, FieldType, FollowUp
from crmqual.errors import ApiError

ORG = "https://acme.my.salesforce.com"
API = f"{ORG}/services/data/v62.0"
USER = "005000000000001AAA"
LIMIT = {"Sforce-Limit-Info": "api-usage=10/100000"}


def _adapter(**admin: Any) -> SalesforceAdapter:
    access = {"integration_user": "crmqual@acme.example", **admin.pop("access", {})}
    connection = SalesforceConnection.model_validate(
        {
            "flow": "client_credentials",
            "login_url": ORG,
            "client_id": "3MVG9-key",
            "client_secret": "secret-1",
            "admin": {"access": access, **admin},
        }
    )
    return SalesforceAdapter(connection, settings=FAST, sleep=lambda s: None)


@pytest.fixture
def org() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            f"{ORG}/services/oauth2/token",
            json={"access_token": "00D!session", "instance_url": ORG, "token_type": "Bearer"},
        )
        yield mock


def _query(mock: responses.RequestsMock, path: str, match: str, records: list[Any]) -> None:
    """A query answer for the SOQL containing ``match`` (other queries go to other stubs)."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        body = {"totalSize": len(records), "done": True, "records": records}
        return 200, LIMIT, json.dumps(body)

    def matcher(request: Any) -> tuple[bool, str]:
        q = parse_qs(urlsplit(request.url).query).get("q", [""])[0]
        return match in q, f"query {q!r} lacks {match!r}"

    mock.add_callback(responses.GET, f"{API}/{path}", callback=answer, match=[matcher])


def _sent(mock: responses.RequestsMock, method: str, path: str) -> list[Any]:
    """The JSON bodies sent with ``method`` to ``API + path``."""
    return [
        json.loads(call.request.body)
        for call in mock.calls
        if call.request.method == method and call.request.url.rstrip("/") == f"{API}/{path}"
    ]


def _no_fields(mock: responses.RequestsMock) -> None:
    _query(mock, "tooling/query/", "FROM CustomField", [])


def test_each_output_type_is_created_with_the_metadata_it_needs(
    org: responses.RequestsMock,
) -> None:
    _no_fields(org)
    org.post(
        f"{API}/tooling/sobjects/CustomField",
        json={"id": "00N000000000001AAA", "success": True, "errors": [], "warnings": []},
        status=201,
    )
    sf = _adapter()
    sf._create_fields(OUTPUTS)
    sent = {
        b["FullName"]: b["Metadata"] for b in _sent(org, "POST", "tooling/sobjects/CustomField")
    }
    assert list(sent) == [f"Account.{s.api_name}" for s in OUTPUTS]
    grade = sent["Account.Risk_Grade__c"]
    assert grade["type"] == "Picklist" and grade["label"] == "Risk Grade"
    assert grade["valueSet"]["restricted"] is True
    assert [v["fullName"] for v in grade["valueSet"]["valueSetDefinition"]["value"]] == list(
        "ABCDE"
    )
    assert grade["description"] == "风险等级"
    flags = sent["Account.Warning_Flags__c"]
    assert flags["type"] == "MultiselectPicklist" and flags["visibleLines"] == 4
    reasons = sent["Account.Risk_Reasons__c"]
    assert (reasons["type"], reasons["length"], reasons["visibleLines"]) == (
        "LongTextArea",
        32768,
        6,
    )
    limit = sent["Account.Credit_Limit__c"]
    assert (limit["type"], limit["precision"], limit["scale"]) == ("Currency", 18, 2)
    score = sent["Account.Credit_Score__c"]
    assert (score["type"], score["precision"], score["scale"]) == ("Number", 18, 0)
    assert sent["Account.Assessed_At__c"] == {
        "type": "DateTime",
        "label": "Assessed At",
        "description": "评估时间",
    }


def test_a_duplicate_of_the_same_type_is_taken(org: responses.RequestsMock) -> None:
    org.post(
        f"{API}/tooling/sobjects/CustomField",
        json=[
            {
                "message": "There is already a field named Risk_Grade on Account.",
                "errorCode": "DUPLICATE_DEVELOPER_NAME",
            }
        ],
        status=400,
    )
    _query(
        org,
        "tooling/query/",
        "FROM CustomField",
        [
            {
                "attributes": {"type": "CustomField"},
                "Id": "00N0000000000AAAAA",
                "DeveloperName": "Risk_Grade",
            }
        ],
    )
    org.get(
        f"{API}/tooling/sobjects/CustomField/00N0000000000AAAAA",
        json={"Id": "00N0000000000AAAAA", "FullName": "Account.Risk_Grade__c",
              "Metadata": {"type": "Picklist", "label": "Risk Grade"}},
    )  # fmt: skip
    grade = next(s for s in OUTPUTS if s.api_name == "Risk_Grade__c")
    assert _adapter().fields_api().create(grade) == "00N0000000000AAAAA"
    text = FieldSpec("Risk_Grade__c", FieldType.TEXT, "Risk Grade")
    with pytest.raises(ApiError, match="There is already a field named"):
        _adapter().fields_api().create(text)


def test_a_tooling_error_stops_provisioning_with_its_code_and_message(
    org: responses.RequestsMock,
) -> None:
    org.post(
        f"{API}/tooling/sobjects/CustomField",
        json=[
            {
                "message": "Length: Long text areas need a length from 256 to 131072",
                "errorCode": "FIELD_INTEGRITY_EXCEPTION",
                "fields": ["length"],
            }
        ],
        status=400,
    )
    with pytest.raises(ApiError) as caught:
        _adapter()._create_fields(OUTPUTS)
    assert caught.value.code == "FIELD_INTEGRITY_EXCEPTION"
    assert "Long text areas need a length" in str(caught.value)
    assert len(_sent(org, "POST", "tooling/sobjects/CustomField")) == 1  # the rest not sent


def test_permission_sets_field_permissions_and_assignments(org: responses.RequestsMock) -> None:
    _query(org, "query/", "FROM PermissionSet WHERE", [])
    _query(
        org,
        "query/",
        "FROM User WHERE Username",
        [{"Id": USER, "Username": "crmqual@acme.example"}],
    )
    _query(org, "query/", "FROM Profile", [{"Id": "00e000000000002AAA", "Name": "Sales Rep"}])
    _query(
        org,
        "query/",
        "ProfileId IN ('00e000000000002AAA')",
        [{"Id": "005000000000007AAA", "Username": "rep@acme.example"}],
    )
    ids = iter(["0PS000000000001AAA", "0PS000000000002AAA"])
    org.add_callback(
        responses.POST,
        f"{API}/sobjects/PermissionSet",
        callback=lambda r: (
            201,
            LIMIT,
            json.dumps({"id": next(ids), "success": True, "errors": []}),
        ),
    )
    for kind, new in (
        ("FieldPermissions", "01k000000000001AAA"),
        ("PermissionSetAssignment", "0Pa000000000001AAA"),
    ):
        created = {"id": new, "success": True, "errors": []}
        org.post(f"{API}/sobjects/{kind}", json=created, status=201)
    sf = _adapter(access={"read_profiles": ["Sales Rep"]})
    grade = next(s for s in OUTPUTS if s.api_name == "Risk_Grade__c")
    sf._grant_access([grade])
    sets = _sent(org, "POST", "sobjects/PermissionSet")
    assert [(s["Name"], s["Label"]) for s in sets] == [
        ("crmqual_Output_Edit", "crmqual output fields (edit)"),
        ("crmqual_Output_Read", "crmqual output fields (read)"),
    ]
    assert _sent(org, "POST", "sobjects/FieldPermissions") == [
        {"ParentId": "0PS000000000001AAA", "SobjectType": "Account",
         "Field": "Account.Risk_Grade__c", "PermissionsRead": True, "PermissionsEdit": True},
        {"ParentId": "0PS000000000002AAA", "SobjectType": "Account",
         "Field": "Account.Risk_Grade__c", "PermissionsRead": True, "PermissionsEdit": False},
    ]  # fmt: skip
    assert _sent(org, "POST", "sobjects/PermissionSetAssignment") == [
        {"AssigneeId": USER, "PermissionSetId": "0PS000000000001AAA"},
        {"AssigneeId": "005000000000007AAA", "PermissionSetId": "0PS000000000002AAA"},
    ]


LAYOUT = {
    "Id": "00h000000000001AAA",
    "Name": "Account Layout",
    "FullName": "Account-Account Layout",
    "Metadata": {
        "layoutSections": [
            {
                "label": "Account Information",
                "style": "TwoColumnsTopToBottom",
                "layoutColumns": [
                    {"layoutItems": [{"field": "Name", "behavior": "Required"}]},
                    {"layoutItems": [{"field": "Risk_Grade__c", "behavior": "Readonly"}]},
                ],
            }
        ]
    },
}


def _layout(org: responses.RequestsMock, layout: dict[str, Any] = LAYOUT) -> None:
    _query(org, "tooling/query/", "FROM Layout", [{"Id": layout["Id"], "Name": layout["Name"]}])
    org.get(f"{API}/tooling/sobjects/Layout/{layout['Id']}", json=layout)
    org.patch(f"{API}/tooling/sobjects/Layout/{layout['Id']}", status=204)


def test_the_layout_is_sent_back_whole_with_the_section_added(org: responses.RequestsMock) -> None:
    _layout(org)
    names = ("Risk_Grade__c", "Credit_Limit__c", "Credit_Score__c", "Risk_Reasons__c")
    placed = [s for s in OUTPUTS if s.api_name in names]
    _adapter()._place_on_layout(placed)
    [body] = _sent(org, "PATCH", "tooling/sobjects/Layout/00h000000000001AAA")
    assert body["FullName"] == "Account-Account Layout"
    first, section = body["Metadata"]["layoutSections"]
    assert first == LAYOUT["Metadata"]["layoutSections"][0]  # left as it was
    assert section["label"] == "Credit & qualification / 资信与准入"
    assert section["style"] == "TwoColumnsTopToBottom"
    columns = [[i["field"] for i in c["layoutItems"]] for c in section["layoutColumns"]]
    # the grade is already on the layout (an admin put it there): not placed twice
    assert columns == [["Risk_Reasons__c", "Credit_Score__c"], ["Credit_Limit__c"]]
    assert {i["behavior"] for c in section["layoutColumns"] for i in c["layoutItems"]} == {
        "Readonly"
    }


def test_remove_deletes_the_section_assignments_sets_and_fields(
    org: responses.RequestsMock,
) -> None:
    with_section = json.loads(json.dumps(LAYOUT))
    with_section["Metadata"]["layoutSections"].append(
        {
            "label": "Credit & qualification / 资信与准入",
            "layoutColumns": [{"layoutItems": [{"field": "Credit_Limit__c"}]}],
        }
    )
    _layout(org, with_section)
    _query(org, "query/", "Name = 'crmqual_Output_Edit'", [{"Id": "0PS000000000001AAA"}])
    _query(org, "query/", "Name = 'crmqual_Output_Read'", [])
    _query(org, "query/", "FROM FieldPermissions", [])
    _query(
        org,
        "query/",
        "FROM PermissionSetAssignment",
        [{"Id": "0Pa000000000001AAA", "AssigneeId": USER}],
    )
    _query(org, "tooling/query/", "FROM CustomField",
           [{"Id": "00N000000000009AAA", "DeveloperName": "Credit_Limit"}])  # fmt: skip
    for path in ("sobjects/PermissionSetAssignment/0Pa000000000001AAA",
                 "sobjects/PermissionSet/0PS000000000001AAA",
                 "tooling/sobjects/CustomField/00N000000000009AAA"):  # fmt: skip
        org.delete(f"{API}/{path}", status=204)
    done = _adapter().unprovision(OUTPUTS, delete_fields=True)
    assert [n.en for n in done] == [
        "layout Account Layout: section “Credit & qualification / 资信与准入”",
        "permission set crmqual_Output_Edit (assigned to 1 user(s))",
        "field Credit_Limit__c and its values",
    ]
    deletes = [urlsplit(c.request.url).path for c in org.calls if c.request.method == "DELETE"]
    assert deletes == [
        "/services/data/v62.0/sobjects/PermissionSetAssignment/0Pa000000000001AAA",
        "/services/data/v62.0/sobjects/PermissionSet/0PS000000000001AAA",
        "/services/data/v62.0/tooling/sobjects/CustomField/00N000000000009AAA",
    ]
    [patched] = _sent(org, "PATCH", "tooling/sobjects/Layout/00h000000000001AAA")
    assert patched["Metadata"] == LAYOUT["Metadata"]


ACCOUNT = "001000000000042AAA"
EVENT = "0123456789abcdef01234567"


def _task_org(org: responses.RequestsMock, found_after: list[Any]) -> None:
    """No Task at first; ``found_after``: what the lookup finds after a failed create."""
    looks = iter([[], *([found_after] if found_after is not None else [])])

    def lookup(request: Any) -> tuple[int, dict[str, str], str]:
        records = next(looks, [])
        return 200, LIMIT, json.dumps({"totalSize": len(records), "done": True, "records": records})

    org.add_callback(responses.GET, f"{API}/queryAll/", callback=lookup)
    _query(org, "query/", "SELECT OwnerId FROM Account", [{"OwnerId": "005000000000003AAA"}])


def test_a_followup_task_names_the_account_and_its_owner(org: responses.RequestsMock) -> None:
    _task_org(org, [])
    created = {"id": "00T000000000001AAA", "success": True, "errors": []}
    org.post(f"{API}/sobjects/Task/", json=created, status=201)
    item = FollowUp(EVENT, ACCOUNT, "Risk grade down to D", "B -> D")
    assert _adapter().create_followup(item) == "00T000000000001AAA"
    lookups = [c.request.url for c in org.calls if "/queryAll/" in c.request.url]
    soql = parse_qs(urlsplit(lookups[0]).query)["q"][0]
    assert soql == (
        f"SELECT Id FROM Task WHERE Subject LIKE '%[crmqual:{EVENT}]%' ORDER BY Id LIMIT 2"
    )
    [task] = _sent(org, "POST", "sobjects/Task")
    assert task["WhatId"] == ACCOUNT and task["OwnerId"] == "005000000000003AAA"
    assert task["Subject"] == f"Risk grade down to D [crmqual:{EVENT}]"
    assert (task["Status"], task["Priority"]) == ("Not Started", "High")


def test_a_lost_answer_to_the_create_is_looked_up_not_resent(org: responses.RequestsMock) -> None:
    _task_org(org, [{"Id": "00T000000000009AAA"}])
    org.post(
        f"{API}/sobjects/Task/",
        json=[{"message": "An unexpected error occurred.", "errorCode": "UNKNOWN_EXCEPTION"}],
        status=500,
    )
    item = FollowUp(EVENT, ACCOUNT, "Downgrade", "")
    assert _adapter().create_followup(item) == "00T000000000009AAA"
    assert len(_sent(org, "POST", "sobjects/Task")) == 1


def test_a_create_that_made_nothing_is_sent_again_once(org: responses.RequestsMock) -> None:
    _task_org(org, [])
    answers = iter(
        [
            (503, LIMIT, json.dumps([{"message": "busy", "errorCode": "SERVER_UNAVAILABLE"}])),
            (201, LIMIT, json.dumps({"id": "00T000000000002AAA", "success": True, "errors": []})),
        ]
    )
    org.add_callback(responses.POST, f"{API}/sobjects/Task/", callback=lambda r: next(answers))
    item = FollowUp(EVENT, ACCOUNT, "Downgrade", "")
    assert _adapter().create_followup(item) == "00T000000000002AAA"
    assert len(_sent(org, "POST", "sobjects/Task")) == 2
