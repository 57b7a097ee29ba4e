"""Zoho's Fields metadata API: describe, create custom fields, update them (zoho.md section 8).

Create and update are all-or-nothing per call: the first invalid field stops the call with HTTP
400 `{"fields": [error]}` and nothing is stored (the OAS error wrappers hold errors of one kind
only, so the sandbox reports one).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef, PicklistValue
from crmqual.sandbox.store import iso
from crmqual.sandbox.zoho.call import Call, empty_response, json_response
from crmqual.sandbox.zoho.errors import (
    INVALID_DATA_MESSAGE,
    MANDATORY_MESSAGE,
    ZohoError,
    error_body,
    missing_param,
)
from crmqual.sandbox.zoho.schema import ID_BASE, default_length, render_field

READ = (("ZohoCRM.settings.fields.READ",),)
CREATE = (("ZohoCRM.settings.fields.CREATE",),)
UPDATE = (("ZohoCRM.settings.fields.UPDATE",),)

CREATABLE_TYPES = frozenset(
    {
        "text",
        "textarea",
        "email",
        "phone",
        "website",
        "picklist",
        "multiselectpicklist",
        "date",
        "datetime",
        "integer",
        "bigint",
        "double",
        "currency",
        "percent",
        "boolean",
    }
)
MAX_LENGTH = {"text": 255, "integer": 9, "bigint": 18, "double": 16, "currency": 16}
"""Length ceilings (zoho.md 8.3, [ZDEV-CF]); textarea takes its size from `textarea.type`."""


def api_name_for(label: str) -> str:
    """Zoho derives an api_name from the label: spaces (and, here, any other run of characters
    that are not ASCII letters or digits) become one underscore. The exact rule is not confirmed
    (zoho.md 8.5); see the README."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_")
    if not name or not name[0].isalpha():
        name = f"Field_{name}".rstrip("_")
    return name


def _module(call: Call) -> tuple[str, dict[str, FieldDef]]:
    module = call.request.args.get("module")
    if not module:
        raise missing_param("module")
    return module, call.module_fields(module)


def _field_error(code: str, api_name: str, path: str, **extra: Any) -> ZohoError:
    message = MANDATORY_MESSAGE if code == "MANDATORY_NOT_FOUND" else INVALID_DATA_MESSAGE
    details = {"api_name": api_name, "json_path": path, **extra}
    return ZohoError(400, {"fields": [error_body(code, message, details)]})


def _touch_module(call: Call, module: str) -> None:
    """A metadata change moves the module's modified_time, so SDK field caches refresh."""
    definition = call.store.modules()[module]
    call.store.put_module(module, {**definition, "modified_time": iso(call.now)})


# -- describe ----------------------------------------------------------------------------------
def get_fields(call: Call, field_id: str | None = None) -> Response:
    call.require(READ)
    module, fields = _module(call)
    kind = call.request.args.get("type", "all")
    if kind not in ("all", "used", "unused"):
        raise ZohoError.of(
            400, "INVALID_DATA", INVALID_DATA_MESSAGE, {"api_name": "type", "json_path": "$.type"}
        )
    chosen = list(fields.values()) if kind != "unused" else []
    if field_id is not None:
        chosen = [f for f in chosen if f.id == field_id]
        if not chosen:
            raise ZohoError.of(
                400, "INVALID_DATA", INVALID_DATA_MESSAGE, {"api_name": "id", "json_path": "$.id"}
            )
    if not chosen:
        return empty_response(204)
    del module
    return json_response({"fields": [render_field(f, call.version) for f in chosen]})


# -- create ------------------------------------------------------------------------------------
def _body_fields(call: Call) -> list[Any]:
    body = call.json_body()
    items = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _field_error("MANDATORY_NOT_FOUND", "fields", "$.fields")
    if len(items) > call.limits.fields_per_create:
        raise ZohoError(
            400,
            {
                "fields": [
                    error_body(
                        "LIMIT_EXCEEDED",
                        "limit exceeded",
                        {
                            "limit": call.limits.fields_per_create,
                            "limit_due_to": [{"api_name": "fields", "json_path": "$.fields"}],
                        },
                    )
                ]
            },
        )
    return items


