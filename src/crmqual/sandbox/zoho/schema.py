"""The Zoho org the sandbox imitates: the Accounts module, its standard fields, users and org.

`install(store, clock)` puts them into a fresh store; `render_field` turns a stored `FieldDef`
into Zoho's `settings/fields` object, in the v2 or the v8 shape (they differ for lookups,
zoho-sdks.md "Lookup fields differ by version"), with every key Zoho's OAS marks required.
"""

from __future__ import annotations

from typing import Any

from crmqual.sandbox.fielddef import FieldDef, PicklistValue
from crmqual.sandbox.store import SandboxStore

ID_BASE = 5725767000000000000
"""Ids are 19-digit numbers like Zoho's (zoho.md section 10); numeric so both SDKs accept them."""

MODULE = "Accounts"
ORG_ID = "5725767000000000041"
ZGID = "5725767000000000051"

API_USER: dict[str, str] = {
    "id": "5725767000000000011",
    "name": "Sandbox Admin",
    "email": "admin@crmqual-sandbox.test",
}
"""The user every sandbox token belongs to: API writes set `Modified_By` to this user."""

PERSON: dict[str, str] = {
    "id": "5725767000000000012",
    "name": "Li Wei",
    "email": "li.wei@crmqual-sandbox.test",
}
"""The salesperson whose hand edits the sandbox's Python API makes."""

OWNERS: tuple[dict[str, str], ...] = (
    PERSON,
    {"id": "5725767000000000013", "name": "Maria Garcia", "email": "maria@crmqual-sandbox.test"},
    {"id": "5725767000000000014", "name": "John Smith", "email": "john@crmqual-sandbox.test"},
    {"id": "5725767000000000015", "name": "张敏", "email": "zhang.min@crmqual-sandbox.test"},
    {"id": "5725767000000000016", "name": "陈静", "email": "chen.jing@crmqual-sandbox.test"},
    {"id": "5725767000000000017", "name": "Emily Clarke", "email": "emily@crmqual-sandbox.test"},
)
USERS: tuple[dict[str, str], ...] = (API_USER, *OWNERS)

JSON_TYPES: dict[str, str] = {
    "text": "string",
    "textarea": "string",
    "email": "string",
    "phone": "string",
    "website": "string",
    "picklist": "string",
    "date": "string",
    "datetime": "string",
    "autonumber": "string",
    "integer": "integer",
    "bigint": "string",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "decimal": "double",
    "boolean": "boolean",
    "multiselectpicklist": "jsonarray",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
    "userlookup": "jsonobject",
}
"""Zoho data types the sandbox knows, with the `json_type` Zoho reports for each."""

_LENGTHS = {
    "text": 255,
    "textarea": 32000,
    "email": 100,
    "phone": 30,
    "website": 255,
    "picklist": 120,
    "multiselectpicklist": 2000,
    "integer": 9,
    "bigint": 18,
    "double": 16,
    "currency": 16,
    "percent": 5,
}

ACCOUNT_TYPES = (
    "Analyst",
    "Competitor",
    "Customer",
    "Distributor",
    "Integrator",
    "Investor",
    "Partner",
    "Press",
    "Prospect",
    "Reseller",
    "Vendor",
    "Other",
)
OWNERSHIP = ("Public", "Private", "Subsidiary", "Partnership", "Government", "Other")
RATINGS = ("Acquired", "Active", "Market Failed", "Project Cancelled", "Shut Down")
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
"""The sandbox org's Industry picklist, customised (as orgs do) from Zoho's IT-centred default."""
CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY", "INR")

