"""The Tooling API's REST side (salesforce.md 8.2): `CustomField` create, read, update and
delete on Account, the Account `Layout` read and update, and `tooling/query` over both.

A CustomField is a record of module `CustomField` (its `Metadata` as sent) and a `FieldDef` of
Account; it stays invisible to describe, query and writes until field-level security grants
it (`fls.py`). The Layout's `Metadata` follows the Metadata API's Layout type in its JSON
form: `layoutSections[{label, style, customLabel, detailHeading, editHeading,
layoutColumns[{layoutItems[{field, behavior}]}]}]` (shape assumed; see the README).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.call import Call
from crmqual.sandbox.salesforce.errors import SalesforceError, json_response
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.objects import record_number
from crmqual.sandbox.salesforce.schema import ACCOUNT, picklist
from crmqual.sandbox.store import SandboxStore, Scan, StoredRecord, iso

#: Metadata FieldType -> describe type (the types the sandbox creates)
FIELD_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Number": "double",
    "Currency": "currency",
    "Percent": "percent",
    "Date": "date",
    "DateTime": "datetime",
    "Checkbox": "boolean",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
}
#: the rest of the WSDL's FieldType enum: valid, not created by the sandbox
OTHER_FIELD_TYPES = (
    "AutoNumber", "Lookup", "MasterDetail", "Html", "EncryptedText", "Summary", "Hierarchy",
    "File", "MetadataRelationship", "Location", "ExternalLookup", "IndirectLookup",
    "CustomDataType", "Time", "Address", "Array",
)  # fmt: skip
MAX_PRECISION = 18
MAX_LONG_TEXT = 131_072
_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
LAYOUT_BEHAVIORS = ("Edit", "Required", "Readonly")


def _integrity(message: str, fields: list[str] | None = None) -> SalesforceError:
    return SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", message, fields or [])


def _values(meta: dict[str, Any]) -> list[str]:
    value_set = meta.get("valueSet") or {}
    definition = value_set.get("valueSetDefinition") or {}
    values = definition.get("value") or []
    if not isinstance(values, list):
        raise _integrity("valueSet.valueSetDefinition.value must be a list")
    out = []
    for v in values:
        name = v.get("fullName") if isinstance(v, dict) else None
        if not isinstance(name, str) or not name:
            raise _integrity("Every picklist value needs a fullName")
        out.append(name)
    return out


def field_def(full_name: str, meta: Any, number: int, now: str) -> FieldDef:
    """Check a CustomField's FullName and Metadata; the FieldDef it makes."""
    obj, _, name = full_name.partition(".")
    if obj != ACCOUNT:
        raise SalesforceError(
            400, "INVALID_TYPE", f"The sandbox creates custom fields on Account only, not {obj}"
        )
    if not name.endswith("__c") or not _NAME.match(name[:-3]) or len(name[:-3]) > 40:
        raise _integrity(f"Invalid field name: {full_name}", ["FullName"])
    if not isinstance(meta, dict):
        raise _integrity("Metadata is required", ["Metadata"])
    kind = meta.get("type")
    if kind in OTHER_FIELD_TYPES:
        raise _integrity(f"The sandbox does not create fields of type {kind}", ["type"])
    if kind not in FIELD_TYPES:
        raise SalesforceError(
            400, "JSON_PARSER_ERROR", f"'{kind}' is not a valid value for the enum 'FieldType'"
        )
    label = meta.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _integrity("Label: You must enter a value", ["label"])
    length: int | None = None
    scale: int | None = None
    values: list[str] = []
    if kind == "Text":
        length = meta.get("length")
        if not isinstance(length, int) or not 1 <= length <= 255:
            raise _integrity("Length: Text fields need a length from 1 to 255", ["length"])
    elif kind == "LongTextArea":
        length = meta.get("length")
        if not isinstance(length, int) or not 256 <= length <= MAX_LONG_TEXT:
            raise _integrity(
                f"Length: Long text areas need a length from 256 to {MAX_LONG_TEXT}", ["length"]
            )
        if not isinstance(meta.get("visibleLines"), int):
            raise _integrity("Visible Lines: You must enter a value", ["visibleLines"])
    elif kind == "TextArea":
        length = 255
    elif kind in ("Number", "Currency", "Percent"):
        precision = meta.get("precision")
        scale = meta.get("scale", 0)
        if not isinstance(precision, int) or not 1 <= precision <= MAX_PRECISION:
            raise _integrity(f"Length: precision must be from 1 to {MAX_PRECISION}", ["precision"])
        if not isinstance(scale, int) or not 0 <= scale <= precision:
            raise _integrity("Decimal Places: scale must be from 0 to the precision", ["scale"])
        length = precision
    elif kind in ("Picklist", "MultiselectPicklist"):
        values = _values(meta)
        if not values:
            raise _integrity("Values: You must enter at least one value", ["valueSet"])
        if len(set(values)) != len(values):
            raise _integrity("Values: duplicate picklist value", ["valueSet"])
        if kind == "MultiselectPicklist" and not isinstance(meta.get("visibleLines"), int):
            raise _integrity("Visible Lines: You must enter a value", ["visibleLines"])
        length = 4099 if kind == "MultiselectPicklist" else 255
    elif kind in ("Email", "Phone", "Url"):
        length = 80 if kind == "Email" else 40 if kind == "Phone" else 255
    return FieldDef(
        id=sf_id(PREFIXES["CustomField"], number),
        api_name=name,
        label=label,
        data_type=FIELD_TYPES[kind],
        custom=True,
        length=length,
        decimal_place=scale,
        system_mandatory=bool(meta.get("required")),
        picklist=picklist(values),
        created_time=now,
        modified_time=now,
    )


