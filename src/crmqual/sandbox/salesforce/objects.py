"""The sObjects the sandbox stores (each a module of the shared store) and their fields as
the calling user sees them: Account through field-level security, the others from a fixed
table. Ids are 18-character Salesforce ids over the store's integer ids."""

from __future__ import annotations

from dataclasses import dataclass

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.fls import access
from crmqual.sandbox.salesforce.ids import PREFIXES, number_of, parse_id, sf_id
from crmqual.sandbox.salesforce.schema import ACCOUNT, OTHER_OBJECTS
from crmqual.sandbox.store import SandboxStore

_SYSTEM = (
    ("Id", "id"),
    ("IsDeleted", "boolean"),
    ("CreatedDate", "datetime"),
    ("CreatedById", "reference"),
    ("LastModifiedDate", "datetime"),
    ("LastModifiedById", "reference"),
    ("SystemModstamp", "datetime"),
)
#: Tooling API objects (their `Metadata` is read through `tooling/sobjects/...` only)
TOOLING_OBJECTS: dict[str, dict[str, str]] = {
    "CustomField": {
        "DeveloperName": "string",
        "FullName": "string",
        "TableEnumOrId": "string",
        "NamespacePrefix": "string",
    },
    "Layout": {"Name": "string", "FullName": "string", "TableEnumOrId": "string"},
}
_READONLY_OTHERS = {
    "User": {
        "Name": "string",
        "Username": "string",
        "IsActive": "boolean",
        "ProfileId": "reference",
    },
    "Profile": {"Name": "string"},
}


@dataclass(frozen=True)
class Fields:
    """One object's fields for one user: lower-case name -> FieldDef (readable, editable)."""

    sobject: str
    readable: dict[str, FieldDef]
    editable: dict[str, FieldDef]
    everything: dict[str, FieldDef]


def _simple(name: str, kind: str, read_only: bool = False, required: bool = False) -> FieldDef:
    return FieldDef(
        id=name,
        api_name=name,
        label=name,
        data_type=kind,
        read_only=read_only,
        system_mandatory=required,
    )


def object_names(tooling: bool) -> list[str]:
    if tooling:
        return list(TOOLING_OBJECTS)
    return [ACCOUNT, *OTHER_OBJECTS, *_READONLY_OTHERS]


def fields_for(store: SandboxStore, sobject: str, user: int, tooling: bool = False) -> Fields:
    """The object's fields as `user` sees them; KeyError for an object the API lacks."""
    if sobject == ACCOUNT and not tooling:
        seen = access(store, user, ACCOUNT)
        return Fields(ACCOUNT, seen.readable, seen.editable, seen.all_fields)
    table: dict[str, tuple[str, bool]]
    if tooling:
        table = {k: (v, False) for k, v in TOOLING_OBJECTS[sobject].items()}
        writable = False
    elif sobject in OTHER_OBJECTS:
        table = OTHER_OBJECTS[sobject]
        writable = True
    else:
        table = {k: (v, False) for k, v in _READONLY_OTHERS[sobject].items()}
        writable = False
    defs = [_simple(name, kind, read_only=True) for name, kind in _SYSTEM]
    defs += [
        _simple(name, kind, read_only=not writable, required=required)
        for name, (kind, required) in table.items()
    ]
    everything = {d.api_name.lower(): d for d in defs}
    editable = {k: d for k, d in everything.items() if not d.read_only}
    return Fields(sobject, everything, editable, everything)


def canonical_object(name: str, tooling: bool) -> str | None:
    for candidate in object_names(tooling):
        if candidate.lower() == name.lower():
            return candidate
    return None


def record_id(sobject: str, number: int) -> str:
    return sf_id(PREFIXES[sobject], number)


def record_number(sobject: str, text: str) -> int | None:
    return number_of(text, sobject)


def normalise_id(text: str) -> str:
    """An id given in 15 or 18 characters, as its 18-character form (else unchanged)."""
    parsed = parse_id(text)
    return text if parsed is None else sf_id(*parsed)
