"""Records of the Fxiaoke dialect: rendering, the in-memory view `query` reads, `data/get`,
`data/update` for one record, and `data/create` (used for the follow-up object).

The store keeps each record's values under Fxiaoke's names; `_id` is derived from the store
id (`schema.record_id`). `create_time` / `last_modified_time` are epoch milliseconds; every
update moves `last_modified_time` (at least 1 ms past the old one) and counts `version` up by
one (unless `unchanged_update_moves` is off and nothing changed).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crmqual.sandbox.faults import Decision, FaultProfile
from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.fxiaoke.errors import FxError
from crmqual.sandbox.fxiaoke.schema import (
    ACCOUNT,
    ID_BASE,
    OBJECTS,
    SYSTEM,
    record_id,
    store_id,
)
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings
from crmqual.sandbox.fxiaoke.tenant import Employee
from crmqual.sandbox.fxiaoke.values import BadValue, checked
from crmqual.sandbox.store import SandboxStore, Scan, StoredRecord, iso

_GENERATION = "fxiaoke:generation:"
_SELECTIONS = 16  # distinct (filters, orders) kept per view


def epoch_ms(instant: datetime) -> int:
    return int(instant.timestamp()) * 1000


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def render(record: StoredRecord) -> dict[str, Any]:
    return {"_id": record_id(record.id), **record.data}


def touched(store: SandboxStore, obj: str) -> None:
    """Note that `obj`'s records changed (views of them are rebuilt)."""
    store.set_meta(_GENERATION + obj, uuid.uuid4().hex)


