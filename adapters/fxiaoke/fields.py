"""The customer object's fields through ``object/describe`` (fxiaoke.md 5), and how values
cross between Fxiaoke's forms and the forms crmqual's mapping reads and writes.

Fxiaoke keeps a select field's option **codes** in records (generated per tenant by the
console) and epoch milliseconds in date and date-time fields. The adapter hands records on
with option **labels** (what the admin sees and the mapping names), dates as ``YYYY-MM-DD``
and date-times as ISO-8601 in Beijing time, and an employee list (``owner``) as its ids
joined by commas; it writes labels back as their codes and times as epoch ms. Custom fields
get generated API names (``field_xxxxx__c``): only labels carry meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from crmqual.adapters.fxiaoke.api import DESCRIBE, FxiaokeApi
from crmqual.contract import FieldSpec, FieldType
from crmqual.errors import ApiError

BEIJING = timezone(timedelta(hours=8))

#: Fxiaoke's field types -> the common ones (``select_many`` / ``multi_select`` and
#: ``currency`` as describe shows them: not confirmed, fxiaoke.md 5).
TYPES: dict[str, FieldType] = {
    "text": FieldType.TEXT,
    "long_text": FieldType.TEXTAREA,
    "number": FieldType.NUMBER,
    "currency": FieldType.CURRENCY,
    "percentile": FieldType.NUMBER,
    "date": FieldType.DATE,
    "date_time": FieldType.DATETIME,
    "select_one": FieldType.PICKLIST,
    "select_many": FieldType.MULTISELECT,
    "multi_select": FieldType.MULTISELECT,
    "true_or_false": FieldType.BOOLEAN,
}
#: What the admin picks in the console for each output type: (Chinese name, Fxiaoke type).
CONSOLE_TYPES: dict[FieldType, tuple[str, str]] = {
    FieldType.TEXT: ("单行文本", "text"),
    FieldType.TEXTAREA: ("多行文本", "long_text"),
    FieldType.INTEGER: ("数字（0 位小数）", "number"),
    FieldType.NUMBER: ("数字", "number"),
    FieldType.CURRENCY: ("金额", "currency"),
    FieldType.DATE: ("日期", "date"),
    FieldType.DATETIME: ("日期时间", "date_time"),
    FieldType.BOOLEAN: ("布尔值", "true_or_false"),
    FieldType.PICKLIST: ("单选", "select_one"),
    FieldType.MULTISELECT: ("多选", "select_many"),
}


@dataclass(frozen=True)
class FxField:
    api_name: str
    label: str
    native_type: str
    options: tuple[tuple[str, str], ...] = ()  # (label, code) in the console's order
    decimals: int | None = None

    @property
    def spec(self) -> FieldSpec:
        kind = TYPES.get(self.native_type, FieldType.TEXT)
        if kind == FieldType.NUMBER and self.decimals == 0 and self.native_type == "number":
            kind = FieldType.INTEGER
        return FieldSpec(self.api_name, kind, self.label, tuple(lbl for lbl, _ in self.options))

    # -- Fxiaoke's value -> the value crmqual reads -------------------------------------------
    def shown(self, value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        kind = self.native_type
        if self.options and isinstance(value, str | list):  # select, country, province...
            labels = {code: lbl for lbl, code in self.options}
            if isinstance(value, list):
                return [labels.get(str(v), str(v)) for v in value]
            return labels.get(str(value), str(value))
        if kind in ("date", "date_time") and isinstance(value, int | float | str):
            try:
                moment = datetime.fromtimestamp(float(value) / 1000, BEIJING)
            except (TypeError, ValueError, OverflowError):
                return value  # not epoch ms: handed on as it is, the mapping names it
            return moment.date().isoformat() if kind == "date" else moment.isoformat()
        if kind in ("employee", "department") and isinstance(value, list):
            return ",".join(str(v) for v in value)
        return value

    # -- the value crmqual writes -> Fxiaoke's --------------------------------------------------
    def native(self, value: Any) -> Any:
        """``ValueError`` for a label that is not one of the field's options."""
        if value is None:
            return None
        kind = self.native_type
        if kind in ("select_one", "select_many"):
            codes = dict(self.options)
            items = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
            missing = [str(v) for v in items if str(v) not in codes]
            if missing:
                raise ValueError(f"{self.label}: no option {', '.join(missing)}")
            mapped = [codes[str(v)] for v in items]
            return mapped if kind == "select_many" else (mapped[0] if mapped else None)
        if kind in ("date", "date_time"):
            return epoch_ms(value, kind)
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if kind in ("text", "long_text") and not isinstance(value, str):
            return str(value)
        return value


def epoch_ms(value: Any, kind: str = "date_time") -> int:
    """A date (midnight in Beijing) or an aware time (ISO text or datetime) as epoch ms."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=BEIJING)
    else:
        text = str(value).replace("Z", "+00:00")
        moment = datetime.fromisoformat(text)
        if kind == "date" and len(text) == 10:
            moment = moment.replace(tzinfo=BEIJING)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def describe(api: FxiaokeApi, obj: str) -> dict[str, FxField]:
    """The object's fields by API name."""
    answer = api.call(DESCRIBE, {"apiName": obj, "includeDetail": True})
    data = answer.get("data")
    described = data.get("describe") if isinstance(data, dict) else None
    fields = described.get("fields") if isinstance(described, dict) else None
    if not isinstance(fields, dict):
        raise ApiError(f"Fxiaoke's describe of {obj} has no data.describe.fields")
    return {name: _field(name, f) for name, f in fields.items() if isinstance(f, dict)}


def _field(name: str, raw: Mapping[str, Any]) -> FxField:
    options = tuple(
        (str(o.get("label")), str(o.get("value")))
        for o in raw.get("options") or []
        if isinstance(o, dict)
    )
    places = raw.get("decimal_places")
    return FxField(
        api_name=str(raw.get("api_name") or name),
        label=str(raw.get("label") or name),
        native_type=str(raw.get("type") or "text"),
        options=options,
        decimals=places if isinstance(places, int) else None,
    )
