"""REST sObject resources: describe (with field-level security), single records, sObject
Collections update, creating and deleting Tasks and the FLS objects, and `limits/`."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.call import Call, client_name
from crmqual.sandbox.salesforce.errors import SalesforceError, json_response
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.objects import (
    canonical_object,
    fields_for,
    normalise_id,
    record_id,
    record_number,
)
from crmqual.sandbox.salesforce.quota import Ledger
from crmqual.sandbox.salesforce.saves import (
    Change,
    parse_collection,
    picklist_rules,
    save_accounts,
)
from crmqual.sandbox.salesforce.schema import ACCOUNT, OTHER_OBJECTS
from crmqual.sandbox.salesforce.values import FieldProblem, check, full_row, render
from crmqual.sandbox.store import Scan, StoredRecord, iso

_SOAP = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "boolean": "xsd:boolean",
}


def _object(call: Call, name: str) -> str:
    sobject = canonical_object(name, tooling=False)
    if sobject is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return sobject


def describe_field(fdef: FieldDef, editable: bool, restricted: bool) -> dict[str, Any]:
    kind = fdef.data_type
    numeric = kind in ("currency", "double", "percent")
    text_like = kind not in _SOAP or kind in ("id", "reference")
    return {
        "name": fdef.api_name,
        "label": fdef.label,
        "type": kind,
        "soapType": _SOAP.get(kind, "xsd:string"),
        "length": (fdef.length or 0) if text_like else 0,
        "byteLength": 3 * (fdef.length or 0) if text_like else 0,
        "precision": (fdef.length or 18) if numeric else 0,
        "scale": (fdef.decimal_place or 0) if numeric else 0,
        "digits": (fdef.length or 9) if kind == "int" else 0,
        "custom": fdef.custom,
        "nillable": not fdef.system_mandatory and kind not in ("id", "boolean"),
        "createable": editable,
        "updateable": editable,
        "defaultedOnCreate": kind == "boolean" or fdef.api_name == "OwnerId",
        "calculated": False,
        "autoNumber": False,
        "unique": False,
        "externalId": False,
        "idLookup": fdef.api_name == "Id",
        "filterable": kind != "textarea" or (fdef.length or 0) <= 255,
        "sortable": kind not in ("textarea", "multipicklist"),
        "htmlFormatted": False,
        "deprecatedAndHidden": False,
        "inlineHelpText": None,
        "referenceTo": [fdef.lookup_module] if fdef.lookup_module else [],
        "relationshipName": fdef.api_name[:-2]
        if kind == "reference" and fdef.api_name.endswith("Id")
        else None,
        "restrictedPicklist": restricted,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": False,
                "label": p.display_value,
                "validFor": None,
                "value": p.actual_value,
            }
            for p in fdef.picklist
        ],
    }


def describe(call: Call, sobject: str) -> Response:
    """`GET sobjects/{type}/describe`: custom fields appear once FLS grants them."""
    name = _object(call, sobject)
    seen = fields_for(call.store, name, call.user)
    restricted = picklist_rules(call.store) if name == ACCOUNT else {}
    base = f"{call.base()}/sobjects/{name}"
    writable = name in (ACCOUNT, *OTHER_OBJECTS)
    return json_response(
        {
            "name": name,
            "label": name,
            "labelPlural": name + "s",
            "keyPrefix": PREFIXES.get(name),
            "custom": False,
            "createable": writable,
            "updateable": writable,
            "deletable": False,
            "queryable": True,
            "searchable": name == ACCOUNT,
            "fields": [
                describe_field(
                    f,
                    key in seen.editable,
                    restricted.get(f.api_name, f.api_name == "CurrencyIsoCode"),
                )
                for key, f in seen.readable.items()
            ],
            "recordTypeInfos": [],
            "childRelationships": [],
            "urls": {
                "sobject": base,
                "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}",
            },
        }
    )


def describe_global(call: Call) -> Response:
    """`GET sobjects`: the objects the sandbox serves."""
    from crmqual.sandbox.salesforce.objects import object_names

    listed = []
    for name in object_names(tooling=False):
        writable = name in (ACCOUNT, *OTHER_OBJECTS)
        base = f"{call.base()}/sobjects/{name}"
        listed.append(
            {
                "name": name,
                "label": name,
                "labelPlural": name + "s",
                "keyPrefix": PREFIXES.get(name),
                "custom": False,
                "queryable": True,
                "createable": writable,
                "updateable": name == ACCOUNT,
                "urls": {"sobject": base, "describe": f"{base}/describe"},
            }
        )
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": listed})


def get_record(call: Call, sobject: str, record: str) -> Response:
    """`GET sobjects/{type}/{id}[?fields=a,b]`."""
    name = _object(call, sobject)
    seen = fields_for(call.store, name, call.user)
    number = record_number(name, record)
    found = call.store.get_records(name, [number]) if number is not None else {}
    if number is None or number not in found:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    row = full_row(found[number], record_id(name, number))
    wanted = call.request.args.get("fields")
    defs = list(seen.readable.values())
    if wanted:
        defs = []
        for field_name in wanted.split(","):
            fdef = seen.readable.get(field_name.strip().lower())
            if fdef is None:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{field_name.strip()}' on sobject of type {name}",
                )
            defs.append(fdef)
    body: dict[str, Any] = {
        "attributes": {"type": name, "url": f"{call.base()}/sobjects/{name}/{row['Id']}"}
    }
    body.update({f.api_name: render(f.data_type, row.get(f.api_name)) for f in defs})
    return json_response(body)


def _fails(call: Call) -> Any:
    rate = call.profile.record_error if call.profile is not None else 0.0
    return lambda index: call.decision.record_fails(index, rate)


def patch_record(call: Call, sobject: str, record: str) -> Response:
    """`PATCH sobjects/Account/{id}`: 204, or 400/404 with the record's error."""
    name = _object(call, sobject)
    if name != ACCOUNT:
        raise SalesforceError(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method 'PATCH' not allowed for {name}"
        )
    body = call.json()
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    seen = fields_for(call.store, ACCOUNT, call.user)
    results = save_accounts(
        call.store, seen, [Change(record, body)], all_or_none=True, now_iso=iso(call.now),
        user=call.user, client=client_name(call.request), fails=_fails(call),
    )  # fmt: skip
    result = results[0]
    if result.success:
        return Response(status=204)
    error = result.errors[0]
    status = 404 if error["statusCode"] == "INVALID_CROSS_REFERENCE_KEY" else 400
    if status == 404:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    raise SalesforceError(400, error["statusCode"], error["message"], error["fields"])


