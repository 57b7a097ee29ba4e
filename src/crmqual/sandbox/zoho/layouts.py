"""Zoho's Layouts API (zoho.md section 14): list and read a module's layouts, and update one
layout's sections with `PATCH settings/layouts/{id}`.

Layouts live in the store's meta table (``layouts:<module>``), so a later `serve` of the same
file shows what an earlier one changed. A field created through the Fields API is on no layout
until placed (assumption: the reference does not confirm it). Rules of an update, as section 14
states them: one layout per request; a section with `id` is updated, one without `id` and with
`display_label` is created (1-50 letters, digits and spaces); a section's `fields[]` name
existing fields by `id`, `sequence_number` moves them. Assumptions, configurable in
`ZohoLimits`: at most 5 sections and 5 fields per request; the standard layout accepts the
update; "letters" means ASCII letters (a Chinese label is refused); `_delete` on a section
removes it, its fields leaving the layout (they stay in the module).
"""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.store import SandboxStore, iso
from crmqual.sandbox.zoho.call import Call, empty_response, json_response
from crmqual.sandbox.zoho.errors import (
    INVALID_DATA_MESSAGE,
    PARAM_MISSING_MESSAGE,
    ZohoError,
    error_body,
)
from crmqual.sandbox.zoho.schema import API_USER, ID_BASE, render_field

READ = (
    ("ZohoCRM.settings.layouts.READ",),
    ("ZohoCRM.settings.layouts.ALL",),
    ("ZohoCRM.settings.ALL",),
)
UPDATE = (
    ("ZohoCRM.settings.layouts.UPDATE",),
    ("ZohoCRM.settings.layouts.ALL",),
    ("ZohoCRM.settings.ALL",),
)

_LABEL = re.compile(r"[A-Za-z0-9 ]{1,50}")
_UNICODE_LABEL = re.compile(r"[\w ]{1,50}")

#: The profiles of the sandbox org, and which layouts each sees (ids in Zoho's 19-digit form).
ADMINISTRATOR = {"id": "5725767000000000021", "name": "Administrator", "default": False}
STANDARD_PROFILE = {"id": "5725767000000000024", "name": "Standard", "default": True}

#: Standard fields by section of the standard layout; what is not named goes to the first.
_STANDARD_SECTIONS = (
    ("Account Information", ()),
    ("Address Information", ("Billing_Street", "Billing_City", "Billing_Country")),
    ("Description Information", ("Description",)),
)
#: The seeded custom input fields go into this section of both layouts (an admin's own).
INPUT_SECTION = "Financial Information"


def _key(module: str) -> str:
    return f"layouts:{module}"


def load(store: SandboxStore, module: str) -> list[dict[str, Any]]:
    raw = store.get_meta(_key(module))
    return json.loads(raw) if raw else []


def save(store: SandboxStore, module: str, layouts: list[dict[str, Any]]) -> None:
    store.set_meta(_key(module), json.dumps(layouts))


def install_layouts(store: SandboxStore, module: str, created: str) -> None:
    """The module's two layouts with its standard fields (idempotent): "Standard", shown to
    every profile, and "Credit Review", a custom layout shown to the Administrator only."""
    if load(store, module):
        return
    fields = [f for f in store.fields(module) if not f.custom]
    layouts = []
    for n, (name, api_name, profiles, generated) in enumerate(
        (
            ("Standard", "Standard__s", [ADMINISTRATOR, STANDARD_PROFILE], "default"),
            ("Credit Review", "Credit_Review", [ADMINISTRATOR], "custom"),
        )
    ):
        layout_id = str(ID_BASE + 91 + n * 1000)
        sections = []
        for s, (label, named) in enumerate(_STANDARD_SECTIONS):
            if n == 1 and s > 0:
                continue  # the custom layout keeps only the main section
            placed = [f.id for f in fields if f.api_name in named] if s else []
            sections.append(_section(layout_id, s, label, placed, "default"))
        rest = {i for sec in sections for i in (e["id"] for e in sec["fields"])}
        sections[0]["fields"] = [
            {"id": f.id, "sequence_number": i + 1}
            for i, f in enumerate(f for f in fields if f.id not in rest)
        ]
        layouts.append(
            {
                "id": layout_id,
                "name": name,
                "api_name": api_name,
                "generated_type": generated,
                "profiles": profiles,
                "created_time": created,
                "modified_time": created,
                "sections": sections,
            }
        )
    save(store, module, layouts)