# (api_name, label, data_type, options); options: mandatory, read_only, length, decimals,
# picklist values, lookup module.
_STANDARD: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("Owner", "Account Owner", "ownerlookup", {"lookup": "users"}),
    ("Account_Name", "Account Name", "text", {"mandatory": True, "length": 200}),
    ("Account_Number", "Account Number", "text", {"length": 40}),
    ("Account_Site", "Account Site", "text", {"length": 80}),
    ("Parent_Account", "Parent Account", "lookup", {"lookup": MODULE}),
    ("Account_Type", "Account Type", "picklist", {"values": ACCOUNT_TYPES}),
    ("Ownership", "Ownership", "picklist", {"values": OWNERSHIP}),
    ("Industry", "Industry", "picklist", {"values": INDUSTRIES}),
    ("Employees", "Employees", "integer", {}),
    ("Annual_Revenue", "Annual Revenue", "currency", {"decimals": 2}),
    ("Currency", "Currency", "picklist", {"values": CURRENCIES}),
    ("Exchange_Rate", "Exchange Rate", "double", {"decimals": 9, "read_only": True}),
    ("Rating", "Rating", "picklist", {"values": RATINGS}),
    ("SIC_Code", "SIC Code", "integer", {}),
    ("Ticker_Symbol", "Ticker Symbol", "text", {"length": 30}),
    ("Website", "Website", "website", {}),
    ("Phone", "Phone", "phone", {}),
    ("Fax", "Fax", "phone", {}),
    ("Description", "Description", "textarea", {}),
    ("Billing_Street", "Billing Street", "text", {}),
    ("Billing_City", "Billing City", "text", {"length": 30}),
    ("Billing_State", "Billing State", "text", {"length": 30}),
    ("Billing_Code", "Billing Code", "text", {"length": 30}),
    ("Billing_Country", "Billing Country", "text", {"length": 30}),
    ("Shipping_Street", "Shipping Street", "text", {}),
    ("Shipping_City", "Shipping City", "text", {"length": 30}),
    ("Shipping_State", "Shipping State", "text", {"length": 30}),
    ("Shipping_Code", "Shipping Code", "text", {"length": 30}),
    ("Shipping_Country", "Shipping Country", "text", {"length": 30}),
    ("Created_By", "Created By", "ownerlookup", {"lookup": "users", "read_only": True}),
    ("Modified_By", "Modified By", "ownerlookup", {"lookup": "users", "read_only": True}),
    ("Created_Time", "Created Time", "datetime", {"read_only": True}),
    ("Modified_Time", "Modified Time", "datetime", {"read_only": True}),
    ("Last_Activity_Time", "Last Activity Time", "datetime", {"read_only": True}),
)

SYSTEM_FIELDS = frozenset({"id", "Created_By", "Modified_By", "Created_Time", "Modified_Time"})


def picklist(values: tuple[str, ...] | list[str], ids: list[int]) -> tuple[PicklistValue, ...]:
    """Picklist entries with the given ids; Zoho's leading `-None-` entry comes first."""
    names = ["-None-", *values]
    return tuple(
        PicklistValue(id=str(i), display_value=v, actual_value=v, sequence_number=n)
        for n, (v, i) in enumerate(zip(names, ids, strict=True), start=1)
    )


def standard_fields(store: SandboxStore, created: str) -> list[FieldDef]:
    """The standard Accounts fields, with fresh ids from the store."""
    defs: list[FieldDef] = []
    for api_name, label, data_type, opts in _STANDARD:
        values: tuple[str, ...] = opts.get("values", ())
        ids = store.next_ids(1 + (len(values) + 1 if values else 0), ID_BASE + 100)
        defs.append(
            FieldDef(
                id=str(ids[0]),
                api_name=api_name,
                label=label,
                data_type=data_type,
                length=opts.get("length", _LENGTHS.get(data_type)),
                decimal_place=opts.get("decimals"),
                system_mandatory=bool(opts.get("mandatory")),
                read_only=bool(opts.get("read_only")),
                picklist=picklist(values, ids[1:]) if values else (),
                lookup_module=opts.get("lookup"),
                created_time=created,
                modified_time=created,
            )
        )
    return defs


def module_definition(created: str) -> dict[str, Any]:
    return {
        "id": "5725767000000000031",
        "api_name": MODULE,
        "module_name": MODULE,
        "singular_label": "Account",
        "plural_label": "Accounts",
        "api_supported": True,
        "generated_type": "default",
        "visible": True,
        "modified_time": created,
    }


def install(store: SandboxStore, created: str) -> None:
    """Give a fresh store the Accounts module and its standard fields (idempotent)."""
    if MODULE in store.modules():
        return
    store.put_module(MODULE, module_definition(created))
    for definition in standard_fields(store, created):
        store.put_field(MODULE, definition)


def default_length(data_type: str) -> int | None:
    return _LENGTHS.get(data_type)