def create_fields(call: Call) -> Response:
    call.require(CREATE)
    module, fields = _module(call)
    items = _body_fields(call)
    custom = sum(1 for f in fields.values() if f.custom)
    labels = {f.label.lower() for f in fields.values()}
    names = set(fields)
    created: list[FieldDef] = []
    for n, item in enumerate(items):
        path = f"$.fields[{n}]"
        if custom + len(created) >= call.limits.custom_fields:
            raise ZohoError(
                400,
                {
                    "fields": [
                        error_body(
                            "LIMIT_EXCEEDED",
                            "limit exceeded",
                            {
                                "limit": call.limits.custom_fields,
                                "limit_due_to": [{"api_name": "fields", "json_path": path}],
                            },
                        )
                    ]
                },
            )
        definition = _new_field(call, item, path, labels, names)
        labels.add(definition.label.lower())
        names.add(definition.api_name)
        created.append(definition)
    for definition in created:
        call.store.put_field(module, definition)
    _touch_module(call, module)
    results = [
        {
            "code": "SUCCESS",
            "details": {"id": f.id},
            "message": "field created",
            "status": "success",
        }
        for f in created
    ]
    return json_response({"fields": results}, 201)


def _new_field(call: Call, item: Any, path: str, labels: set[str], names: set[str]) -> FieldDef:
    if not isinstance(item, dict):
        raise _field_error("INVALID_DATA", "fields", path)
    label = item.get("field_label") or item.get("display_label")
    if not isinstance(label, str) or not label.strip():
        raise _field_error("MANDATORY_NOT_FOUND", "field_label", f"{path}.field_label")
    data_type = item.get("data_type")
    if not isinstance(data_type, str) or not data_type:
        raise _field_error("MANDATORY_NOT_FOUND", "data_type", f"{path}.data_type")
    if data_type not in CREATABLE_TYPES:
        raise _field_error("INVALID_DATA", "data_type", f"{path}.data_type")
    api_name = item.get("api_name") or api_name_for(label)
    if not isinstance(api_name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", api_name):
        raise _field_error("INVALID_DATA", "api_name", f"{path}.api_name")
    if label.strip().lower() in labels or api_name in names:
        raise ZohoError(
            400,
            {
                "fields": [
                    error_body(
                        "DUPLICATE_DATA",
                        "duplicate data",
                        {"api_name": "field_label", "json_path": f"{path}.field_label"},
                    )
                ]
            },
        )
    length = item.get("length", default_length(data_type))
    ceiling = MAX_LENGTH.get(data_type)
    if length is not None and (not isinstance(length, int) or isinstance(length, bool)):
        raise _field_error("INVALID_DATA", "length", f"{path}.length", expected_data_type="integer")
    if ceiling is not None and length is not None and length > ceiling:
        raise _field_error("INVALID_DATA", "length", f"{path}.length", maximum_length=ceiling)
    values = _picklist_input(item, path, data_type)
    tooltip = item.get("tooltip")
    if tooltip is not None and not (
        isinstance(tooltip, dict)
        and isinstance(tooltip.get("name"), str)
        and isinstance(tooltip.get("value"), str)
    ):
        raise _field_error("INVALID_DATA", "tooltip", f"{path}.tooltip")
    ids = call.store.next_ids(1 + len(values), ID_BASE + 100)
    now = iso(call.now)
    decimals = item.get("decimal_place")
    if data_type in ("currency", "double") and not isinstance(decimals, int):
        decimals = 2
    return FieldDef(
        id=str(ids[0]),
        api_name=api_name,
        label=label.strip(),
        data_type=data_type,
        custom=True,
        length=length,
        decimal_place=decimals if isinstance(decimals, int) else None,
        picklist=tuple(
            PicklistValue(id=str(i), display_value=d, actual_value=a, sequence_number=s)
            for s, ((d, a), i) in enumerate(zip(values, ids[1:], strict=True), start=1)
        ),
        tooltip=tooltip,
        created_time=now,
        modified_time=now,
    )


def _picklist_input(item: dict[str, Any], path: str, data_type: str) -> list[tuple[str, str]]:
    raw = item.get("pick_list_values")
    if data_type not in ("picklist", "multiselectpicklist"):
        return []
    if not isinstance(raw, list) or not raw:
        raise _field_error("MANDATORY_NOT_FOUND", "pick_list_values", f"{path}.pick_list_values")
    values: list[tuple[str, str]] = []
    for n, entry in enumerate(raw):
        display = entry.get("display_value") if isinstance(entry, dict) else None
        if not isinstance(display, str) or not display:
            raise _field_error(
                "MANDATORY_NOT_FOUND",
                "display_value",
                f"{path}.pick_list_values[{n}].display_value",
            )
        actual = entry.get("actual_value") or display
        if any(d == display for d, _ in values):
            raise _field_error(
                "INVALID_DATA", "display_value", f"{path}.pick_list_values[{n}].display_value"
            )
        values.append((display, str(actual)))
    return values


# -- update ------------------------------------------------------------------------------------
def update_fields(call: Call, field_id: str | None = None) -> Response:
    """PATCH: labels and tooltips of custom fields; picklist values appended (entries without
    `id`), renamed (with `id`) or removed (`_delete`). Entries not sent stay as they are."""
    call.require(UPDATE)
    module, fields = _module(call)
    items = _body_fields(call)
    by_id = {f.id: f for f in fields.values()}
    updated: list[FieldDef] = []
    for n, item in enumerate(items):
        path = f"$.fields[{n}]"
        if not isinstance(item, dict):
            raise _field_error("INVALID_DATA", "fields", path)
        target_id = str(item.get("id") or field_id or "")
        current = by_id.get(target_id)
        if current is None:
            raise _field_error("INVALID_DATA", "id", f"{path}.id")
        updated.append(_changed_field(call, current, item, path))
    for definition in updated:
        call.store.put_field(module, definition)
    _touch_module(call, module)
    results = [
        {
            "code": "SUCCESS",
            "details": {"id": f.id},
            "message": "field updated",
            "status": "success",
        }
        for f in updated
    ]
    return json_response({"fields": results}, 200)


def _changed_field(call: Call, current: FieldDef, item: dict[str, Any], path: str) -> FieldDef:
    changes: dict[str, Any] = {"modified_time": iso(call.now)}
    if "data_type" in item and item["data_type"] != current.data_type:
        raise _field_error("INVALID_DATA", "data_type", f"{path}.data_type")
    label = item.get("field_label") or item.get("display_label")
    if label is not None and label != current.label:
        if not current.custom or not isinstance(label, str) or not label.strip():
            raise _field_error("INVALID_DATA", "field_label", f"{path}.field_label")
        changes["label"] = label.strip()
    if "tooltip" in item:
        changes["tooltip"] = item["tooltip"]
    if "pick_list_values" in item:
        if current.data_type not in ("picklist", "multiselectpicklist"):
            raise _field_error("INVALID_DATA", "pick_list_values", f"{path}.pick_list_values")
        changes["picklist"] = _merged_picklist(call, current, item["pick_list_values"], path)
    return current.model_copy(update=changes)


def _merged_picklist(
    call: Call, current: FieldDef, entries: Any, path: str
) -> tuple[PicklistValue, ...]:
    if not isinstance(entries, list):
        raise _field_error("INVALID_DATA", "pick_list_values", f"{path}.pick_list_values")
    values = list(current.picklist)
    for n, entry in enumerate(entries):
        where = f"{path}.pick_list_values[{n}]"
        if not isinstance(entry, dict):
            raise _field_error("INVALID_DATA", "pick_list_values", where)
        if entry.get("id") is not None:
            index = next((i for i, v in enumerate(values) if v.id == str(entry["id"])), None)
            if index is None:
                raise _field_error("INVALID_DATA", "id", f"{where}.id")
            if entry.get("_delete"):
                del values[index]
            elif isinstance(entry.get("display_value"), str):
                values[index] = values[index].model_copy(
                    update={"display_value": entry["display_value"]}
                )
            continue
        display = entry.get("display_value")
        if not isinstance(display, str) or not display:
            raise _field_error("MANDATORY_NOT_FOUND", "display_value", f"{where}.display_value")
        if any(v.display_value == display for v in values):
            continue
        (new_id,) = call.store.next_ids(1, ID_BASE + 100)
        values.append(
            PicklistValue(
                id=str(new_id),
                display_value=display,
                actual_value=str(entry.get("actual_value") or display),
                sequence_number=max((v.sequence_number for v in values), default=0) + 1,
            )
        )
    return tuple(values)
