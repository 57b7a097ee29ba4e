"""Custom fields as Fxiaoke's admin console makes them, and `object/describe`.

Fxiaoke's open API has no field-creation call (fxiaoke.md section 5): an administrator adds
fields in the console, which names them `field_<5 letters or digits>__c` at random and gives
`select_one` / `select_many` options generated codes as values. `add_field` stands in for the
console (`crmqual sandbox fields --crm fxiaoke add`, `serve --fields FILE`): the names come
from the tenant's own random seed, so they differ between sandbox files and a client must
resolve fields by label through describe.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmqual.errors import ConfigError, Problem
from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.fxiaoke.schema import ACCOUNT, OBJECTS, options
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings
from crmqual.sandbox.fxiaoke.tenant import tenant
from crmqual.sandbox.store import SandboxStore
from crmqual.yamlfile import read_yaml

KINDS = (
    "text",
    "long_text",
    "number",
    "currency",
    "date",
    "date_time",
    "select_one",
    "select_many",
    "true_or_false",
    "percentile",
)
"""Field kinds the console action takes; `select_many` and `currency` are shown in describe
under the settings' `multi_select_type` / `currency_type`."""
_CHARS = string.ascii_letters + string.digits
_UNITS_KEY = "fxiaoke:units"


@dataclass(frozen=True)
class NewField:
    label: str
    kind: str
    options: tuple[str, ...] = ()
    decimals: int | None = None
    unit: str | None = None
    """万元 or 元 for amounts (the sandbox remembers it; describe shows only the label)."""


def _name(rng: random.Random) -> str:
    return "field_" + "".join(rng.choice(_CHARS) for _ in range(5)) + "__c"


def add_field(store: SandboxStore, new: NewField, now: str, obj: str = ACCOUNT) -> FieldDef:
    """Add a custom field as the console would; returns it (with its generated name). A label
    already in use is refused (ValueError), as the console refuses it."""
    if new.kind not in KINDS:
        raise ValueError(f"type {new.kind!r} is not one of {', '.join(KINDS)}")
    if new.kind in ("select_one", "select_many") and not new.options:
        raise ValueError(f"a {new.kind} field needs options")
    with store.transaction():
        present = store.fields(obj)
        if any(f.label == new.label for f in present):
            raise ValueError(f"a field labelled {new.label!r} exists already")
        taken = {f.api_name.lower() for f in present}
        seed = tenant(store).tenant_seed
        rng = random.Random(f"fxiaoke-console:{seed}:{obj}:{len(present)}:{new.label}")
        name = _name(rng)
        while name.lower() in taken:
            name = _name(rng)
        values = []
        for label in new.options:
            code = "other" if label == "其他" else "".join(rng.choice(_CHARS) for _ in range(9))
            values.append((code, label))
        decimals = new.decimals
        if decimals is None and new.kind in ("number", "currency"):
            decimals = 2
        definition = FieldDef(
            id=name,
            api_name=name,
            label=new.label,
            data_type=new.kind,
            custom=True,
            length=None if new.kind not in ("text", "long_text") else 2000,
            decimal_place=decimals,
            picklist=options(values),
            created_time=now,
            modified_time=now,
        )
        store.put_field(obj, definition)
        if new.unit is not None:
            units = units_of(store)
            units[name] = new.unit
            store.set_meta(_UNITS_KEY, json.dumps(units, ensure_ascii=False))
    return definition


def units_of(store: SandboxStore) -> dict[str, str]:
    """Field api name -> 万元 / 元, for the amount fields the seed declared."""
    raw = store.get_meta(_UNITS_KEY)
    return {} if raw is None else dict(json.loads(raw))


def by_label(store: SandboxStore, obj: str = ACCOUNT) -> dict[str, FieldDef]:
    return {f.label: f for f in store.fields(obj)}


def fields_file(path: str | Path) -> list[NewField]:
    """A YAML list of fields to add: `[{label, type, options?, decimals?, unit?}]` (or
    `{fields: [...]}`)."""
    raw: Any = read_yaml(path)  # a ConfigError naming the line for a file that is not YAML
    rows = raw.get("fields") if isinstance(raw, dict) else raw
    if not isinstance(rows, list):
        raise ConfigError([Problem(str(path), "fields", "a list of {label, type, options}")])
    made = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "label" not in row or "type" not in row:
            raise ConfigError([Problem(str(path), f"fields[{i}]", "needs label and type")])
        made.append(
            NewField(
                label=str(row["label"]),
                kind=str(row["type"]),
                options=tuple(str(o) for o in row.get("options", ())),
                decimals=row.get("decimals"),
                unit=row.get("unit"),
            )
        )
    return made


def ensure_fields(store: SandboxStore, new: list[NewField], now: str) -> list[FieldDef]:
    """Add the fields whose labels are not there yet; returns those added."""
    labels = set(by_label(store))
    return [add_field(store, f, now) for f in new if f.label not in labels]


def render_field(f: FieldDef, settings: FxiaokeSettings) -> dict[str, Any]:
    shown_type = {
        "select_many": settings.multi_select_type,
        "currency": settings.currency_type,
    }.get(f.data_type, f.data_type)
    body: dict[str, Any] = {
        "api_name": f.api_name,
        "label": f.label,
        "type": shown_type,
        "define_type": settings.custom_define_type if f.custom else "package",
        "is_required": f.system_mandatory,
        "is_unique": f.api_name in ("_id", "account_no"),
        "is_active": True,
        "is_readonly": f.read_only,
        "default_value": None,
        "description": "",
    }
    if f.picklist:
        body["options"] = [{"label": p.display_value, "value": p.actual_value} for p in f.picklist]
    if f.data_type in ("number", "currency", "percentile"):
        body["decimal_places"] = f.decimal_place if f.decimal_place is not None else 0
        body["length"] = 14
    if f.data_type == "date":
        body["date_format"] = "yyyy-MM-dd"
    if f.data_type == "date_time":
        body["date_format"] = "yyyy-MM-dd HH:mm"
        body["time_zone"] = "GMT+08:00"
    if f.length is not None:
        body["max_length"] = f.length
    if f.lookup_module is not None:
        body["target_api_name"] = f.lookup_module
    return body


def describe(store: SandboxStore, obj: str, settings: FxiaokeSettings) -> dict[str, Any]:
    """`data` of `object/describe`: `{describe: {api_name, display_name, fields: {...}}}`."""
    return {
        "describe": {
            "api_name": obj,
            "display_name": OBJECTS[obj],
            "define_type": "package",
            "is_active": True,
            "fields": {f.api_name: render_field(f, settings) for f in store.fields(obj)},
        }
    }