def place_inputs(store: SandboxStore, module: str, field_ids: list[str], now: str) -> None:
    """Put the seeded custom input fields in their own section of every layout, as an admin
    who declared them would have."""
    layouts = load(store, module)
    for layout in layouts:
        if any(s["display_label"] == INPUT_SECTION for s in layout["sections"]):
            continue
        section = _section(
            layout["id"], len(layout["sections"]), INPUT_SECTION, field_ids, "custom"
        )
        layout["sections"].append(section)
        layout["modified_time"] = now
    save(store, module, layouts)


def _section(layout_id: str, n: int, label: str, ids: list[str], generated: str) -> dict[str, Any]:
    return {
        "id": str(int(layout_id) + 1 + n),
        "display_label": label,
        "api_name": re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_") or "Section",
        "sequence_number": n + 1,
        "column_count": 2,
        "generated_type": generated,
        "fields": [{"id": i, "sequence_number": k + 1} for k, i in enumerate(ids)],
    }


# -- read --------------------------------------------------------------------------------------
def get_layouts(call: Call, layout_id: str | None = None) -> Response:
    call.require(READ)
    module = _module(call)
    layouts = load(call.store, module)
    if layout_id is not None:
        layouts = [_find(layouts, layout_id, wrapped=False)]
    if not layouts:
        return empty_response(204)
    fields = {f.id: f for f in call.store.fields(module)}
    return json_response({"layouts": [_render(lay, fields, call.version) for lay in layouts]})


def _module(call: Call) -> str:
    module = call.request.args.get("module")
    if not module:
        raise ZohoError.of(
            400, "REQUIRED_PARAM_MISSING", PARAM_MISSING_MESSAGE, {"param": "module"}
        )
    call.module_fields(module)  # INVALID_MODULE for a module the org has not
    return module


def _find(layouts: list[dict[str, Any]], layout_id: str, wrapped: bool = True) -> dict[str, Any]:
    """The layout with this id; an unknown one is INVALID_DATA, inside `layouts[]` for an
    update as its other errors are, the error object itself for a GET."""
    for layout in layouts:
        if layout["id"] == layout_id:
            return layout
    error = _invalid("id", "$.id", f"no layout {layout_id}")
    raise error if wrapped else ZohoError(400, error.body["layouts"][0])


_CONVERTED = ("Contacts", "Accounts", "Invoices", "SalesOrders")


def _render(layout: dict[str, Any], fields: dict[str, Any], version: str) -> dict[str, Any]:
    """A layout as the OAS `layouts` object: what the sandbox keeps, and for the keys it has
    nothing to say about, what Zoho sends for a plain layout (null, false, empty)."""
    user = {"name": API_USER["name"], "id": API_USER["id"]}
    custom = layout["generated_type"] == "custom"
    return {
        "id": layout["id"],
        "name": layout["name"],
        "api_name": layout["api_name"],
        "display_label": layout["name"],
        "display_type": -1,
        "created_time": layout["created_time"],
        "modified_time": layout["modified_time"],
        "created_by": user,
        "modified_by": user,
        "created_for": user,
        "visible": True,
        "status": "active",
        "source": "crm",
        "mode": None,
        "generated_type": layout["generated_type"],
        "has_more_profiles": False,
        "show_business_card": False,
        "subform_properties": {"pinned_column": False},
        "convert_mapping": {  # a Leads layout's; an Accounts layout maps nothing
            **{m: {"name": None, "id": None} for m in _CONVERTED},
            "Deals": {"fields": [], "name": None, "id": None},
        },
        "actions_allowed": {
            "edit": True,
            "rename": custom,
            "clone": True,
            "downgrade": False,
            "delete": custom,
            "deactivate": custom,
            "set_layout_permissions": True,
        },
        "profiles": [
            {**p, "_default_view": {"name": "Standard", "id": layout["id"], "type": "layout"}}
            for p in layout["profiles"]
        ],
        "sections": [_render_section(s, fields, version) for s in layout["sections"]],
    }