def render_field(f: FieldDef, version: str) -> dict[str, Any]:
    """Zoho's field metadata object. Keys the OAS requires but the sandbox has nothing to say
    about are sent as Zoho sends them for a plain field: null, false, or an object of nulls."""
    nulls_module = {"api_name": None, "id": None}
    lookup: dict[str, Any] = {}
    if f.lookup_module and f.lookup_module != "users":
        module: Any = f.lookup_module
        if version != "v2":
            module = {"api_name": f.lookup_module, "id": "5725767000000000031"}
        lookup = {"display_label": f.label, "api_name": f.api_name, "module": module, "id": f.id}
    editable = not f.read_only
    return {
        "id": f.id,
        "api_name": f.api_name,
        "field_label": f.label,
        "display_label": f.label,
        "data_type": f.data_type,
        "json_type": JSON_TYPES.get(f.data_type, "string"),
        "column_name": f.api_name.upper(),
        "custom_field": f.custom,
        "system_mandatory": f.system_mandatory,
        "read_only": f.read_only,
        "field_read_only": f.read_only,
        "visible": True,
        "length": f.length if f.length is not None else 0,
        "decimal_place": f.decimal_place,
        "pick_list_values": [
            {
                "id": v.id,
                "display_value": v.display_value,
                "actual_value": v.actual_value,
                "sequence_number": v.sequence_number,
                "type": "used",
                "colour_code": None,
            }
            for v in f.picklist
        ],
        "pick_list_values_sorted_lexically": False,
        "enable_colour_code": False,
        "colour_code_enabled_by_system": False,
        "lookup": lookup,
        "currency": (
            {"rounding_option": "normal", "precision": f.decimal_place or 2}
            if f.data_type == "currency"
            else {}
        ),
        "formula": {},
        "unique": {},
        "auto_number": {},
        "autonumber": {
            "starting_number_length": 0,
            "prefix": None,
            "suffix": None,
            "start_number": None,
        },
        "multiselectlookup": {},
        "multiuserlookup": {
            "display_label": None,
            "linking_module": nulls_module,
            "connected_module": nulls_module,
            "lookup_apiname": None,
            "api_name": None,
            "connectedfield_apiname": None,
            "connectedlookup_apiname": None,
            "id": None,
            "record_access": None,
        },
        "multi_module_lookup": {},
        "subform": None,
        "rollup_summary": None,
        "textarea": {"type": "large"} if f.data_type == "textarea" else {},
        "tooltip": f.tooltip if f.tooltip else {"name": "", "value": ""},
        "operation_type": {
            "web_update": editable,
            "api_create": editable,
            "web_create": editable,
            "api_update": editable,
        },
        "view_type": {"view": True, "edit": editable, "quick_create": False, "create": editable},
        "profiles": [
            {
                "name": "Administrator",
                "id": "5725767000000000021",
                "permission_type": "read_write" if editable else "read_only",
            }
        ],
        "layout_associations": [
            {"api_name": "Standard__s", "name": "Standard", "id": "5725767000000000091"}
        ],
        "associated_module": nulls_module,
        "sub_module": nulls_module,
        "allowed_modules": [],
        "association_details": {"related_field": nulls_module, "lookup_field": nulls_module},
        "history_tracking": {"module": {}, "duration_configured_field": nulls_module},
        "refer_from_field": {"id": None, "api_name": None},
        "email_parser": {"fields_update_supported": None, "record_operations_supported": None},
        "external": {"show": None, "type": None},
        "crypt": {"mode": None, "status": None},
        "hipaa_compliance": {"restricted_in_export": None, "restricted": None},
        "hipaa_compliance_enabled": None,
        "sharing_properties": {},
        "convert_mapping": {"Contacts": None, "Deals": None, "Accounts": None},
        "file_upolad_optionlist": [],
        "common.picklist": None,
        "additional_column": None,
        "customizable_properties": [],
        "webhook": editable,
        "blueprint_supported": False,
        "virtual_field": False,
        "businesscard_supported": False,
        "filterable": True,
        "sortable": f.api_name in ("Created_Time", "Modified_Time"),
        "searchable": f.data_type not in ("textarea",),
        "available_in_user_layout": True,
        "display_field": f.api_name == "Account_Name",
        "separator": False,
        "mass_update": editable,
        "created_source": "user" if f.custom else "default",
        "type": "used",
        "display_type": -1,
        "ui_type": 1,
        "quick_sequence_number": "0",
        "created_time": f.created_time if f.custom else None,
        "modified_time": f.modified_time if f.custom else None,
        "show_type": 7,
        "category": 0,
        "_update_existing_records": False,
        "number_separator": f.data_type in ("integer", "double", "currency"),
        "static_field": False,
    }
