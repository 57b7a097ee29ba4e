"""Zoho's Tasks module and the Insert Records call (issue 8): what crmqual's follow-ups use.

`install_tasks(store, created)` adds the Tasks module with its standard fields (Subject,
Due_Date, What_Id, Who_Id, Status, Priority, Owner, Description, ...). `insert_records` serves
`POST /crm/{v2,v8}/{module}`: at most 100 records, each checked like an update (types,
lengths, picklists, mandatory Subject), lookups checked to name an existing record (`What_Id`
in the module `$se_module` names; `Owner` an org user), `Owner` defaulting to the token's user.
Answers: 201 when all are added, 207 when some fail, 400 when none is (as for updates). Once
stored, a Task is listed, fetched, searched and queried by COQL like any record (those
handlers are module-neutral); COQL is what crmqual's adapter uses to find a Task again.
See the sandbox README ("Tasks") for the shapes and what is assumed.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import SandboxStore, StoredRecord, iso
from crmqual.sandbox.zoho.call import Call, json_response
from crmqual.sandbox.zoho.errors import (
    INVALID_DATA_MESSAGE,
    MANDATORY_MESSAGE,
    error_body,
)
from crmqual.sandbox.zoho.records import data_items
from crmqual.sandbox.zoho.schema import (
    API_USER,
    ID_BASE,
    SYSTEM_FIELDS,
    USERS,
    default_length,
    picklist,
)
from crmqual.sandbox.zoho.scopes import module_scope
from crmqual.sandbox.zoho.values import check

TASKS = "Tasks"
SE_MODULE = "$se_module"
#: Modules a Task's `What_Id` may point at (Zoho's "Related To"); the sandbox holds Accounts.
WHAT_MODULES = ("Accounts", "Deals", "Leads", "Campaigns", "Cases", "Quotes", "Solutions")
STATUSES = ("Not Started", "Deferred", "In Progress", "Completed", "Waiting for input")
PRIORITIES = ("High", "Highest", "Low", "Lowest", "Normal")
ADDED_MESSAGE = "record added"

# (api_name, label, data_type, options), as zoho.md 13 lists Accounts' and the SDKs' Tasks.
_TASK_FIELDS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("Owner", "Task Owner", "ownerlookup", {"lookup": "users"}),
    ("Subject", "Subject", "text", {"mandatory": True, "length": 255}),
    ("Due_Date", "Due Date", "date", {}),
    ("What_Id", "Related To", "lookup", {"lookup": "Accounts"}),
    ("Who_Id", "Contact Name", "lookup", {"lookup": "Contacts"}),
    ("Status", "Status", "picklist", {"values": STATUSES}),
    ("Priority", "Priority", "picklist", {"values": PRIORITIES}),
    ("Send_Notification_Email", "Send Notification Email", "boolean", {}),
    ("Description", "Description", "textarea", {}),
    ("Closed_Time", "Closed Time", "datetime", {"read_only": True}),
    ("Created_By", "Created By", "ownerlookup", {"lookup": "users", "read_only": True}),
    ("Modified_By", "Modified By", "ownerlookup", {"lookup": "users", "read_only": True}),
    ("Created_Time", "Created Time", "datetime", {"read_only": True}),
    ("Modified_Time", "Modified Time", "datetime", {"read_only": True}),
)


def install_tasks(store: SandboxStore, created: str) -> None:
    """Give a store the Tasks module and its standard fields (idempotent)."""
    if TASKS in store.modules():
        return
    store.put_module(
        TASKS,
        {
            "id": "5725767000000000033",
            "api_name": TASKS,
            "module_name": TASKS,
            "singular_label": "Task",
            "plural_label": "Tasks",
            "api_supported": True,
            "generated_type": "default",
            "visible": True,
            "modified_time": created,
        },
    )
    for api_name, label, data_type, opts in _TASK_FIELDS:
        values: tuple[str, ...] = opts.get("values", ())
        ids = store.next_ids(1 + (len(values) + 1 if values else 0), ID_BASE + 100)
        store.put_field(
            TASKS,
            FieldDef(
                id=str(ids[0]),
                api_name=api_name,
                label=label,
                data_type=data_type,
                length=opts.get("length", default_length(data_type)),
                system_mandatory=bool(opts.get("mandatory")),
                read_only=bool(opts.get("read_only")),
                picklist=picklist(values, ids[1:]) if values else (),
                lookup_module=opts.get("lookup"),
                created_time=created,
                modified_time=created,
            ),
        )


# -- insert ------------------------------------------------------------------------------------
def insert_records(call: Call, module: str) -> Response:
    """POST: per-record results; 201 when all are added, 207 when some fail, 400 when none is."""
    token = call.require(((module_scope(module, "CREATE"),),))
    fields = call.module_fields(module)
    items = data_items(call)
    user = next((u for u in USERS if u["id"] == token.user_id), API_USER)
    with call.store.transaction():
        results = [_insert_one(call, module, fields, item, n, user) for n, item in enumerate(items)]
    failures = sum(1 for r in results if r["status"] == "error")
    status = 201 if failures == 0 else (400 if failures == len(results) else 207)
    return json_response({"data": results}, status)


def _insert_one(
    call: Call,
    module: str,
    fields: dict[str, FieldDef],
    item: Any,
    index: int,
    user: dict[str, str],
) -> dict[str, Any]:
    path = f"$.data[{index}]"
    if not isinstance(item, dict):
        return error_body("INVALID_DATA", INVALID_DATA_MESSAGE, {"json_path": path})
    if call.record_fault(index):
        name = next((k for k in item if k != SE_MODULE), "Subject")
        details = {"api_name": name, "json_path": f"{path}.{name}"}
        return error_body("INVALID_DATA", INVALID_DATA_MESSAGE, details)
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name == SE_MODULE:
            continue
        problem = _problem(call, fields, name, value, item.get(SE_MODULE))
        if problem is not None:
            code, details = problem
            message = MANDATORY_MESSAGE if code == "MANDATORY_NOT_FOUND" else INVALID_DATA_MESSAGE
            return error_body(
                code, message, {**details, "api_name": name, "json_path": f"{path}.{name}"}
            )
        values[name] = value
    for f in fields.values():
        if f.system_mandatory and values.get(f.api_name) in (None, ""):
            details = {"api_name": f.api_name, "json_path": f"{path}.{f.api_name}"}
            return error_body("MANDATORY_NOT_FOUND", MANDATORY_MESSAGE, details)
    if "What_Id" in values and item.get(SE_MODULE) is None:
        details = {"api_name": SE_MODULE, "json_path": f"{path}.{SE_MODULE}"}
        return error_body("MANDATORY_NOT_FOUND", MANDATORY_MESSAGE, details)
    return _store(call, module, values, item.get(SE_MODULE), user)


def _problem(
    call: Call, fields: dict[str, FieldDef], name: str, value: Any, se_module: Any
) -> tuple[str, dict[str, Any]] | None:
    f = fields.get(name)
    if f is None or f.read_only or name in SYSTEM_FIELDS or name == "id":
        return "INVALID_DATA", {}
    found = check(f, value)
    if found is not None or value in (None, ""):
        return found
    if f.data_type == "ownerlookup":
        if _ref(value) not in {u["id"] for u in USERS}:
            return "INVALID_DATA", {"expected_data_type": "jsonobject"}
    elif name == "What_Id":
        target = se_module if isinstance(se_module, str) else ""
        if target not in WHAT_MODULES or target not in call.store.modules():
            return "INVALID_DATA", {"expected_data_type": "jsonobject"}
        if not call.store.get_records(target, [int(_ref(value))]):
            return "INVALID_DATA", {"expected_data_type": "jsonobject"}
    return None


def _ref(value: Any) -> str:
    ref = value.get("id") if isinstance(value, dict) else value
    return str(ref)


def _store(
    call: Call, module: str, values: dict[str, Any], se_module: Any, user: dict[str, str]
) -> dict[str, Any]:
    """Store the record: lookups as `{id, name}` objects (as Zoho renders them), the owner by
    default the caller, `$se_module` kept beside `What_Id`."""
    person = {k: user[k] for k in ("id", "name", "email")}
    data = dict(values)
    owner = _ref(values["Owner"]) if values.get("Owner") else user["id"]
    data["Owner"] = next(
        ({k: u[k] for k in ("id", "name", "email")} for u in USERS if u["id"] == owner), person
    )
    if values.get("What_Id"):
        ref = _ref(values["What_Id"])
        target = str(se_module)
        related = call.store.get_records(target, [int(ref)])[int(ref)]
        data["What_Id"] = {"id": ref, "name": _display_name(related)}
        data[SE_MODULE] = target
    data["Created_By"] = person
    data["Modified_By"] = person
    (record_id,) = call.store.next_ids(1, ID_BASE + 1_000_000)
    now = iso(call.now)
    call.store.insert_records(module, [StoredRecord(module, record_id, now, now, data)])
    return {
        "code": "SUCCESS",
        "details": {
            "Modified_Time": now,
            "Modified_By": person,
            "Created_Time": now,
            "id": str(record_id),
            "Created_By": person,
        },
        "message": ADDED_MESSAGE,
        "status": "success",
    }


def _display_name(record: StoredRecord) -> str:
    for key in ("Account_Name", "Deal_Name", "Subject", "Last_Name"):
        value = record.data.get(key)
        if isinstance(value, str) and value:
            return value
    return str(record.id)
