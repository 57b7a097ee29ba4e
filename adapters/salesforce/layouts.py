"""crmqual's section on the Account page layouts, through the Tooling API's ``Layout``, so
salespeople see the output fields on the account screen they already use.

    GET   tooling/query/?q=SELECT Id, Name FROM Layout WHERE TableEnumOrId = 'Account'
    GET   tooling/sobjects/Layout/{id}     -> {"Name", "FullName", "Metadata": {...}}
    PATCH tooling/sobjects/Layout/{id}     {"FullName", "Metadata": {...}}  (the whole layout)

The Layout's ``Metadata`` is assumed to follow the Metadata API's Layout type in JSON (not
confirmed by the reference): ``layoutSections[{label, style, customLabel, detailHeading,
editHeading, layoutColumns[{layoutItems[{field, behavior}]}]}]``. An update replaces the
whole layout, so the layout is read, the section added or extended, and sent back whole.

The section ("Credit & qualification / 资信与准入" unless configured) is found again by its
label; fields go into its two columns, alternately, ``Readonly`` (crmqual writes them, not
people). A field already on a layout, in whatever section, is left where an admin put it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from crmqual.adapters.salesforce.metadata import tooling_query
from crmqual.contract import FieldSpec
from crmqual.errors import ApiError

BEHAVIOR = "Readonly"
STYLE = "TwoColumnsTopToBottom"


@dataclass(frozen=True)
class Layout:
    id: str
    name: str
    full_name: str
    metadata: dict[str, Any]

    @property
    def sections(self) -> list[dict[str, Any]]:
        found = self.metadata.get("layoutSections")
        return found if isinstance(found, list) else []

    def placed(self) -> set[str]:
        """The fields on this layout (lower case), in any section."""
        return {
            str(item["field"]).lower()
            for section in self.sections
            for column in section.get("layoutColumns") or []
            for item in column.get("layoutItems") or []
            if isinstance(item, dict) and item.get("field")
        }

    def section(self, label: str) -> dict[str, Any] | None:
        return next(
            (s for s in self.sections if str(s.get("label", "")).casefold() == label.casefold()),
            None,
        )


def read_layouts(sf: Salesforce, sobject: str = "Account") -> list[Layout]:
    """Every page layout of the object, with its Metadata (one GET per layout)."""
    soql = format_soql("SELECT Id, Name FROM Layout WHERE TableEnumOrId = {}", sobject)
    layouts = []
    for row in tooling_query(sf, soql):
        body = sf.restful(f"tooling/sobjects/Layout/{row['Id']}")
        meta = body.get("Metadata") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(meta, dict):
            raise ApiError(f"Salesforce gave the layout {row.get('Name')} no Metadata")
        full_name = str(body.get("FullName") or f"{sobject}-{row.get('Name')}")
        layouts.append(Layout(str(row["Id"]), str(row.get("Name") or ""), full_name, meta))
    return layouts


def missing(layout: Layout, specs: Sequence[FieldSpec]) -> list[FieldSpec]:
    """The fields of ``specs`` not on the layout yet, in their order."""
    placed = layout.placed()
    return [s for s in specs if s.api_name.lower() not in placed]


def with_fields(layout: Layout, specs: Sequence[FieldSpec], label: str) -> dict[str, Any]:
    """The layout's Metadata with ``specs`` added to crmqual's section (made at the end)."""
    meta = copy.deepcopy(layout.metadata)
    sections: list[dict[str, Any]] = meta.setdefault("layoutSections", [])
    section = next(
        (s for s in sections if str(s.get("label", "")).casefold() == label.casefold()), None
    )
    if section is None:
        section = {
            "label": label,
            "style": STYLE,
            "customLabel": True,
            "detailHeading": True,
            "editHeading": True,
            "layoutColumns": [{"layoutItems": []}, {"layoutItems": []}],
        }
        sections.append(section)
    columns = section.setdefault("layoutColumns", [])
    while len(columns) < 2:
        columns.append({"layoutItems": []})
    for spec in specs:  # into the shorter column, so the section fills both evenly
        column = min(columns[:2], key=lambda c: len(c.get("layoutItems") or []))
        column.setdefault("layoutItems", []).append({"field": spec.api_name, "behavior": BEHAVIOR})
    return meta


def without_section(layout: Layout, label: str) -> dict[str, Any]:
    """The layout's Metadata without crmqual's section (its fields leave the layout)."""
    meta = copy.deepcopy(layout.metadata)
    meta["layoutSections"] = [
        s for s in layout.sections if str(s.get("label", "")).casefold() != label.casefold()
    ]
    return meta


def update(sf: Salesforce, layout: Layout, metadata: dict[str, Any]) -> None:
    body = {"FullName": layout.full_name, "Metadata": metadata}
    sf.restful(f"tooling/sobjects/Layout/{layout.id}", method="PATCH", json=body)