class RecordView:
    """Every record of an object, rendered, cached while no write happens (a write anywhere,
    through any process sharing the file, changes the object's generation in the store)."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str | None, list[dict[str, Any]]]] = {}
        self._selected: dict[str, list[dict[str, Any]]] = {}

    def all(self, obj: str) -> list[dict[str, Any]]:
        generation = self.store.get_meta(_GENERATION + obj)
        with self._lock:
            cached = self._cache.get(obj)
            if cached is not None and cached[0] == generation and generation is not None:
                return cached[1]
        rows = [render(r) for r in self.store.scan(Scan(obj))]
        with self._lock:
            self._cache[obj] = (generation, rows)
        return rows

    def selected(
        self,
        obj: str,
        key: str,
        select: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """`select(all records)` (filtered and ordered), remembered under `key` while no write
        happens: a client paging through one query sorts once, not once per page."""
        generation = self.store.get_meta(_GENERATION + obj)
        memo_key = f"{obj}\n{generation}\n{key}"
        with self._lock:
            found = self._selected.get(memo_key) if generation is not None else None
        if found is not None:
            return found
        rows = select(self.all(obj))
        with self._lock:
            if len(self._selected) >= _SELECTIONS:
                self._selected.pop(next(iter(self._selected)))
            self._selected[memo_key] = rows
        return rows


@dataclass
class Ctx:
    """One API call: who acts, when, and what the guard decided for it."""

    store: SandboxStore
    settings: FxiaokeSettings
    now: datetime
    employee: Employee
    client: str
    decision: Decision
    profile: FaultProfile
    view: RecordView

    def error(self, kind: str, message: str) -> FxError:
        return FxError(getattr(self.settings.codes, kind), message)


def fields_of(ctx: Ctx, obj: str) -> dict[str, FieldDef]:
    if obj not in OBJECTS:
        raise ctx.error("object", f"对象{obj!r}不存在")
    return {f.api_name: f for f in ctx.store.fields(obj)}


def _object(ctx: Ctx, data: dict[str, Any], key: str = "dataObjectApiName") -> str:
    obj = data.get(key)
    if not isinstance(obj, str) or not obj:
        raise ctx.error("param", f"{key}不能为空")
    fields_of(ctx, obj)
    return obj


def get(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """`data/get`: `{dataObjectApiName, objectDataId}` -> the record."""
    obj = _object(ctx, data)
    found = _find(ctx, obj, data.get("objectDataId"))
    return render(found)


def _find(ctx: Ctx, obj: str, given: Any) -> StoredRecord:
    if not isinstance(given, str) or not given:
        raise ctx.error("param", "数据ID不能为空")
    number = store_id(given)
    found = None if number is None else ctx.store.get_records(obj, [number]).get(number)
    if found is None or found.data.get("is_deleted"):
        raise ctx.error("not_found", f"数据不存在:{given}")
    return found


def _values(ctx: Ctx, obj: str, given: dict[str, Any]) -> dict[str, Any]:
    fields = fields_of(ctx, obj)
    values: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("dataObjectApiName", "_id"):
            continue
        f = fields.get(name)
        if f is None:
            raise ctx.error("field", f"字段{name}不存在")
        if name in SYSTEM or f.read_only:
            raise ctx.error("field", f"字段{name}({f.label})不可编辑")
        try:
            values[name] = checked(f, value)
        except BadValue as exc:
            raise ctx.error("field", f"字段{name}({f.label}):{exc}") from None
    return values


def _validation_rule(ctx: Ctx) -> None:
    if ctx.decision.record_fails(0, ctx.profile.record_error):
        raise ctx.error("validation", "数据不满足验证规则,保存失败")


def update(ctx: Ctx, data: dict[str, Any]) -> str:
    """`data/update` of one record: `data.object_data = {dataObjectApiName, _id, ...}`;
    returns the `_id`."""
    payload = data.get("object_data")
    if not isinstance(payload, dict):
        raise ctx.error("param", "object_data不能为空")
    obj = _object(ctx, payload)
    given_id = payload.get("_id")
    values = _values(ctx, obj, payload)
    with ctx.store.transaction():
        current = _find(ctx, obj, given_id)
        _validation_rule(ctx)
        changes = {
            k: (current.data.get(k), v) for k, v in values.items() if current.data.get(k) != v
        }
        if not changes and not ctx.settings.unchanged_update_moves:
            return record_id(current.id)
        store_write(ctx.store, current, values, changes, ctx.now, ctx.employee, "api", ctx.client)
    return record_id(current.id)


def store_write(
    store: SandboxStore,
    current: StoredRecord,
    values: dict[str, Any],
    changes: dict[str, tuple[Any, Any]],
    now: datetime,
    employee: Employee,
    source: str,
    client: str,
) -> StoredRecord:
    """Apply values to a record: `last_modified_time` moves past the old one, `version` + 1,
    `last_modified_by` is the acting employee; the write log records `changes`."""
    data = dict(current.data)
    data.update(values)
    moved = max(epoch_ms(now), int(data.get("last_modified_time") or 0) + 1)
    data["last_modified_time"] = moved
    data["version"] = str(int(data.get("version") or 0) + 1)
    data["last_modified_by"] = [employee.employee_id]
    stored = StoredRecord(
        current.module, current.id, current.created_time, iso(from_ms(moved)), data
    )
    store.update_record(
        stored, source=source, client=client, user_id=employee.employee_id, changes=changes
    )
    touched(store, current.module)
    return stored


def new_record(
    obj: str, values: dict[str, Any], now: datetime, employee: Employee
) -> dict[str, Any]:
    """A fresh record's system values around `values` (owner defaults to the actor)."""
    ms = epoch_ms(now)
    return {
        "owner": [employee.employee_id],
        **values,
        "created_by": [employee.employee_id],
        "last_modified_by": [employee.employee_id],
        "create_time": ms,
        "last_modified_time": ms,
        "life_status": "normal",
        "lock_status": "0",
        "is_deleted": False,
        "version": "1",
        "record_type": "default__c",
        "relevant_team": [],
        "data_own_department": ["1000"],
        "object_describe_api_name": obj,
    }


def create(ctx: Ctx, data: dict[str, Any]) -> str:
    """`data/create` (shaped like `data/update`; the reference gives no request shape):
    `data.object_data = {dataObjectApiName, ...}`; returns the new `_id`."""
    payload = data.get("object_data")
    if not isinstance(payload, dict):
        raise ctx.error("param", "object_data不能为空")
    obj = _object(ctx, payload)
    values = _values(ctx, obj, payload)
    fields = fields_of(ctx, obj)
    missing = [
        f.label
        for f in fields.values()
        if f.system_mandatory and f.api_name != "owner" and values.get(f.api_name) is None
    ]
    if missing:
        raise ctx.error("field", f"必填字段{'、'.join(missing)}不能为空")
    account = values.get("account_id")
    if account is not None:
        _find(ctx, ACCOUNT, account)
    _validation_rule(ctx)
    (number,) = ctx.store.next_ids(1, ID_BASE)
    now = iso(ctx.now)
    ctx.store.insert_records(
        obj, [StoredRecord(obj, number, now, now, new_record(obj, values, ctx.now, ctx.employee))]
    )
    touched(ctx.store, obj)
    return record_id(number)
