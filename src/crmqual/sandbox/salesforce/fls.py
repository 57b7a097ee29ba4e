"""Field-level security (salesforce.md 8.3): a custom field is invisible to describe, query
and writes until a permission set assigned to the calling user grants it.

Grants are ordinary records of the shared store (modules `PermissionSet`, `FieldPermissions`,
`PermissionSetAssignment`), created through the REST API or by the seed. Standard fields are
always visible (the sandbox's users have a profile that sees them).
"""

from __future__ import annotations

from dataclasses import dataclass

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.store import SandboxStore, Scan


@dataclass(frozen=True)
class Access:
    """What one user may do with one object's fields: lower-case name -> FieldDef."""

    readable: dict[str, FieldDef]
    editable: dict[str, FieldDef]
    all_fields: dict[str, FieldDef]


def grants(store: SandboxStore, user_number: int, sobject: str) -> dict[str, tuple[bool, bool]]:
    """`Field` (lower case, e.g. `risk_grade__c`) -> (read, edit) granted to the user."""
    user_id = sf_id(PREFIXES["User"], user_number)
    sets = {
        r.data.get("PermissionSetId")
        for r in store.scan(Scan("PermissionSetAssignment"))
        if r.data.get("AssigneeId") == user_id
    }
    out: dict[str, tuple[bool, bool]] = {}
    if not sets:
        return out
    for r in store.scan(Scan("FieldPermissions")):
        data = r.data
        if data.get("ParentId") not in sets or data.get("SobjectType") != sobject:
            continue
        obj, _, name = str(data.get("Field", "")).partition(".")
        if obj != sobject or not name:
            continue
        read, edit = out.get(name.lower(), (False, False))
        out[name.lower()] = (
            read or bool(data.get("PermissionsRead")),
            edit or bool(data.get("PermissionsEdit")),
        )
    return out


def access(store: SandboxStore, user_number: int, sobject: str) -> Access:
    everything = {f.api_name.lower(): f for f in store.fields(sobject)}
    granted = grants(store, user_number, sobject)
    readable: dict[str, FieldDef] = {}
    editable: dict[str, FieldDef] = {}
    for key, fdef in everything.items():
        if not fdef.custom:
            readable[key] = fdef
            if not fdef.read_only:
                editable[key] = fdef
            continue
        read, edit = granted.get(key, (False, False))
        if read or edit:
            readable[key] = fdef
        if edit and not fdef.read_only:
            editable[key] = fdef
    return Access(readable, editable, everything)