def create_field(store: SandboxStore, full_name: str, meta: Any, now: str) -> str:
    """Create a custom field on Account; returns its CustomField id."""
    name = full_name.partition(".")[2]
    present = {f.api_name.lower() for f in store.fields(ACCOUNT)}
    if name.lower() in present:
        raise SalesforceError(
            400,
            "DUPLICATE_DEVELOPER_NAME",
            f"There is already a field named {name[:-3] if name.endswith('__c') else name} "
            "on Account.",
            [],
        )
    number = store.next_ids(1, 1_000)[0]
    fdef = field_def(full_name, meta, number, now)
    with store.transaction():
        store.put_field(ACCOUNT, fdef)
        data = {
            "DeveloperName": name[:-3],
            "FullName": full_name,
            "TableEnumOrId": ACCOUNT,
            "NamespacePrefix": None,
            "Metadata": meta,
        }
        store.insert_records("CustomField", [StoredRecord("CustomField", number, now, now, data)])
    return fdef.id


def post_custom_field(call: Call) -> Response:
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("FullName"), str):
        raise _integrity("FullName is required", ["FullName"])
    new_id = create_field(call.store, body["FullName"], body.get("Metadata"), iso(call.now))
    return json_response({"id": new_id, "success": True, "errors": [], "warnings": []}, 201)


def patch_custom_field(call: Call, record: str) -> Response:
    """`PATCH tooling/sobjects/CustomField/{id}` `{"Metadata": {...}}` (a `FullName`, if
    sent, must be the field's): the Metadata replaces the field's (e.g. a picklist's values),
    204. The sandbox keeps a field's type: another `type` is 400 FIELD_INTEGRITY_EXCEPTION
    (Salesforce converts some types; the sandbox does not)."""
    rec = _tooling_record(call, "CustomField", record)
    body = call.json()
    if not isinstance(body, dict) or not isinstance(body.get("Metadata"), dict):
        raise _integrity("Metadata is required", ["Metadata"])
    full_name = str(rec.data["FullName"])
    if body.get("FullName", full_name) != full_name:
        raise _integrity("FullName cannot be changed", ["FullName"])
    meta = body["Metadata"]
    if meta.get("type") != rec.data["Metadata"].get("type"):
        raise _integrity("The sandbox does not change a field's type", ["type"])
    now = iso(call.now)
    fdef = field_def(full_name, meta, rec.id, now)
    with call.store.transaction():
        call.store.put_field(ACCOUNT, fdef.model_copy(update={"created_time": rec.created_time}))
        data = {**rec.data, "Metadata": meta}
        call.store.update_record(
            StoredRecord("CustomField", rec.id, rec.created_time, now, data),
            source="api", client="tooling", user_id=str(call.user),
            changes={"Metadata": ("(field)", "(field)")},
        )  # fmt: skip
    return Response(status=204)


