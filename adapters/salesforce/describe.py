"""An sObject's describe (``GET sobjects/{name}/describe``) as crmqual's ``FieldSpec``s.

Custom fields have no integer type: a Number field is a double, and with scale 0 it behaves
as an integer (salesforce.md 8.1), so that is what crmqual reads it as."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crmqual.contract import FieldSpec, FieldType

#: Salesforce's describe ``type`` -> the common model's field type (others read as text).
TYPES: dict[str, FieldType] = {
    "string": FieldType.TEXT,
    "textarea": FieldType.TEXTAREA,
    "int": FieldType.INTEGER,
    "double": FieldType.NUMBER,
    "percent": FieldType.NUMBER,
    "currency": FieldType.CURRENCY,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "boolean": FieldType.BOOLEAN,
    "picklist": FieldType.PICKLIST,
    "multipicklist": FieldType.MULTISELECT,
}


def field_spec(field: Mapping[str, Any]) -> FieldSpec:
    kind = TYPES.get(str(field.get("type", "")), FieldType.TEXT)
    if kind == FieldType.NUMBER and field.get("scale") == 0:
        kind = FieldType.INTEGER  # a Number with no decimals: Salesforce's integer field
    values = tuple(
        str(v["value"])
        for v in field.get("picklistValues") or ()
        if isinstance(v, Mapping) and v.get("active", True) and v.get("value") is not None
    )
    length = field.get("length")
    return FieldSpec(
        api_name=str(field["name"]),
        type=kind,
        label=str(field.get("label") or field["name"]),
        picklist=values if kind in (FieldType.PICKLIST, FieldType.MULTISELECT) else (),
        length=int(length) if isinstance(length, int) and length > 0 else None,
    )


def field_specs(fields: Iterable[Mapping[str, Any]]) -> dict[str, FieldSpec]:
    return {str(f["name"]): field_spec(f) for f in fields}
