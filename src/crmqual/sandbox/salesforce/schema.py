"""The sandbox org: its Account fields (standard ones from salesforce.md section 10 and the
declared custom input fields), its users, its org id, and the objects besides Account.

Field definitions live in the shared store as `FieldDef`s whose `data_type` is the describe
type (`string`, `currency`, `picklist` ...); for numbers `length` holds the precision and
`decimal_place` the scale. Custom fields also have a `CustomField` record (module
`CustomField`) holding the Metadata they were created with (`restricted`, `visibleLines` ...).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from crmqual.sandbox.fielddef import FieldDef, PicklistValue
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.store import SandboxStore, StoredRecord

ACCOUNT = "Account"
ORG_NUMBER = 1
#: record numbers of the org's users (module `User`)
API_USER_NUMBER = 1
HAND_USER_NUMBER = 2
#: the org's profiles (module `Profile`): record number -> Name. Every user has one; an
#: admin names profiles to give their active users read access to crmqual's fields.
PROFILES = {1: "System Administrator", 2: "Standard User", 3: "Credit Controller"}
USERS: tuple[dict[str, Any], ...] = (
    {"n": 1, "Name": "Integration User", "Username": "integration@crmqual-sandbox.example",
     "profile": 1},
    {"n": 2, "Name": "Li Wei", "Username": "li.wei@crmqual-sandbox.example", "profile": 2},
    {"n": 3, "Name": "Maria Garcia", "Username": "maria.garcia@crmqual-sandbox.example",
     "profile": 2},
    {"n": 4, "Name": "James Smith", "Username": "james.smith@crmqual-sandbox.example",
     "profile": 2},
    {"n": 5, "Name": "Zhang Min", "Username": "zhang.min@crmqual-sandbox.example", "profile": 3},
    # a salesperson who left: inactive, so never given access, and cannot log in
    {"n": 6, "Name": "Former Rep", "Username": "former.rep@crmqual-sandbox.example",
     "profile": 2, "inactive": True},
)  # fmt: skip
OWNER_NUMBERS = (2, 3, 4, 5)
ORG_ID = sf_id(PREFIXES["Organization"], ORG_NUMBER)
API_USER_ID = sf_id(PREFIXES["User"], API_USER_NUMBER)
HAND_USER_ID = sf_id(PREFIXES["User"], HAND_USER_NUMBER)
OWNER_IDS = tuple(sf_id(PREFIXES["User"], n) for n in OWNER_NUMBERS)

INDUSTRIES = (
    "Agriculture",
    "Chemicals",
    "Construction",
    "Education",
    "Energy",
    "Financial Services",
    "Food & Beverage",
    "Healthcare",
    "Hospitality",
    "Logistics",
    "Manufacturing",
    "Media",
    "Mining",
    "Real Estate",
    "Retail",
    "Technology",
    "Telecommunications",
    "Textiles",
    "Wholesale",
)
"""The org's Industry picklist, customised (as orgs do) to the shared seed's industries."""
CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY", "INR")
TYPES = ("Customer", "Prospect", "Reseller", "Partner", "Other")
OWNERSHIP = ("Public", "Private", "Subsidiary", "Other")

#: Fields the system maintains: never writable through the API.
SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)

# (name, label, describe type, options)
_STANDARD: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("Id", "Account ID", "id", {"read_only": True, "length": 18}),
    ("IsDeleted", "Deleted", "boolean", {"read_only": True}),
    ("Name", "Account Name", "string", {"mandatory": True, "length": 255}),
    ("Type", "Account Type", "picklist", {"values": TYPES}),
    ("AccountNumber", "Account Number", "string", {"length": 40}),
    ("Industry", "Industry", "picklist", {"values": INDUSTRIES}),
    ("AnnualRevenue", "Annual Revenue", "currency", {"length": 18, "scale": 0}),
    ("NumberOfEmployees", "Employees", "int", {"length": 8}),
    ("Ownership", "Ownership", "picklist", {"values": OWNERSHIP}),
    ("Phone", "Account Phone", "phone", {"length": 40}),
    ("Website", "Website", "url", {"length": 255}),
    ("BillingStreet", "Billing Street", "textarea", {"length": 255}),
    ("BillingCity", "Billing City", "string", {"length": 40}),
    ("BillingState", "Billing State/Province", "string", {"length": 80}),
    ("BillingPostalCode", "Billing Zip/Postal Code", "string", {"length": 20}),
    ("BillingCountry", "Billing Country", "string", {"length": 80}),
    ("Description", "Account Description", "textarea", {"length": 32000}),
    ("CurrencyIsoCode", "Account Currency", "picklist", {"values": CURRENCIES}),
    ("OwnerId", "Owner ID", "reference", {"length": 18, "lookup": "User"}),
    ("CreatedDate", "Created Date", "datetime", {"read_only": True}),
    ("CreatedById", "Created By ID", "reference", {"read_only": True, "lookup": "User"}),
    ("LastModifiedDate", "Last Modified Date", "datetime", {"read_only": True}),
    ("LastModifiedById", "Last Modified By ID", "reference", {"read_only": True, "lookup": "User"}),
    ("SystemModstamp", "System Modstamp", "datetime", {"read_only": True}),
)

#: Objects besides Account that the sandbox stores (module names in the shared store) and
#: the fields each may carry on create: name -> (type, required).
OTHER_OBJECTS: dict[str, dict[str, tuple[str, bool]]] = {
    "Task": {
        "Subject": ("string", True),
        "WhatId": ("reference", False),
        "WhoId": ("reference", False),
        "OwnerId": ("reference", False),
        "ActivityDate": ("date", False),
        "Status": ("string", False),
        "Priority": ("string", False),
        "Description": ("textarea", False),
    },
    "PermissionSet": {
        "Name": ("string", True),
        "Label": ("string", True),
        "Description": ("textarea", False),
    },
    "FieldPermissions": {
        "ParentId": ("reference", True),
        "SobjectType": ("string", True),
        "Field": ("string", True),
        "PermissionsRead": ("boolean", False),
        "PermissionsEdit": ("boolean", False),
    },
    "PermissionSetAssignment": {
        "AssigneeId": ("reference", True),
        "PermissionSetId": ("reference", True),
    },
}


def picklist(values: tuple[str, ...] | list[str], first_id: int = 1) -> tuple[PicklistValue, ...]:
    return tuple(
        PicklistValue(id=str(first_id + i), display_value=v, actual_value=v, sequence_number=i)
        for i, v in enumerate(values)
    )


def standard_field(name: str, label: str, kind: str, opts: dict[str, Any]) -> FieldDef:
    return FieldDef(
        id=name,
        api_name=name,
        label=label,
        data_type=kind,
        length=opts.get("length"),
        decimal_place=opts.get("scale"),
        system_mandatory=bool(opts.get("mandatory")),
        read_only=bool(opts.get("read_only")),
        picklist=picklist(opts.get("values", ())),
        lookup_module=opts.get("lookup"),
    )


@dataclass(frozen=True)
class OrgSecrets:
    """The org's login material, made once per database file."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str

    def as_dict(self) -> dict[str, str]:
        return {
            "username": self.username,
            "password": self.password,
            "security_token": self.security_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }


def install(store: SandboxStore, now: str) -> OrgSecrets:
    """Create the org once (fields, users, secrets); return its secrets."""
    raw = store.get_meta("sf.org")
    if raw is not None:
        return OrgSecrets(**json.loads(raw))
    with store.transaction():
        for name, label, kind, opts in _STANDARD:
            store.put_field(ACCOUNT, standard_field(name, label, kind, opts))
        store.insert_records(
            "Profile",
            [StoredRecord("Profile", n, now, now, {"Name": name}) for n, name in PROFILES.items()],
        )
        store.insert_records(
            "User",
            [
                StoredRecord(
                    "User",
                    u["n"],
                    now,
                    now,
                    {
                        "Name": u["Name"],
                        "Username": u["Username"],
                        "IsActive": not u.get("inactive"),
                        "ProfileId": sf_id(PREFIXES["Profile"], u["profile"]),
                    },
                )
                for u in USERS
            ],
        )
        org = OrgSecrets(
            username=USERS[0]["Username"],
            password="Sandbox-" + secrets.token_urlsafe(9),
            security_token=secrets.token_hex(12).upper(),
            client_id="3MVG9" + secrets.token_urlsafe(30).replace("-", "A").replace("_", "b"),
            client_secret=secrets.token_hex(32).upper(),
        )
        store.set_meta("sf.org", json.dumps(org.as_dict()))
    return org


def user_exists(username: str) -> int | None:
    """The record number of the active user called `username`, or None."""
    for u in USERS:
        if u["Username"].lower() == username.lower() and not u.get("inactive"):
            return int(u["n"])
    return None