def delete_custom_field(call: Call, record: str) -> Response:
    """`DELETE tooling/sobjects/CustomField/{id}`, 204: the field goes with every record's
    value of it, its FieldPermissions and its place on the layouts (as Salesforce takes a
    deleted field off layouts; its 15-day undelete is not emulated)."""
    rec = _tooling_record(call, "CustomField", record)
    name = str(rec.data["FullName"]).partition(".")[2]
    with call.store.transaction():
        call.store.drop_field(ACCOUNT, name)
        call.store.delete_records("CustomField", [rec.id])
        grants = [
            r.id
            for r in call.store.scan(Scan("FieldPermissions"))
            if str(r.data.get("Field", "")).lower() == f"{ACCOUNT}.{name}".lower()
        ]
        call.store.delete_records("FieldPermissions", grants)
        for layout in list(call.store.scan(Scan("Layout"))):
            _drop_from_layout(call, layout, name)
    return Response(status=204)


def _drop_from_layout(call: Call, layout: StoredRecord, name: str) -> None:
    meta = layout.data["Metadata"]
    changed = False
    for section in meta.get("layoutSections") or []:
        for column in section.get("layoutColumns") or []:
            items = column.get("layoutItems") or []
            kept = [i for i in items if str(i.get("field", "")).lower() != name.lower()]
            changed = changed or len(kept) != len(items)
            column["layoutItems"] = kept
    if changed:
        now = iso(call.now)
        call.store.update_record(
            StoredRecord("Layout", layout.id, layout.created_time, now, layout.data),
            source="api", client="layout", user_id=str(call.user),
            changes={"Metadata": ("(layout)", "(layout)")},
        )  # fmt: skip


def _tooling_record(call: Call, sobject: str, record: str) -> StoredRecord:
    number = record_number(sobject, record)
    found = call.store.get_records(sobject, [number]) if number is not None else {}
    if number is None or number not in found:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return found[number]


def get_tooling(call: Call, sobject: str, record: str) -> Response:
    """`GET tooling/sobjects/{CustomField|Layout}/{id}`: the record with its Metadata."""
    if sobject not in ("CustomField", "Layout"):
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    rec = _tooling_record(call, sobject, record)
    record_id = sf_id(PREFIXES[sobject], rec.id)
    body: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"{call.base()}/tooling/sobjects/{sobject}/{record_id}",
        },
        "Id": record_id,
        **rec.data,
        "CreatedDate": _dt(rec.created_time),
        "LastModifiedDate": _dt(rec.modified_time),
    }
    return json_response(body)


def _dt(stored: str) -> str:
    from crmqual.sandbox.salesforce.values import sf_datetime

    return sf_datetime(stored) or ""


