"""Saving Account records: the checks and the write behind sObject Collections, single-record
PATCH and Bulk API 2.0 ingest (salesforce.md sections 5, 6 and 9).

Per record: the id must name an Account; every field must be visible and editable to the
caller (else the whole request fails with INVALID_FIELD / INVALID_FIELD_FOR_INSERT_UPDATE,
as for an unknown column); values are checked by type (`values.check`); the org's validation
rule (`VALIDATION_RULES`) and the fault plan's per-record errors (`UNABLE_TO_LOCK_ROW`) may
refuse it. Every save moves SystemModstamp, LastModifiedDate and LastModifiedById, whether
or not a value changed; the write log records the fields whose values changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.salesforce.errors import SalesforceError, record_error
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.objects import Fields, record_number
from crmqual.sandbox.salesforce.schema import ACCOUNT, SYSTEM_FIELDS
from crmqual.sandbox.salesforce.values import FieldProblem, check
from crmqual.sandbox.store import SandboxStore, StoredRecord

ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header"
)
LOCK_MESSAGE = "unable to obtain exclusive access to this record or 1 records"

#: The org's validation rules: (field, refuses(value), error message). A sandbox rule so that
#: FIELD_CUSTOM_VALIDATION_EXCEPTION can be met: a credit limit is never negative.
VALIDATION_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    (
        "Credit_Limit__c",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v < 0,
        "Credit limit cannot be negative",
    ),
)


@dataclass
class SaveResult:
    id: str | None
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "success": self.success, "errors": self.errors}


def no_such_column(name: str) -> SalesforceError:
    return SalesforceError(
        400, "INVALID_FIELD", f"No such column '{name}' on sobject of type Account", [name]
    )


def not_writable(name: str) -> SalesforceError:
    return SalesforceError(
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {name}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        [name],
    )


def field_of(seen: Fields, name: str) -> FieldDef:
    """The writable field called `name`, or raise the request-level error."""
    key = name.lower()
    if key not in seen.readable:
        raise no_such_column(name)
    fdef = seen.editable.get(key)
    if fdef is None or fdef.api_name in SYSTEM_FIELDS:
        raise not_writable(fdef.api_name if fdef else seen.readable[key].api_name)
    return fdef


def picklist_rules(store: SandboxStore) -> dict[str, bool]:
    """Custom picklists' `restricted` flags, from their CustomField Metadata."""
    from crmqual.sandbox.store import Scan

    out: dict[str, bool] = {}
    for rec in store.scan(Scan("CustomField")):
        meta = rec.data.get("Metadata") or {}
        value_set = meta.get("valueSet") or {}
        out[str(rec.data.get("DeveloperName", "")) + "__c"] = bool(value_set.get("restricted"))
    return out


@dataclass
class Change:
    """One record to save: its id as given and `{field: value}` (values already typed)."""

    id_text: str | None
    values: dict[str, Any]


def save_accounts(
    store: SandboxStore,
    seen: Fields,
    changes: list[Change],
    *,
    all_or_none: bool,
    now_iso: str,
    user: int,
    client: str,
    fails: Callable[[int], bool] = lambda i: False,
    source: str = "api",
) -> list[SaveResult]:
    """Check and save; results in input order. Raises SalesforceError for request-level
    errors (an unknown or read-only column) before anything is written."""
    for change in changes:
        for name in change.values:
            field_of(seen, name)
    restricted = picklist_rules(store)
    numbers = [record_number(ACCOUNT, c.id_text or "") for c in changes]
    stored = store.get_records(ACCOUNT, [n for n in numbers if n is not None])
    results: list[SaveResult] = []
    planned: list[tuple[StoredRecord, dict[str, Any]] | None] = []
    for index, (change, number) in enumerate(zip(changes, numbers, strict=True)):
        shown_id = None if number is None else sf_id(PREFIXES[ACCOUNT], number)
        if change.id_text is None:
            results.append(
                SaveResult(
                    None, [record_error("MISSING_ARGUMENT", "Id not specified in an update call")]
                )
            )
            planned.append(None)
            continue
        if number is None or number not in stored:
            code = "MALFORMED_ID" if number is None else "INVALID_CROSS_REFERENCE_KEY"
            message = (
                f"Account ID: id value of incorrect type: {change.id_text}"
                if number is None
                else "invalid cross reference id"
            )
            results.append(
                SaveResult(
                    None if number is None else shown_id,
                    [record_error(code, message, ["Id"] if number is None else [])],
                )
            )
            planned.append(None)
            continue
        typed: dict[str, Any] = {}
        errors = []
        for name, value in change.values.items():
            fdef = field_of(seen, name)
            fdef_values = {p.actual_value for p in fdef.picklist}
            is_restricted = restricted.get(fdef.api_name, fdef.api_name == "CurrencyIsoCode")
            try:
                typed[fdef.api_name] = check(fdef, value, is_restricted, fdef_values)
            except FieldProblem as problem:
                errors.append(record_error(problem.code, problem.message, [problem.field]))
        for rule_field, refuses, message in VALIDATION_RULES:
            if not errors and rule_field in typed and refuses(typed[rule_field]):
                errors.append(record_error("FIELD_CUSTOM_VALIDATION_EXCEPTION", message, []))
        if not errors and fails(index):
            errors.append(record_error("UNABLE_TO_LOCK_ROW", LOCK_MESSAGE, []))
        results.append(SaveResult(shown_id, errors))
        planned.append(None if errors else (stored[number], typed))
    if all_or_none and any(not r.success for r in results):
        for result in results:
            if result.success:
                result.errors = [record_error("ALL_OR_NONE_OPERATION_ROLLED_BACK", ROLLED_BACK)]
        return results
    user_id = sf_id(PREFIXES["User"], user)
    with store.transaction():
        for item in planned:
            if item is not None:
                write(store, item[0], item[1], now_iso, user_id, client, source)
    return results


def write(
    store: SandboxStore,
    record: StoredRecord,
    typed: dict[str, Any],
    now_iso: str,
    user_id: str,
    client: str,
    source: str,
) -> None:
    """Apply one save: values, then the audit fields (always, even if nothing changed)."""
    data = dict(record.data)
    changed = {k: (data.get(k), v) for k, v in typed.items() if data.get(k) != v}
    data.update(typed)
    data["LastModifiedDate"] = now_iso
    data["LastModifiedById"] = user_id
    updated = StoredRecord(record.module, record.id, record.created_time, now_iso, data)
    store.update_record(updated, source=source, client=client, user_id=user_id, changes=changed)


def parse_collection(body: Any, limit: int) -> tuple[bool, list[Change]]:
    """`{"allOrNone": bool, "records": [...]}` -> (allOrNone, changes); 400 when malformed."""
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must hold 'records'")
    records = body["records"]
    if len(records) > limit:
        raise SalesforceError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {limit} records into this call",
        )
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    changes = []
    for record in records:
        if not isinstance(record, dict):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "each record must be an object")
        attributes = record.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        if not kind:
            raise SalesforceError(
                400, "INVALID_TYPE", "sObject type must be specified in attributes"
            )
        if kind != ACCOUNT:
            raise SalesforceError(
                400, "INVALID_TYPE", f"sObject type '{kind}' is not supported for update."
            )
        values = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
        id_text = record.get("id", record.get("Id"))
        changes.append(Change(str(id_text) if id_text is not None else None, values))
    return all_or_none, changes
