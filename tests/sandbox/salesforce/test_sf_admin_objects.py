"""The sandbox's admin pieces crmqual's provisioning needs: profiles and users' profiles,
deleting permission sets, their field permissions and assignments, and the Tooling API's
CustomField update and delete (a deleted field leaves records, grants and layouts)."""

from __future__ import annotations

from typing import Any

from sf_helpers import Rest

from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox

FIELD = {
    "FullName": "Account.Admin_Grade__c",
    "Metadata": {
        "type": "Picklist",
        "label": "Admin Grade",
        "valueSet": {
            "restricted": True,
            "valueSetDefinition": {"sorted": False, "value": [{"fullName": "A", "label": "A"}]},
        },
    },
}


def _records(rest: Rest, soql: str) -> list[dict[str, Any]]:
    answer = rest.query(soql)
    assert answer.status_code == 200, answer.text
    records: list[dict[str, Any]] = answer.json()["records"]
    return records


def _granted_field(rest: Rest, box: SalesforceSandbox) -> tuple[str, str]:
    """The field created, granted to the integration user; (CustomField id, PermissionSet id)."""
    created = rest.call("POST", "/tooling/sobjects/CustomField", json=FIELD)
    assert created.status_code == 201, created.text
    ps = rest.call("POST", "/sobjects/PermissionSet", json={"Name": "Admin_T", "Label": "T"})
    ps_id = ps.json()["id"]
    grant = {
        "ParentId": ps_id,
        "SobjectType": "Account",
        "Field": "Account.Admin_Grade__c",
        "PermissionsRead": True,
        "PermissionsEdit": True,
    }
    assert rest.call("POST", "/sobjects/FieldPermissions", json=grant).status_code == 201
    user = _records(
        rest, "SELECT Id FROM User WHERE Username = 'integration@crmqual-sandbox.example'"
    )
    assign = {"AssigneeId": user[0]["Id"], "PermissionSetId": ps_id}
    assert rest.call("POST", "/sobjects/PermissionSetAssignment", json=assign).status_code == 201
    return created.json()["id"], ps_id


def test_users_have_profiles_and_one_is_inactive(creds: SalesforceCredentials) -> None:
    rest = Rest(creds)
    profiles = _records(rest, "SELECT Id, Name FROM Profile WHERE Name = 'Standard User'")
    assert len(profiles) == 1
    users = _records(
        rest, f"SELECT Id, Name, IsActive FROM User WHERE ProfileId = '{profiles[0]['Id']}'"
    )
    assert {u["Name"]: u["IsActive"] for u in users} == {
        "Li Wei": True,
        "Maria Garcia": True,
        "James Smith": True,
        "Former Rep": False,
    }


def test_an_assigned_permission_set_is_deleted_after_its_assignments(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    _, ps_id = _granted_field(rest, box)
    refused = rest.call("DELETE", f"/sobjects/PermissionSet/{ps_id}")
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "DELETE_FAILED"
    assignments = _records(
        rest, f"SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = '{ps_id}'"
    )
    for a in assignments:
        assert (
            rest.call("DELETE", f"/sobjects/PermissionSetAssignment/{a['Id']}").status_code == 204
        )
    assert rest.call("DELETE", f"/sobjects/PermissionSet/{ps_id}").status_code == 204
    assert _records(rest, f"SELECT Id FROM FieldPermissions WHERE ParentId = '{ps_id}'") == []
    gone = rest.call("DELETE", f"/sobjects/PermissionSet/{ps_id}")
    assert gone.status_code == 404
    # the field is hidden again: FLS is gone with the permission set
    hidden = rest.query("SELECT Admin_Grade__c FROM Account LIMIT 1")
    assert hidden.status_code == 400 and hidden.json()[0]["errorCode"] == "INVALID_FIELD"


def test_accounts_cannot_be_deleted(creds: SalesforceCredentials, box: SalesforceSandbox) -> None:
    answer = Rest(creds).call("DELETE", f"/sobjects/Account/{box.account_ids()[0]}")
    assert answer.status_code == 405
    assert box.count() == 30


def test_a_custom_field_update_replaces_its_values_but_not_its_type(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    field_id, _ = _granted_field(rest, box)
    meta = FIELD["Metadata"]
    values = [{"fullName": v, "label": v} for v in ("A", "B")]
    more = {**meta, "valueSet": {"restricted": True, "valueSetDefinition": {"value": values}}}
    path = f"/tooling/sobjects/CustomField/{field_id}"
    assert rest.call("PATCH", path, json={"Metadata": more}).status_code == 204
    described = rest.call("GET", "/sobjects/Account/describe").json()["fields"]
    grade = next(f for f in described if f["name"] == "Admin_Grade__c")
    assert [p["value"] for p in grade["picklistValues"]] == ["A", "B"]
    assert rest.call("GET", path).json()["Metadata"] == more
    retyped = rest.call("PATCH", path, json={"Metadata": {**meta, "type": "Text", "length": 9}})
    assert retyped.status_code == 400
    assert retyped.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_a_deleted_custom_field_takes_its_values_grants_and_layout_places(
    creds: SalesforceCredentials, box: SalesforceSandbox
) -> None:
    rest = Rest(creds)
    field_id, ps_id = _granted_field(rest, box)
    account = box.account_ids()[0]
    saved = rest.patch([{"id": account, "Admin_Grade__c": "A"}])
    assert saved.json()[0]["success"], saved.text
    layouts = rest.call("GET", "/tooling/query", params={"q": "SELECT Id, Name FROM Layout"})
    layout_id = layouts.json()["records"][0]["Id"]
    meta = rest.call("GET", f"/tooling/sobjects/Layout/{layout_id}").json()["Metadata"]
    meta["layoutSections"][0]["layoutColumns"][0]["layoutItems"].append(
        {"field": "Admin_Grade__c", "behavior": "Readonly"}
    )
    placed = rest.call("PATCH", f"/tooling/sobjects/Layout/{layout_id}", json={"Metadata": meta})
    assert placed.status_code == 204, placed.text

    assert rest.call("DELETE", f"/tooling/sobjects/CustomField/{field_id}").status_code == 204
    record = box.record(account)
    assert record is not None and "Admin_Grade__c" not in record
    assert _records(rest, f"SELECT Id FROM FieldPermissions WHERE ParentId = '{ps_id}'") == []
    fields = [
        item.get("field")
        for section in box.layouts()["Account Layout"]["layoutSections"]
        for column in section["layoutColumns"]
        for item in column["layoutItems"]
    ]
    assert "Admin_Grade__c" not in fields and "Name" in fields
    again = rest.call("POST", "/tooling/sobjects/CustomField", json=FIELD)
    assert again.status_code == 201  # the name is free again; the old values are not back
    assert rest.call("DELETE", f"/tooling/sobjects/CustomField/{field_id}").status_code == 404


def test_a_second_layout_copies_the_first(box: SalesforceSandbox) -> None:
    box.add_layout("Credit Team Layout")
    found = box.layouts()
    assert set(found) == {"Account Layout", "Credit Team Layout"}
    assert found["Credit Team Layout"] == found["Account Layout"]