def collections_patch(call: Call) -> Response:
    """`PATCH composite/sobjects`: one SaveResult per record, in input order."""
    all_or_none, changes = parse_collection(call.json(), call.limits.collection_max)
    seen = fields_for(call.store, ACCOUNT, call.user)
    results = save_accounts(
        call.store, seen, changes, all_or_none=all_or_none, now_iso=iso(call.now),
        user=call.user, client=client_name(call.request), fails=_fails(call),
    )  # fmt: skip
    return json_response([r.as_dict() for r in results])


def create(call: Call, sobject: str) -> Response:
    """`POST sobjects/{Task|PermissionSet|FieldPermissions|PermissionSetAssignment}`."""
    name = _object(call, sobject)
    if name not in OTHER_OBJECTS:
        raise SalesforceError(
            400, "INVALID_TYPE", f"The sandbox does not create {name} records through the API"
        )
    body = call.json()
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    seen = fields_for(call.store, name, call.user)
    data: dict[str, Any] = {}
    for key, value in body.items():
        if key == "attributes":
            continue
        fdef = seen.readable.get(key.lower())
        if fdef is None:
            raise SalesforceError(
                400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {name}", [key]
            )
        if fdef.read_only:
            raise SalesforceError(
                400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {fdef.api_name}.", [fdef.api_name],
            )  # fmt: skip
        try:
            data[fdef.api_name] = check(fdef, value, False, set())
        except FieldProblem as problem:
            raise SalesforceError(400, problem.code, problem.message, [problem.field]) from None
        if fdef.data_type == "reference" and isinstance(data[fdef.api_name], str):
            data[fdef.api_name] = normalise_id(data[fdef.api_name])
    missing = [
        f.api_name
        for f in seen.editable.values()
        if f.system_mandatory and data.get(f.api_name) is None
    ]
    if missing:
        raise SalesforceError(
            400,
            "REQUIRED_FIELD_MISSING",
            f"Required fields are missing: [{', '.join(missing)}]",
            missing,
        )
    _check_references(call, name, data)
    user_id = sf_id(PREFIXES["User"], call.user)
    now = iso(call.now)
    data.update({"CreatedById": user_id, "LastModifiedById": user_id, "LastModifiedDate": now})
    if name == "Task":
        data.setdefault("OwnerId", user_id)
        data.setdefault("Status", "Not Started")
        data.setdefault("Priority", "Normal")
    number = call.store.next_ids(1, 1_000)[0]
    call.store.insert_records(name, [StoredRecord(name, number, now, now, data)])
    return json_response({"id": record_id(name, number), "success": True, "errors": []}, 201)


