"""crmqual's output fields on Account, created, extended and deleted through the Tooling
API's ``CustomField`` (salesforce.md 8.2): plain REST sent by simple-salesforce's
``restful`` on crmqual's HTTP client, where the Metadata API (zeep over SOAP) would bypass
it.

    GET    tooling/query/?q=SELECT Id, DeveloperName FROM CustomField
                            WHERE TableEnumOrId = 'Account'
    GET    tooling/sobjects/CustomField/{id}       -> {"FullName", "Metadata": {...}}
    POST   tooling/sobjects/CustomField            {"FullName": "Account.X__c", "Metadata"}
    PATCH  tooling/sobjects/CustomField/{id}       {"FullName", "Metadata"} (values added)
    DELETE tooling/sobjects/CustomField/{id}       (the field and every value of it)

The Tooling API sees a field whatever its field-level security, where ``describe`` hides a
field the integration user may not read (salesforce.md 8.3): which fields exist, and of
which type, is read here. Attribute choices (salesforce.md 8.1, their limits not confirmed):
Number and Currency at precision 18, LongTextArea 32,768 characters and 6 visible lines,
MultiselectPicklist 4 visible lines, picklists restricted to their values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from crmqual.contract import FieldSpec, FieldType
from crmqual.errors import ApiError

#: crmqual's field types as Metadata API ``FieldType`` values (case-sensitive: salesforce.md 8.1)
TOOLING_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "Text",
    FieldType.TEXTAREA: "LongTextArea",
    FieldType.INTEGER: "Number",
    FieldType.NUMBER: "Number",
    FieldType.CURRENCY: "Currency",
    FieldType.DATE: "Date",
    FieldType.DATETIME: "DateTime",
    FieldType.BOOLEAN: "Checkbox",
    FieldType.PICKLIST: "Picklist",
    FieldType.MULTISELECT: "MultiselectPicklist",
}
PRECISION = 18
LONG_TEXT = 32_768
TEXT_LINES = 6
MULTISELECT_LINES = 4
#: salesforce.md 8.2: Salesforce's answer to a second field of the same name
DUPLICATE = "There is already a field named"


@dataclass(frozen=True)
class ToolingField:
    """A custom field of Account as the Tooling API holds it."""

    id: str
    api_name: str
    metadata: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.metadata.get("type") or "")

    @property
    def values(self) -> tuple[str, ...]:
        value_set = self.metadata.get("valueSet") or {}
        definition = value_set.get("valueSetDefinition") or {}
        return tuple(
            str(v["fullName"])
            for v in definition.get("value") or []
            if isinstance(v, dict) and v.get("fullName")
        )


def custom(api_name: str) -> bool:
    return api_name.endswith("__c")


def developer_name(api_name: str) -> str:
    """``Risk_Grade`` for ``Risk_Grade__c`` (the Tooling API's ``DeveloperName``)."""
    return api_name[:-3] if custom(api_name) else api_name


def _values(values: Sequence[str]) -> dict[str, Any]:
    return {
        "restricted": True,
        "valueSetDefinition": {
            "sorted": False,
            "value": [{"fullName": v, "label": v, "default": False} for v in values],
        },
    }


def metadata_of(spec: FieldSpec) -> dict[str, Any]:
    """The ``Metadata`` of a new field: its type and the attributes that type needs."""
    kind = TOOLING_TYPES[spec.type]
    meta: dict[str, Any] = {"type": kind, "label": spec.label[:40]}
    if spec.label_zh:
        meta["description"] = spec.label_zh
    if spec.type in (FieldType.PICKLIST, FieldType.MULTISELECT):
        meta["valueSet"] = _values(spec.picklist)
    if spec.type == FieldType.MULTISELECT:
        meta["visibleLines"] = MULTISELECT_LINES
    elif spec.type == FieldType.TEXTAREA:
        meta["length"] = max(spec.length or LONG_TEXT, 256)
        meta["visibleLines"] = TEXT_LINES
    elif spec.type == FieldType.TEXT:
        meta["length"] = min(spec.length or 255, 255)
    elif spec.type in (FieldType.NUMBER, FieldType.CURRENCY):
        meta.update(precision=PRECISION, scale=2)
    elif spec.type == FieldType.INTEGER:
        meta.update(precision=PRECISION, scale=0)
    elif spec.type == FieldType.BOOLEAN:
        meta["defaultValue"] = "false"
    return meta


def same_type(field: ToolingField, spec: FieldSpec) -> bool:
    """Whether an existing field can hold what crmqual writes to ``spec``."""
    return field.type == TOOLING_TYPES[spec.type]


class FieldMetadata:
    """The Tooling API's CustomField resources of one object, through simple-salesforce."""

    def __init__(self, sf: Salesforce, sobject: str = "Account") -> None:
        self.sf = sf
        self.sobject = sobject

    def existing(self, api_names: Sequence[str]) -> dict[str, str]:
        """The custom fields among ``api_names`` that exist: name -> CustomField id (one
        query, whatever the fields' field-level security)."""
        wanted = {developer_name(n).lower(): n for n in api_names if custom(n)}
        if not wanted:
            return {}
        soql = format_soql(
            "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = {}", self.sobject
        )
        found: dict[str, str] = {}
        for row in tooling_query(self.sf, soql):
            name = wanted.get(str(row.get("DeveloperName") or "").lower())
            if name is not None:
                found[name] = str(row["Id"])
        return found

    def find(self, api_names: Sequence[str]) -> dict[str, ToolingField]:
        """The custom fields among ``api_names`` that exist, with their Metadata (one query,
        then one GET per field found: Tooling gives ``Metadata`` one record at a time)."""
        return {name: self.read(i, name) for name, i in self.existing(api_names).items()}

    def read(self, field_id: str, api_name: str) -> ToolingField:
        body = self.sf.restful(f"tooling/sobjects/CustomField/{field_id}")
        meta = body.get("Metadata") if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            raise ApiError(f"Salesforce gave the field {api_name} ({field_id}) no Metadata")
        return ToolingField(field_id, api_name, dict(meta))

    def create(self, spec: FieldSpec) -> str:
        """Create the field; its id. A field of that name made meanwhile (a second
        provision run at once) is taken when it has the type wanted."""
        body = {"FullName": f"{self.sobject}.{spec.api_name}", "Metadata": metadata_of(spec)}
        try:
            answer = self.sf.restful("tooling/sobjects/CustomField", method="POST", json=body)
        except ApiError as exc:
            if DUPLICATE not in str(exc):
                raise
            existing = self.find([spec.api_name]).get(spec.api_name)
            if existing is None or not same_type(existing, spec):
                raise
            return existing.id
        if not isinstance(answer, dict) or not answer.get("id"):
            raise ApiError(f"Salesforce answered the creation of {spec.api_name} without an id")
        return str(answer["id"])

    def add_values(self, field: ToolingField, values: Sequence[str]) -> None:
        """Append picklist values (the value set is sent whole, the old values first)."""
        meta = dict(field.metadata)
        meta["valueSet"] = {
            **(meta.get("valueSet") or {}),
            **_values([*field.values, *(v for v in values if v not in field.values)]),
        }
        body = {"FullName": f"{self.sobject}.{field.api_name}", "Metadata": meta}
        self.sf.restful(f"tooling/sobjects/CustomField/{field.id}", method="PATCH", json=body)

    def delete(self, field_id: str) -> None:
        """Delete the field: its values on every record go with it."""
        self.sf.restful(f"tooling/sobjects/CustomField/{field_id}", method="DELETE")


def tooling_query(sf: Salesforce, soql: str) -> Iterator[dict[str, Any]]:
    """Every row of a Tooling API query, page by page."""
    page = sf.restful("tooling/query/", params={"q": soql})
    while isinstance(page, dict):
        yield from page.get("records") or []
        following = page.get("nextRecordsUrl")
        if page.get("done", True) or not following:
            return
        page = sf.query_more(str(following), identifier_is_url=True)