def check_layout(store: SandboxStore, meta: Any) -> dict[str, Any]:
    """A Layout's Metadata as the sandbox keeps it; 400 FIELD_INTEGRITY_EXCEPTION if wrong."""
    if not isinstance(meta, dict) or not isinstance(meta.get("layoutSections"), list):
        raise _integrity("Metadata.layoutSections is required", ["layoutSections"])
    known = {f.api_name for f in store.fields(ACCOUNT)}
    seen: set[str] = set()
    for section in meta["layoutSections"]:
        if not isinstance(section, dict) or not isinstance(section.get("layoutColumns"), list):
            raise _integrity("Every layout section needs layoutColumns", ["layoutSections"])
        for column in section["layoutColumns"]:
            items = column.get("layoutItems") or [] if isinstance(column, dict) else None
            if not isinstance(items, list):
                raise _integrity("layoutItems must be a list", ["layoutItems"])
            for item in items:
                field = item.get("field") if isinstance(item, dict) else None
                if field is None:
                    continue  # a blank space or a canvas/component item
                if field not in known:
                    raise _integrity(f"Field {field} does not exist on Account", ["field"])
                if field in seen:
                    raise _integrity(f"Field {field} appears twice in the layout", ["field"])
                seen.add(field)
                if item.get("behavior", "Edit") not in LAYOUT_BEHAVIORS:
                    raise _integrity(f"Invalid behavior for {field}", ["behavior"])
    if "Name" not in seen:
        raise _integrity("The layout must include the required field Name", ["field"])
    return meta


def patch_layout(call: Call, record: str) -> Response:
    """`PATCH tooling/sobjects/Layout/{id}` `{"Metadata": {...}}`: replaces the whole
    Metadata (sections not sent are gone), 204."""
    rec = _tooling_record(call, "Layout", record)
    body = call.json()
    if not isinstance(body, dict) or "Metadata" not in body:
        raise _integrity("Metadata is required", ["Metadata"])
    meta = check_layout(call.store, body["Metadata"])
    now = iso(call.now)
    data = {**rec.data, "Metadata": meta}
    updated = StoredRecord("Layout", rec.id, rec.created_time, now, data)
    call.store.update_record(
        updated,
        source="api",
        client="layout",
        user_id=str(call.user),
        changes={"Metadata": ("(layout)", "(layout)")},
    )
    return Response(status=204)


def install_layout(store: SandboxStore, now: str) -> None:
    """The org's one Account layout, once."""
    if store.count("Layout"):
        return

    def items(*names: str) -> list[dict[str, Any]]:
        return [{"field": n, "behavior": "Required" if n == "Name" else "Edit"} for n in names]

    def section(label: str, left: list[str], right: list[str]) -> dict[str, Any]:
        return {
            "label": label,
            "style": "TwoColumnsTopToBottom",
            "customLabel": False,
            "detailHeading": True,
            "editHeading": True,
            "layoutColumns": [{"layoutItems": items(*left)}, {"layoutItems": items(*right)}],
        }

    meta = {
        "layoutSections": [
            section(
                "Account Information",
                ["OwnerId", "Name", "AccountNumber", "Type"],
                ["Phone", "Website", "Industry", "AnnualRevenue", "NumberOfEmployees"],
            ),
            section(
                "Address Information",
                ["BillingStreet", "BillingCity", "BillingState"],
                ["BillingPostalCode", "BillingCountry"],
            ),
            section("Description Information", ["Description"], []),
        ]
    }
    number = store.next_ids(1, 1_000)[0]
    data = {
        "Name": "Account Layout",
        "FullName": "Account-Account Layout",
        "TableEnumOrId": ACCOUNT,
        "Metadata": meta,
    }
    store.insert_records("Layout", [StoredRecord("Layout", number, now, now, data)])


def add_layout(store: SandboxStore, name: str, now: str) -> str:
    """Another Account layout (`Name` `name`), a copy of the first one's sections, as an
    admin makes one for a team; its Layout id."""
    first = next(store.scan(Scan("Layout")))
    number = store.next_ids(1, 1_000)[0]
    data = {**first.data, "Name": name, "FullName": f"{ACCOUNT}-{name}"}
    store.insert_records("Layout", [StoredRecord("Layout", number, now, now, data)])
    return sf_id(PREFIXES["Layout"], number)


def custom_fields(store: SandboxStore) -> list[StoredRecord]:
    return list(store.scan(Scan("CustomField")))
