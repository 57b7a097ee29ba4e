"""Zoho's Fields metadata API as crmqual uses it (zoho.md section 8): describe the module,
create crmqual's output fields, append picklist values.

crmqual's field types map one to one onto Zoho ``data_type`` values, so a field crmqual
created is described back with the type it was created with (provisioning stays idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.contract import FieldSpec, FieldType
from crmqual.errors import ApiError

#: crmqual's type -> Zoho's data_type on create (zoho.md 8.3).
CREATE_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.TEXTAREA: "textarea",
    FieldType.INTEGER: "integer",
    FieldType.NUMBER: "double",
    FieldType.CURRENCY: "currency",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.BOOLEAN: "boolean",
    FieldType.PICKLIST: "picklist",
    FieldType.MULTISELECT: "multiselectpicklist",
}

#: Zoho's data_type -> crmqual's type when describing (types crmqual never creates included).
DESCRIBE_TYPES: dict[str, FieldType] = {
    **{zoho: ours for ours, zoho in CREATE_TYPES.items()},
    "bigint": FieldType.INTEGER,
    "percent": FieldType.NUMBER,
    "decimal": FieldType.NUMBER,
}

#: Zoho's own fields crmqual never writes nor creates (the record's currency, zoho.md 13).
RESERVED = frozenset({"Currency", "Exchange_Rate", "id", "Modified_Time", "Created_Time"})

ChineseLabels = Literal["tooltip", "label", "none"]


@dataclass(frozen=True)
class ZohoField:
    """A described field: crmqual's view of it, and Zoho's id (needed to change it)."""

    spec: FieldSpec
    field_id: str
    data_type: str


def describe(api: ZohoApi, module: str) -> dict[str, ZohoField]:
    answer = api.call(
        "GET",
        "/crm/v8/settings/fields",
        params={"module": module},
        endpoint="GET /crm/v8/settings/fields",
    )
    items = answer.body.get("fields") if isinstance(answer.body, dict) else None
    if answer.empty:
        items = []
    if not isinstance(items, list):
        raise ApiError(f"Zoho described {module} without a fields list")
    described = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("api_name"), str):
            found = _field(item)
            described[found.spec.api_name] = found
    if "id" not in described:  # the record id is not a field in Zoho's metadata
        described["id"] = ZohoField(FieldSpec("id", FieldType.TEXT, "Record Id"), "", "id")
    return described


def _field(item: dict[str, Any]) -> ZohoField:
    data_type = str(item.get("data_type") or "")
    values = tuple(
        str(v["display_value"])
        for v in item.get("pick_list_values") or ()
        if isinstance(v, dict) and v.get("display_value") is not None
    )
    length = item.get("length")
    spec = FieldSpec(
        api_name=item["api_name"],
        type=DESCRIBE_TYPES.get(data_type, FieldType.TEXT),
        label=str(item.get("field_label") or item.get("display_label") or item["api_name"]),
        picklist=values,
        length=length if isinstance(length, int) and length > 0 else None,
    )
    return ZohoField(spec, str(item.get("id") or ""), data_type)


def create_payload(spec: FieldSpec, chinese: ChineseLabels) -> dict[str, Any]:
    """One field of a create call: English label, Chinese in the tooltip (or the label)."""
    label = spec.label
    if chinese == "label" and spec.label_zh:
        label = f"{spec.label} {spec.label_zh}"
    payload: dict[str, Any] = {
        "api_name": spec.api_name,
        "field_label": label,
        "data_type": CREATE_TYPES[spec.type],
    }
    if chinese == "tooltip" and spec.label_zh:
        payload["tooltip"] = {"name": "info_icon", "value": spec.label_zh}
    if spec.type == FieldType.TEXT:
        payload["length"] = spec.length or 255
    elif spec.type == FieldType.TEXTAREA:
        payload["textarea"] = {"type": "large"}
    elif spec.type == FieldType.NUMBER:
        payload.update(length=16, decimal_place=2)
    elif spec.type == FieldType.CURRENCY:
        payload.update(
            length=16, decimal_place=2, currency={"rounding_option": "normal", "precision": 2}
        )
    elif spec.type in (FieldType.PICKLIST, FieldType.MULTISELECT):
        payload["pick_list_values"] = _values(spec.picklist)
    return payload


def _values(values: Sequence[str]) -> list[dict[str, str]]:
    return [{"display_value": v, "actual_value": v} for v in values]


def create(
    api: ZohoApi, module: str, specs: Sequence[FieldSpec], chinese: ChineseLabels, per_call: int
) -> None:
    for start in range(0, len(specs), per_call):
        batch = specs[start : start + per_call]
        answer = api.call(
            "POST",
            "/crm/v8/settings/fields",
            params={"module": module},
            json={"fields": [create_payload(s, chinese) for s in batch]},
            endpoint="POST /crm/v8/settings/fields",
            records=True,
        )
        _raise_field_errors(answer.status, answer.body, [s.api_name for s in batch], "create")


def append_values(api: ZohoApi, module: str, target: ZohoField, values: Sequence[str]) -> None:
    answer = api.call(
        "PATCH",
        f"/crm/v8/settings/fields/{target.field_id}",
        params={"module": module},
        json={"fields": [{"id": target.field_id, "pick_list_values": _values(values)}]},
        endpoint="PATCH /crm/v8/settings/fields/{id}",
        records=True,
    )
    _raise_field_errors(answer.status, answer.body, [target.spec.api_name], "update")


def _raise_field_errors(status: int, body: Any, names: list[str], action: str) -> None:
    items = body.get("fields") if isinstance(body, dict) else None
    if (
        status < 400
        and isinstance(items, list)
        and all(isinstance(i, dict) and i.get("status") == "success" for i in items)
    ):
        return
    problems = []
    for n, item in enumerate(items if isinstance(items, list) else [body]):
        if isinstance(item, dict) and item.get("status") != "success":
            details = _details(item)
            at = details.get("api_name") or details.get("json_path") or ""
            name = names[n] if n < len(names) else ",".join(names)
            problems.append(f"{name}: {item.get('code')} {item.get('message')} {at}".strip())
    raise ApiError(
        f"Zoho refused to {action} fields ({'; '.join(problems) or f'HTTP {status}'})",
        status=status,
        code=str(items[0].get("code"))
        if isinstance(items, list) and items and isinstance(items[0], dict)
        else "",
    )


def _details(item: dict[str, Any]) -> dict[str, Any]:
    details = item.get("details")
    return details if isinstance(details, dict) else {}
