"""A dialect-neutral description of one field of one module, as the store keeps it.

Each dialect renders it in its own metadata format (Zoho's `settings/fields` object, later a
Salesforce describe or an Fxiaoke describe); the store never knows those formats.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PicklistValue(BaseModel):
    """One picklist entry: what records carry (`display_value`) and the stable reference."""

    model_config = ConfigDict(frozen=True)

    id: str
    display_value: str
    actual_value: str
    sequence_number: int


class FieldDef(BaseModel):
    """One field. `data_type` uses the dialect's own type names (for Zoho: text, integer,
    double, currency, date, datetime, boolean, picklist, ...)."""

    model_config = ConfigDict(frozen=True)

    id: str
    api_name: str
    label: str
    data_type: str
    custom: bool = False
    length: int | None = None
    decimal_place: int | None = None
    system_mandatory: bool = False
    read_only: bool = False
    picklist: tuple[PicklistValue, ...] = ()
    lookup_module: str | None = None
    tooltip: dict[str, str] | None = None
    created_time: str | None = None
    modified_time: str | None = None