def _render_section(section: dict[str, Any], fields: dict[str, Any], version: str) -> Any:
    placed = []
    for entry in section["fields"]:
        definition = fields.get(entry["id"])
        if definition is None:
            continue  # a field deleted since it was placed
        rendered = render_field(definition, version)
        rendered.update(
            sequence_number=entry["sequence_number"],
            section_id=None,
            required=definition.system_mandatory,
            validation_rule=None,
            default_value=None,
            static_values=[],
            _delete={"permanent": False},
        )
        placed.append(rendered)
    return {
        "id": section["id"],
        "display_label": section["display_label"],
        "name": section["display_label"],
        "api_name": section["api_name"],
        "sequence_number": section["sequence_number"],
        "column_count": section["column_count"],
        "generated_type": section["generated_type"],
        "isSubformSection": False,
        "tab_traversal": "left_to_right",
        "type": "used",
        "properties": {
            "reorder_rows": None,
            "maximum_rows": None,
            "tooltip": {"name": "Info Icon", "value": ""},
        },
        "_delete": {"permanent": False},
        "fields": placed,
    }


# -- update ------------------------------------------------------------------------------------
def update_layout(call: Call, layout_id: str) -> Response:
    call.require(UPDATE)
    module = _module(call)
    layouts = load(call.store, module)
    layout = _find(layouts, layout_id)
    if layout["generated_type"] == "default" and not call.limits.standard_layout_editable:
        raise ZohoError.of(
            400, "NOT_ALLOWED", "api_name cannot be changed", _details("id", "$.id", "standard")
        )
    body = call.json_body()
    sections = _sections_of(body)
    if _field_entries(sections) > call.limits.layout_fields_per_request:
        raise _limit("fields", "$.layouts[0].sections", call.limits.layout_fields_per_request)
    fields_by_id = {f.id: f for f in call.store.fields(module)}
    changed = [dict(s, fields=list(s["fields"])) for s in layout["sections"]]
    for i, item in enumerate(sections):
        path = f"$.layouts[0].sections[{i}]"
        if not isinstance(item, dict):
            raise _invalid("sections", path, "a section is an object")
        target = _section_for(call, layout, changed, item, path)
        if target is None:
            continue  # deleted
        _place_fields(target, changed, item.get("fields") or [], fields_by_id, path)
    layout["sections"] = changed
    layout["modified_time"] = iso(call.now)
    save(call.store, module, layouts)
    answer = error_body("SUCCESS", "layout updated", {"id": layout_id})
    answer["status"] = "success"
    return json_response({"layouts": [answer]})


def _sections_of(body: Any) -> list[Any]:
    items = body.get("layouts") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise ZohoError.of(
            400, "REQUIRED_PARAM_MISSING", "required field not found", _details("layouts", "$")
        )
    if len(items) > 1:
        raise _invalid("layouts", "$.layouts", "one layout per request")
    sections = items[0].get("sections") if isinstance(items[0], dict) else None
    if not isinstance(sections, list) or not sections:
        raise ZohoError.of(
            400,
            "REQUIRED_PARAM_MISSING",
            "required field not found",
            _details("sections", "$.layouts[0]"),
        )
    return sections


