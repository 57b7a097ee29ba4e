"""Checking a value a client writes against its field, by Fxiaoke field type."""

from __future__ import annotations

from typing import Any

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.fxiaoke.tenant import EMPLOYEES

TEXT = {"text", "long_text", "phone_number", "email", "url", "auto_number"}
NUMBER = {"number", "currency", "percentile"}
SINGLE = {"select_one", "record_type", "country", "province", "city"}
TIME = {"date", "date_time"}
LISTS = {"employee", "department", "select_many", "embedded_object_list"}
_EMPLOYEE_IDS = {e.employee_id for e in EMPLOYEES}


class BadValue(ValueError):
    """The value does not suit the field; the message says why (in Chinese, as Fxiaoke)."""


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise BadValue("应为数字")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise BadValue("应为数字") from None
        return int(number) if number.is_integer() and "." not in value else number
    raise BadValue("应为数字")


def checked(f: FieldDef, value: Any) -> Any:
    """The value as stored, or BadValue. None clears (a required field refuses it)."""
    if f.system_mandatory and value in (None, "", []):
        raise BadValue("必填字段不能为空")
    if value is None or (value == "" and f.data_type not in TEXT):
        return None
    kind = f.data_type
    codes = {p.actual_value for p in f.picklist}
    if kind in TEXT:
        if not isinstance(value, str):
            raise BadValue("应为文本")
        if f.length is not None and len(value) > f.length:
            raise BadValue(f"长度不能超过{f.length}")
        return value
    if kind in NUMBER:
        return _number(value)
    if kind in SINGLE:
        if not isinstance(value, str) or value not in codes:
            raise BadValue("选项值不存在")
        return value
    if kind in TIME:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValue("应为毫秒时间戳")
        return value
    if kind == "true_or_false":
        if not isinstance(value, bool):
            raise BadValue("应为true或false")
        return value
    if kind in LISTS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadValue("应为字符串数组")
        if kind == "select_many" and not set(value) <= codes:
            raise BadValue("选项值不存在")
        if kind == "employee" and not set(value) <= _EMPLOYEE_IDS:
            raise BadValue("人员不存在")
        return value
    if kind == "object_reference":
        if not isinstance(value, str):
            raise BadValue("应为数据ID")
        return value
    return value  # location and other composite types: kept as given
