"""Checking one field value the way Zoho's record API does before it stores it.

`check(field, value)` returns None when the value may be stored, else the error's code and the
`details` keys that go with it (zoho.md section 6: `expected_data_type` for a wrong type,
`maximum_length` for an over-long value). `json_path` and `api_name` are added by the caller.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from crmqual.sandbox.fielddef import FieldDef

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")
_ID = re.compile(r"^\d{1,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Problem = tuple[str, dict[str, Any]]


def _wrong_type(expected: str) -> Problem:
    return "INVALID_DATA", {"expected_data_type": expected}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _digits(value: float) -> int:
    return len(re.sub(r"\D", "", f"{abs(value):.15g}".split("e")[0]))


def check(f: FieldDef, value: Any) -> Problem | None:
    """None if `value` fits `f`; otherwise (code, details). `None` clears a field unless it is
    mandatory."""
    if value is None or value == "":
        if f.system_mandatory:
            return "MANDATORY_NOT_FOUND", {}
        return None
    kind = f.data_type
    if kind in ("text", "textarea", "phone", "website", "email", "autonumber"):
        if not isinstance(value, str):
            return _wrong_type("string")
        if kind == "email" and not _EMAIL.match(value):
            return "INVALID_DATA", {}
        if f.length is not None and len(value) > f.length:
            return "INVALID_DATA", {"maximum_length": f.length}
        return None
    if kind in ("integer", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            return _wrong_type("integer")
        if f.length is not None and len(str(abs(value))) > f.length:
            return "INVALID_DATA", {"maximum_length": f.length}
        return None
    if kind in ("double", "currency", "percent", "decimal"):
        if not _is_number(value):
            return _wrong_type("double")
        if f.length is not None and _digits(float(value)) > f.length:
            return "INVALID_DATA", {"maximum_length": f.length}
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else _wrong_type("boolean")
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return _wrong_type("date")
        try:
            date.fromisoformat(value)
        except ValueError:
            return _wrong_type("date")
        return None
    if kind == "datetime":
        if not isinstance(value, str) or not _DATETIME.match(value):
            return _wrong_type("datetime")
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return _wrong_type("datetime")
        return None
    if kind == "picklist":
        if not isinstance(value, str):
            return _wrong_type("string")
        allowed = {v.display_value for v in f.picklist}
        return None if value in allowed else ("INVALID_DATA", {"expected_data_type": "picklist"})
    if kind == "multiselectpicklist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _wrong_type("jsonarray")
        allowed = {v.display_value for v in f.picklist}
        if any(v not in allowed for v in value):
            return "INVALID_DATA", {"expected_data_type": "multiselectpicklist"}
        return None
    if kind in ("lookup", "ownerlookup", "userlookup"):
        ref = value.get("id") if isinstance(value, dict) else value
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if not isinstance(ref, str) or not _ID.match(ref):
            return _wrong_type("jsonobject")
        return None
    return None


def is_record_id(value: Any) -> bool:
    """SDKs send ids as JSON numbers, other clients as digit strings: both are accepted."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and bool(_ID.match(value))