def _section_for(
    call: Call,
    layout: dict[str, Any],
    changed: list[dict[str, Any]],
    item: dict[str, Any],
    path: str,
) -> dict[str, Any] | None:
    """The section an item updates (by `id`) or creates (by `display_label`); None when the
    item deletes one."""
    limits = call.limits
    new = [s for s in changed if s["id"] not in {x["id"] for x in layout["sections"]}]
    section_id = item.get("id")
    if section_id is not None:
        for section in changed:
            if section["id"] == str(section_id):
                if item.get("_delete") is not None:
                    changed.remove(section)
                    return None
                if "display_label" in item:
                    section["display_label"] = _label(call, item["display_label"], changed, path)
                return section
        raise _invalid("id", f"{path}.id", f"no section {section_id} in this layout")
    if "display_label" not in item:
        raise ZohoError.of(
            400,
            "REQUIRED_PARAM_MISSING",
            "required field not found",
            _details("display_label", f"{path}.display_label"),
        )
    if len(new) >= limits.layout_sections_per_request:
        raise _limit("sections", path, limits.layout_sections_per_request)
    label = _label(call, item["display_label"], changed, path)
    section = _section(layout["id"], len(changed), label, [], "custom")
    section["id"] = str(max((int(s["id"]) for s in changed), default=int(layout["id"])) + 1)
    changed.append(section)
    return section


def _label(call: Call, label: Any, changed: list[dict[str, Any]], path: str) -> str:
    rule = _UNICODE_LABEL if call.limits.layout_label_unicode else _LABEL
    if not isinstance(label, str) or not rule.fullmatch(label) or not label.strip():
        raise _invalid(
            "display_label",
            f"{path}.display_label",
            "1 to 50 letters, numbers and spaces",
        )
    if any(s["display_label"].casefold() == label.casefold() for s in changed):
        raise _invalid("display_label", f"{path}.display_label", "a section has this label")
    return label


def _place_fields(
    target: dict[str, Any],
    changed: list[dict[str, Any]],
    entries: list[Any],
    fields_by_id: dict[str, Any],
    path: str,
) -> None:
    for j, entry in enumerate(entries):
        where = f"{path}.fields[{j}]"
        field_id = str(entry.get("id")) if isinstance(entry, dict) else None
        if field_id is None or field_id not in fields_by_id:
            raise _invalid("id", f"{where}.id", "no such field in this module")
        for section in changed:  # a field sits in one section of a layout: move it
            section["fields"] = [e for e in section["fields"] if e["id"] != field_id]
        position = entry.get("sequence_number")
        if not isinstance(position, int) or position < 1:
            position = len(target["fields"]) + 1
        target["fields"].insert(position - 1, {"id": field_id, "sequence_number": 0})
        for k, e in enumerate(target["fields"]):
            e["sequence_number"] = k + 1


def _field_entries(sections: list[Any]) -> int:
    """How many field entries an update names, in all its sections (what the limit counts)."""
    return sum(
        len(s["fields"])
        for s in sections
        if isinstance(s, dict) and isinstance(s.get("fields"), list)
    )


def _details(api_name: str, json_path: str, info: str = "") -> dict[str, Any]:
    """The details of a layouts error, every key layouts.json requires present."""
    return {
        "api_name": api_name,
        "json_path": json_path,
        "message": info,
        "info_message": info,
        "expected_data_type": "",
        "parent_api_name": "sections" if ".sections" in json_path else "",
        "supported_values": [],
    }


def _invalid(api_name: str, json_path: str, info: str) -> ZohoError:
    body = error_body("INVALID_DATA", INVALID_DATA_MESSAGE, _details(api_name, json_path, info))
    return ZohoError(400, {"layouts": [body]})


def _limit(api_name: str, json_path: str, limit: int) -> ZohoError:
    details = {**_details(api_name, json_path, "limit exceeded"), "limit": limit}
    return ZohoError(400, {"layouts": [error_body("LIMIT_EXCEEDED", "limit exceeded", details)]})
