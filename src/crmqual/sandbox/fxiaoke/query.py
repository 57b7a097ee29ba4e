"""`POST /cgi/crm/v2/data/query`: filters, orders, projection and offset paging
(fxiaoke.md section 3).

`search_query_info = {limit, offset, filters[{field_name, field_values, operator}],
orders[{fieldName, isAsc}], fieldProjection}`. `limit` 1..`max_limit` (100), `offset` a
non-negative multiple of `limit`; empty `filters`, `orders` and `fieldProjection` are
accepted (no filter, `_id` order, every field). Records are ordered by the given orders, then
by `_id` so that pages never overlap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.fxiaoke.records import Ctx, fields_of
from crmqual.sandbox.fxiaoke.values import LISTS, NUMBER, TIME

OPERATORS = (
    "EQ",
    "N",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "LIKE",
    "NLIKE",
    "IS",
    "ISN",
    "IN",
    "NIN",
    "BETWEEN",
    "NBETWEEN",
    "STARTWITH",
    "ENDWITH",
    "CONTAINS",
)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _coerce(f: FieldDef, value: Any) -> Any:
    """A filter value in the field's terms (numbers and epoch ms may come as strings)."""
    if (f.data_type in NUMBER or f.data_type in TIME) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if f.data_type == "true_or_false" and isinstance(value, str):
        return {"true": True, "false": False}.get(value.lower(), value)
    return value


def _cmp(op: str, left: Any, right: Any) -> bool:
    try:
        if op == "GT":
            return bool(left > right)
        if op == "GTE":
            return bool(left >= right)
        if op == "LT":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


def _scalar(op: str, value: Any, wanted: list[Any]) -> bool:
    """One (non-list) value against a condition; `value` is not empty here."""
    first = wanted[0] if wanted else None
    if op == "EQ":
        return bool(value == first)
    if op in ("GT", "GTE", "LT", "LTE"):
        return first is not None and _cmp(op, value, first)
    if op == "IN":
        return value in wanted
    if op == "BETWEEN":
        return len(wanted) == 2 and _cmp("GTE", value, wanted[0]) and _cmp("LTE", value, wanted[1])
    text, needle = str(value), "" if first is None else str(first)
    if op == "LIKE":
        return needle in text
    if op == "STARTWITH":
        return text.startswith(needle)
    if op == "ENDWITH":
        return text.endswith(needle)
    return False


def matcher(f: FieldDef, op: str, raw: list[Any]) -> Callable[[Any], bool]:
    """A predicate for one filter on one field."""
    wanted = [_coerce(f, v) for v in raw]
    is_list = f.data_type in LISTS
    negated = {"N": "EQ", "NLIKE": "LIKE", "NIN": "IN", "NBETWEEN": "BETWEEN"}

    def positive(name: str, value: Any) -> bool:
        if _empty(value):
            return False
        if is_list and isinstance(value, list):
            return any(_scalar(name, v, wanted) for v in value)
        return _scalar(name, value, wanted)

    def test(value: Any) -> bool:
        if op == "IS":
            return _empty(value)
        if op == "ISN":
            return not _empty(value)
        if op == "CONTAINS":  # array contains: every given value is in the field's list
            items = value if isinstance(value, list) else [] if _empty(value) else [value]
            return bool(wanted) and all(w in items for w in wanted)
        if op in negated:  # negations also match empty values ("N can match empty values")
            return not positive(negated[op], value)
        return positive(op, value)

    return test


def _sort_key(value: Any) -> tuple[int, Any]:
    if _empty(value):
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, list):
        return (2, ",".join(map(str, value)))
    return (2, str(value))


def _int(ctx: Ctx, info: dict[str, Any], key: str, default: int) -> int:
    value = info.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error("param", f"{key}应为整数")
    return value


def query(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    obj = data.get("dataObjectApiName")
    if not isinstance(obj, str) or not obj:
        raise ctx.error("param", "dataObjectApiName不能为空")
    fields = fields_of(ctx, obj)
    info = data.get("search_query_info") or {}
    if not isinstance(info, dict):
        raise ctx.error("param", "search_query_info应为对象")
    limit = _int(ctx, info, "limit", ctx.settings.default_limit)
    offset = _int(ctx, info, "offset", 0)
    if not 1 <= limit <= ctx.settings.max_limit:
        raise ctx.error("param", f"limit应在1到{ctx.settings.max_limit}之间")
    if offset < 0 or offset % limit:
        raise ctx.error("param", "offset必须是limit的整数倍")

    def field(name: Any, where: str) -> FieldDef | None:
        f = fields.get(name) if isinstance(name, str) else None
        if f is None and ctx.settings.strict_projection:
            raise ctx.error("field", f"{where}中的字段{name}不存在")
        return f

    tests: list[tuple[str, Callable[[Any], bool]]] = []
    for spec in info.get("filters") or []:
        if not isinstance(spec, dict):
            raise ctx.error("param", "filters应为对象数组")
        op = spec.get("operator")
        if op not in OPERATORS:
            raise ctx.error("param", f"不支持的operator:{op}")
        values = spec.get("field_values")
        if values is None:
            values = []
        if not isinstance(values, list):
            values = [values]
        if op in ("BETWEEN", "NBETWEEN") and len(values) != 2:
            raise ctx.error("param", f"{op}需要两个field_values")
        f = field(spec.get("field_name"), "filters")
        if f is not None:
            tests.append((f.api_name, matcher(f, op, values)))
    orders: list[tuple[str, bool]] = []
    for spec in info.get("orders") or []:
        if not isinstance(spec, dict):
            raise ctx.error("param", "orders应为对象数组")
        f = field(spec.get("fieldName"), "orders")
        if f is not None:
            orders.append((f.api_name, spec.get("isAsc", True) is not False))
    projection = info.get("fieldProjection") or []
    if not isinstance(projection, list):
        raise ctx.error("param", "fieldProjection应为字段数组")
    shown = [name for name in projection if field(name, "fieldProjection") is not None]

    def select(every: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [r for r in every if all(t(r.get(name)) for name, t in tests)]
        rows.sort(key=lambda r: r["_id"])
        for name, ascending in reversed(orders):
            rows.sort(key=lambda r, n=name: _sort_key(r.get(n)), reverse=not ascending)  # type: ignore[misc]
        return rows

    key = json.dumps([info.get("filters") or [], orders], sort_keys=True, default=str)
    rows = ctx.view.selected(obj, key, select)
    page = rows[offset : offset + limit]
    if shown:
        keep = ["_id", *(n for n in shown if n != "_id")]
        page = [{n: r.get(n) for n in keep} for r in page]
    else:
        page = [dict(r) for r in page]
    total = len(rows) if data.get("find_explicit_total_num", True) is not False else -1
    return {"dataList": page, "total": total, "offset": offset, "limit": limit}