def _exists(call: Call, sobject: str, text: Any) -> bool:
    number = record_number(sobject, str(text or ""))
    return number is not None and bool(call.store.get_records(sobject, [number]))


def _check_references(call: Call, name: str, data: dict[str, Any]) -> None:
    def refuse(field: str) -> None:
        raise SalesforceError(
            400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field]
        )

    if name == "FieldPermissions":
        if not _exists(call, "PermissionSet", data.get("ParentId")):
            refuse("ParentId")
        if data.get("PermissionsEdit") and not data.get("PermissionsRead"):
            raise SalesforceError(
                400, "FIELD_INTEGRITY_EXCEPTION", "Permission Edit depends on permission(s): Read"
            )
        obj, _, field_name = str(data.get("Field", "")).partition(".")
        known = (
            {f.api_name.lower() for f in call.store.fields(obj)}
            if obj == data.get("SobjectType")
            else set()
        )
        if field_name.lower() not in known:
            raise SalesforceError(
                400, "INVALID_FIELD", f"Invalid field: {data.get('Field')}", ["Field"]
            )
    if name == "PermissionSetAssignment":
        if not _exists(call, "PermissionSet", data.get("PermissionSetId")):
            refuse("PermissionSetId")
        if not _exists(call, "User", data.get("AssigneeId")):
            refuse("AssigneeId")
    if (
        name == "Task"
        and data.get("WhatId") is not None
        and not _exists(call, ACCOUNT, data["WhatId"])
    ):
        refuse("WhatId")


#: what `DELETE sobjects/{type}/{id}` takes: the records crmqual's provisioning makes
DELETABLE = ("Task", "PermissionSet", "FieldPermissions", "PermissionSetAssignment")


def delete_record(call: Call, sobject: str, record: str) -> Response:
    """`DELETE sobjects/{type}/{id}`, 204. A permission set goes with its FieldPermissions;
    one still assigned to users is refused (400 `DELETE_FAILED`: the code and wording are
    the sandbox's, not confirmed): its assignments are deleted first."""
    name = _object(call, sobject)
    if name not in DELETABLE:
        raise SalesforceError(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method 'DELETE' not allowed for {name}"
        )
    number = record_number(name, record)
    if number is None or not call.store.get_records(name, [number]):
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    own_id = record_id(name, number)
    with call.store.transaction():
        if name == "PermissionSet":
            if any(
                r.data.get("PermissionSetId") == own_id
                for r in call.store.scan(Scan("PermissionSetAssignment"))
            ):
                raise SalesforceError(
                    400,
                    "DELETE_FAILED",
                    "This permission set is assigned to users: remove the assignments first",
                )
            children = [
                r.id
                for r in call.store.scan(Scan("FieldPermissions"))
                if r.data.get("ParentId") == own_id
            ]
            call.store.delete_records("FieldPermissions", children)
        call.store.delete_records(name, [number])
    return Response(status=204)


def limits(call: Call, ledger: Ledger) -> Response:
    """`GET limits/`: per limit `{"Max", "Remaining"}`."""
    allowance = ledger.quota.allowance
    used = ledger.used(call.now)
    return json_response(
        {
            "DailyApiRequests": {"Max": allowance, "Remaining": max(0, allowance - used)},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 1048576, "Remaining": 1048576},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        }
    )
