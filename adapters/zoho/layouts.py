"""Zoho's Layouts API as crmqual uses it (zoho.md section 14): put the output fields in one
section of the module's layouts, so salespeople see them on the account screen.

One layout per request; a section is created by its ``display_label`` and found again by it;
fields are named by ``id``; at most ``fields_per_request`` field entries go in one request
(5: not confirmed, so configurable). A field already on a layout, in whatever section, is
left where the admin put it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmqual.adapters.layout_choice import chosen as chosen  # this module's API too
from crmqual.adapters.zoho.api import ZohoApi
from crmqual.contract import FieldSpec
from crmqual.errors import ApiError

READ_SCOPE = "ZohoCRM.settings.layouts.READ"
UPDATE_SCOPE = "ZohoCRM.settings.layouts.UPDATE"


@dataclass(frozen=True)
class Section:
    id: str
    label: str
    field_ids: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    sections: tuple[Section, ...]

    def placed(self) -> set[str]:
        """Ids of the fields on this layout, in any section."""
        return {i for s in self.sections for i in s.field_ids}

    def section(self, labels: Sequence[str]) -> Section | None:
        wanted = {label.casefold() for label in labels}
        return next((s for s in self.sections if s.label.casefold() in wanted), None)


@dataclass(frozen=True)
class Placement:
    """What placing the fields means on one layout: the fields to add (in the outputs'
    order) to crmqual's section, which exists (``section``) or is created."""

    layout: Layout
    section: Section | None
    fields: tuple[FieldSpec, ...]


def read_layouts(api: ZohoApi, module: str) -> list[Layout]:
    answer = api.call(
        "GET",
        "/crm/v8/settings/layouts",
        params={"module": module},
        endpoint="GET /crm/v8/settings/layouts",
    )
    if answer.empty:
        return []
    return [_layout(item) for item in answer.body.get("layouts") or []]


def _layout(item: Mapping[str, Any]) -> Layout:
    sections = tuple(
        Section(
            str(s.get("id")),
            str(s.get("display_label") or s.get("name") or ""),
            tuple(str(f.get("id")) for f in s.get("fields") or [] if isinstance(f, dict)),
        )
        for s in item.get("sections") or []
        if isinstance(s, dict)
    )
    return Layout(str(item.get("id")), str(item.get("name") or ""), sections)


def placements(
    layouts: Sequence[Layout],
    specs: Sequence[FieldSpec],
    ids: Mapping[str, str],
    labels: Sequence[str],
) -> list[Placement]:
    """Per layout, the output fields not on it yet (a field without an id yet, one about to
    be created, is on no layout); layouts with nothing to add are left out."""
    found = []
    for layout in layouts:
        placed = layout.placed()
        missing = tuple(s for s in specs if ids.get(s.api_name) not in placed)
        if missing:
            found.append(Placement(layout, layout.section(labels), missing))
    return found


def place(
    api: ZohoApi,
    module: str,
    placement: Placement,
    ids: Mapping[str, str],
    labels: Sequence[str],
    per_request: int,
) -> str:
    """Add the placement's fields to crmqual's section, creating it first where needed (with
    the first label Zoho accepts); the section's label."""
    entries = [{"id": ids[s.api_name]} for s in placement.fields]
    section = placement.section
    if section is None:
        first, entries = entries[:per_request], entries[per_request:]
        label = _create_section(api, module, placement.layout, labels, first)
        section = _reread(api, module, placement.layout, label)
    for start in range(0, len(entries), per_request):
        body = {"id": section.id, "fields": entries[start : start + per_request]}
        _patch(api, module, placement.layout, [body])
    return section.label


def remove(api: ZohoApi, module: str, layout: Layout, section: Section) -> None:
    """Take crmqual's section off the layout; its fields stay in the module."""
    _patch(api, module, layout, [{"id": section.id, "_delete": {"permanent": True}}])


def _create_section(
    api: ZohoApi, module: str, layout: Layout, labels: Sequence[str], first: list[Any]
) -> str:
    refused = None
    for label in labels:
        try:
            _patch(api, module, layout, [{"display_label": label, "fields": first}])
        except ApiError as exc:
            if exc.code != "INVALID_DATA" or "display_label" not in str(exc):
                raise
            refused = exc  # e.g. a Chinese label where only ASCII letters are taken
            continue
        return label
    assert refused is not None
    raise refused


def _reread(api: ZohoApi, module: str, layout: Layout, label: str) -> Section:
    answer = api.call(
        "GET",
        f"/crm/v8/settings/layouts/{layout.id}",
        params={"module": module},
        endpoint="GET /crm/v8/settings/layouts/{id}",
    )
    items = [] if answer.empty else answer.body.get("layouts") or []
    for item in items:
        section = _layout(item).section([label])
        if section is not None:
            return section
    raise ApiError(
        f"Zoho accepted the section “{label}” on layout {layout.name} but does not list it"
    )


def _patch(api: ZohoApi, module: str, layout: Layout, sections: list[Any]) -> None:
    answer = api.call(
        "PATCH",
        f"/crm/v8/settings/layouts/{layout.id}",
        params={"module": module},
        json={"layouts": [{"sections": sections}]},
        endpoint="PATCH /crm/v8/settings/layouts/{id}",
        records=True,
    )
    items = answer.body.get("layouts") if isinstance(answer.body, dict) else None
    item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    if answer.status < 400 and item.get("status") == "success":
        return
    problem = item or (answer.body if isinstance(answer.body, dict) else {})
    details = problem.get("details")
    details = details if isinstance(details, dict) else {}
    at = details.get("json_path") or details.get("api_name") or ""
    info = details.get("info_message") or ""
    raise ApiError(
        f"Zoho refused to change layout {layout.name}: {problem.get('code')} "
        f"{problem.get('message')} {at} {info}".strip(),
        status=answer.status,
        code=str(problem.get("code") or ""),
    )
