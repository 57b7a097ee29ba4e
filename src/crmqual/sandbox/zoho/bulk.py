"""Zoho's Bulk Read API (zoho.md section 9) and the record count it is chosen by.

- `POST /crm/bulk/v8/read` creates an export job (201, inside `data[]`, state `ADDED`);
- `GET /crm/bulk/v8/read/{job_id}` answers its state. Jobs advance **per status poll**, never
  on a clock, so runs are deterministic: the first `polls_added` polls answer `ADDED`, the next
  `polls_in_progress` `IN PROGRESS`, the one after `COMPLETED` (the export runs at that poll,
  into a ZIP beside the database) or `FAILURE` when `fail_next("read")` marked the job;
- `GET /crm/bulk/v8/read/{job_id}/result` streams the ZIP holding one CSV;
- `GET /crm/v8/{module}/actions/count` counts records (optionally by `criteria`).

Jobs live in the store's meta table, so every process on the file sees them. Settings
(`BulkSettings`) are kept in the file as well (`configure`); tests scale the 200,000
records per job down. The CSV: header of API names (`Id` first), one row per record in id
order; numbers as digits, booleans `true`/`false`, multi-select values joined by `;`,
lookups as the related record's id, dates and datetimes as the API shows them, empty cells
for no value.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response
from werkzeug.wsgi import FileWrapper

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import SandboxStore, Scan, StoredRecord, iso
from crmqual.sandbox.zoho.call import Call, json_response
from crmqual.sandbox.zoho.criteria import (
    V8_OPERATORS,
    Condition,
    CriteriaError,
    Group,
    Tree,
    coerce,
    matches,
    parse,
)
from crmqual.sandbox.zoho.errors import ZohoError, error_body, invalid_param
from crmqual.sandbox.zoho.guard import CREDITS_HEADER, CREDITS_MESSAGE
from crmqual.sandbox.zoho.quota import CreditLedger, Quota
from crmqual.sandbox.zoho.records import full_values
from crmqual.sandbox.zoho.schema import API_USER, ID_BASE
from crmqual.sandbox.zoho.scopes import module_scope

_SETTINGS_KEY = "zoho_bulk"
_JOB_KEY = "zoho_bulk_job:{kind}:{id}"
_FAIL_KEY = "zoho_bulk_fail:{kind}"
NOT_FOUND_MESSAGE = "The requested resource doesn't exist."
BULK_READ_SCOPE = "ZohoCRM.bulk.READ"
STATES = ("ADDED", "IN PROGRESS", "COMPLETED")


@dataclass(frozen=True)
class BulkSettings:
    """Limits and costs of the bulk APIs (zoho.md 7 and 9), kept in the sandbox file."""

    records_per_read: int = 200_000
    rows_per_write: int = 25_000
    upload_bytes: int = 25 * 1024 * 1024
    polls_added: int = 1
    polls_in_progress: int = 1
    #: Credits of creating a job: a bulk write 500 (zoho.md 7); a bulk read 50 (Zoho's
    #: API-limits page; not in the reference: an assumption). Other bulk calls cost 1.
    read_credits: int = 50
    write_credits: int = 500

    def save(self, store: SandboxStore) -> None:
        store.set_meta(_SETTINGS_KEY, json.dumps(asdict(self)))

    @classmethod
    def load(cls, store: SandboxStore) -> BulkSettings:
        raw = store.get_meta(_SETTINGS_KEY)
        return cls(**json.loads(raw)) if raw else cls()


def configure(store: SandboxStore, **changes: Any) -> BulkSettings:
    """Change the file's bulk settings (e.g. `records_per_read=50`); returns them."""
    settings = replace(BulkSettings.load(store), **changes)
    settings.save(store)
    return settings


def fail_next(store: SandboxStore, kind: str) -> None:
    """The next job of `kind` ("read" or "write") ends in FAILURE / FAILED."""
    store.set_meta(_FAIL_KEY.format(kind=kind), "1")


def files_dir(store: SandboxStore) -> Path:
    """Where export ZIPs, uploads and write results live: beside the database file."""
    folder = Path(f"{store.path}.bulk")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- jobs ----------------------------------------------------------------------------------
def new_job(store: SandboxStore, kind: str, job: dict[str, Any]) -> dict[str, Any]:
    (number,) = store.next_ids(1, ID_BASE + 1_000_000)
    flag = _FAIL_KEY.format(kind=kind)
    with store.transaction():
        job = {**job, "id": str(number), "polls": [], "fail": store.get_meta(flag) == "1"}
        store.set_meta(flag, "0")
        save_job(store, kind, job)
    return job


def save_job(store: SandboxStore, kind: str, job: dict[str, Any]) -> None:
    store.set_meta(_JOB_KEY.format(kind=kind, id=job["id"]), json.dumps(job))


def load_job(store: SandboxStore, kind: str, job_id: str) -> dict[str, Any] | None:
    raw = store.get_meta(_JOB_KEY.format(kind=kind, id=job_id))
    return json.loads(raw) if raw else None


def jobs(store: SandboxStore, kind: str) -> list[dict[str, Any]]:
    """Every job of a kind, oldest first, each with `polls`: the states its polls answered."""
    prefix = _JOB_KEY.format(kind=kind, id="")
    rows = store._conn().execute(
        "SELECT value FROM meta WHERE key LIKE ? ORDER BY key", (prefix + "%",)
    )
    return [json.loads(row[0]) for row in rows]


def next_state(settings: BulkSettings, polls: int, done: str) -> str:
    """The state the `polls`-th status poll (from 1) answers; `done` once past the others."""
    if polls <= settings.polls_added:
        return "ADDED"
    if polls <= settings.polls_added + settings.polls_in_progress:
        return "IN PROGRESS"
    return done


def charge_job(call: Call, cost: int) -> None:
    """Charge a job's creation beyond the 1 credit the guard took for the call."""
    if cost <= 1:
        return
    spend = CreditLedger(call.store, Quota.load(call.store)).charge(call.now, cost - 1)
    if not spend.allowed:
        raise ZohoError(429, error_body("TOO_MANY_REQUESTS", CREDITS_MESSAGE))


def credits_refused(exc: ZohoError) -> Response:
    response = json_response(exc.body, exc.status)
    if exc.status == 429:
        response.headers[CREDITS_HEADER] = "0"
    return response


def module_ref(store: SandboxStore, module: str) -> dict[str, str]:
    """`{api_name, id}` of a module (the OAS's Minified_Module)."""
    found = store.modules().get(module) or {}
    return {"api_name": module, "id": str(found.get("id") or "")}


def created_by() -> dict[str, str]:
    return {"id": API_USER["id"], "name": API_USER["name"]}


def not_found(job_id: str, status: int) -> ZohoError:
    return ZohoError.of(status, "RESOURCE_NOT_FOUND", NOT_FOUND_MESSAGE, {"resource": job_id})


def file_response(path: Path, content_type: str, name: str) -> Response:
    handle = path.open("rb")
    response = Response(FileWrapper(handle), content_type=content_type, direct_passthrough=True)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.call_on_close(handle.close)
    return response


# -- CSV values ------------------------------------------------------------------------------
def cell(value: Any) -> str:
    """A value as the export CSV holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("id") or "")
    if isinstance(value, float):
        return repr(value)
    return str(value)


# -- bulk read: create ---------------------------------------------------------------------
def _bulk_error(code: str, message: str, details: dict[str, Any] | None = None) -> ZohoError:
    return ZohoError.of(400, code, message, details)


def _criteria(raw: Any, fields: dict[str, FieldDef]) -> Tree | None:
    """The OAS `Criteria` object as a criteria tree (checked like search criteria)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bulk_error("INVALID_CRITERIA", "invalid criteria", {"json_path": "$.query.criteria"})
    if "group" in raw:
        operator = str(raw.get("group_operator", "")).lower()
        parts = raw.get("group")
        if operator not in ("and", "or") or not isinstance(parts, list) or not parts:
            raise _bulk_error(
                "INVALID_CRITERIA", "invalid criteria", {"json_path": "$.query.criteria"}
            )
        found = [_criteria(p, fields) for p in parts]
        return Group(operator, tuple(t for t in found if t is not None))
    field = raw.get("field")
    name = field.get("api_name") if isinstance(field, dict) else raw.get("api_name")
    comparator = {"equal": "equals"}.get(str(raw.get("comparator")), str(raw.get("comparator")))
    value = raw.get("value")
    values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if comparator in ("contains", "not_contains", "ends_with"):
        return Condition(str(name), comparator, tuple(values))
    text = f"({name}:{comparator}:{','.join(v.replace(',', chr(92) + ',') for v in values)})"
    try:
        return parse(text, fields, V8_OPERATORS)
    except CriteriaError as exc:
        raise _bulk_error(
            "INVALID_CRITERIA", "invalid criteria", {"reason": str(exc), "api_name": str(name)}
        ) from exc


def _matches(tree: Tree, values: dict[str, Any], fields: dict[str, FieldDef]) -> bool:
    if isinstance(tree, Group):
        results = (_matches(part, values, fields) for part in tree.parts)
        return all(results) if tree.operator == "and" else any(results)
    if tree.operator in ("contains", "not_contains", "ends_with"):
        data_type = fields[tree.field].data_type if tree.field in fields else "text"
        stored = coerce(values.get(tree.field), data_type)
        text, wanted = str(stored or ""), str(coerce(tree.values[0], data_type))
        if tree.operator == "ends_with":
            return stored is not None and text.endswith(wanted)
        inside = stored is not None and wanted in text
        return inside if tree.operator == "contains" else not inside
    return matches(tree, values, fields)


def create_read(call: Call) -> Response:
    body = call.json_body()
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, dict):
        raise _bulk_error("REQUEST_BODY_IS_EMPTY", "the request body is empty", {})
    module_ref = query.get("module")
    module = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
    if not isinstance(module, str) or module not in call.store.modules():
        where = {"api_name": str(module), "module": str(module)}
        raise _bulk_error("MODULE_NOT_AVAILABLE", "the module is not available", where)
    call.require(((module_scope(module, "READ"), BULK_READ_SCOPE),))
    fields = call.module_fields(module)
    names = query.get("fields") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise invalid_param("fields")
    for name in names:
        if name not in fields and name != "id":
            raise _bulk_error(
                "FIELD_NOT_AVAILABLE",
                "the field is not available",
                {"api_name": name, "module": module},
            )
    _criteria(query.get("criteria"), fields)  # refused now rather than when the job runs
    if query.get("cvid"):
        raise _bulk_error("CVID_NOT_SUPPORTED", "custom views are not served in bulk", {})
    settings = BulkSettings.load(call.store)
    page, token = query.get("page"), query.get("page_token")
    if token is not None:
        found = call.store.get_page_token(str(token))
        if found is None or found[1] < iso(call.now):
            raise invalid_param("page_token")
        page = found[0]["page"]
    elif page is None:
        page = 1
    if not isinstance(page, int) or page < 1:
        raise invalid_param("page")
    try:
        charge_job(call, settings.read_credits)
    except ZohoError as exc:
        return credits_refused(exc)
    job = new_job(
        call.store,
        "read",
        {
            "operation": "read",
            "created_time": iso(call.now),
            "module": module,
            "fields": names,
            "criteria": query.get("criteria"),
            "page": page,
            "after": (found[0]["after"] if token is not None and found else None),
            "file_type": str(body.get("file_type") or "csv"),
        },
    )
    details: dict[str, Any] = {
        "id": job["id"],
        "operation": "read",
        "state": "ADDED",
        "created_by": created_by(),
        "created_time": job["created_time"],
    }
    item = {
        "status": "success",
        "code": "ADDED_SUCCESSFULLY",
        "message": "Added successfully.",
        "details": details,
    }
    return json_response({"data": [item], "info": {}}, 201)


# -- bulk read: status and export --------------------------------------------------------------
def read_status(call: Call, job_id: str) -> Response:
    job = load_job(call.store, "read", job_id)
    if job is None:
        raise not_found(job_id, 404)
    call.require(((module_scope(job["module"], "READ"), BULK_READ_SCOPE),))
    settings = BulkSettings.load(call.store)
    if job.get("state") not in ("COMPLETED", "FAILURE"):
        state = next_state(settings, len(job["polls"]) + 1, "FAILURE" if job["fail"] else "")
        if not state:
            job["result"] = _export(call, job, settings)
            state = "COMPLETED"
        job["state"] = state
    job["polls"].append(job["state"])
    save_job(call.store, "read", job)
    return json_response({"data": [_job_view(call, job)]})


def _job_view(call: Call, job: dict[str, Any]) -> dict[str, Any]:
    query: dict[str, Any] = {
        "module": module_ref(call.store, job["module"]),
        "cvid": None,
        "fields": job["fields"],
        "page": job["page"],
    }
    if job.get("criteria") is not None:
        query["criteria"] = job["criteria"]
    view: dict[str, Any] = {
        "id": job["id"],
        "operation": "read",
        "state": job["state"],
        "query": query,
        "created_by": created_by(),
        "created_time": job["created_time"],
        "file_type": job["file_type"],
    }
    if job["state"] == "COMPLETED":
        view["result"] = job["result"]
    return view


def _export(call: Call, job: dict[str, Any], settings: BulkSettings) -> dict[str, Any]:
    """Run the export now: the job's page of matching records into a ZIP holding one CSV."""
    module = job["module"]
    fields = call.module_fields(module)
    names = [n for n in (job["fields"] or list(fields)) if n != "id"]
    tree = _criteria(job.get("criteria"), fields)
    per_job = settings.records_per_read
    after = job.get("after")
    skip = 0 if after is not None else (job["page"] - 1) * per_job
    scan = Scan(module, after=(after, after) if after is not None else None)
    matching = (
        r for r in call.store.scan(scan) if tree is None or _matches(tree, full_values(r), fields)
    )
    path = files_dir(call.store) / f"read-{job['id']}.zip"
    count, last, more = 0, None, False
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(f"{job['id']}.csv", "w") as raw,
    ):
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["Id", *names])
        for n, record in enumerate(_skip(matching, skip)):
            if n >= per_job:
                more = True
                break
            values = full_values(record)
            writer.writerow([str(record.id), *(cell(values.get(k)) for k in names)])
            count, last = count + 1, record.id
        text.flush()
        text.detach()
    result: dict[str, Any] = {
        "page": job["page"],
        "count": count,
        "per_page": per_job,
        "more_records": more,
        "download_url": f"/crm/bulk/v8/read/{job['id']}/result",
    }
    if more:
        token = secrets.token_hex(16)
        expires = iso(call.now + timedelta(hours=call.limits.page_token_hours))
        call.store.put_page_token(token, {"page": job["page"] + 1, "after": last}, expires)
        result["next_page_token"] = token
    return result


def _skip(records: Iterator[StoredRecord], count: int) -> Iterator[StoredRecord]:
    for n, record in enumerate(records):
        if n >= count:
            yield record


def read_result(call: Call, job_id: str) -> Response:
    job = load_job(call.store, "read", job_id)
    if job is None or job.get("state") != "COMPLETED":
        raise not_found(job_id, 400)
    call.require(((module_scope(job["module"], "READ"), BULK_READ_SCOPE),))
    path = files_dir(call.store) / f"read-{job_id}.zip"
    return file_response(path, "application/x-download", f"{job_id}.zip")


# -- record count ------------------------------------------------------------------------------
def count_records(call: Call, module: str) -> Response:
    """`GET /crm/v8/{module}/actions/count[?criteria=...]` -> `{"count": n}`."""
    call.require(((module_scope(module, "READ"),),))
    fields = call.module_fields(module)
    text = call.request.args.get("criteria")
    tree = None
    if text:
        try:
            tree = parse(text, fields, V8_OPERATORS)
        except CriteriaError as exc:
            raise invalid_param("criteria", reason=str(exc)) from exc
    if tree is None:
        return json_response({"count": call.store.count(module)})
    found = sum(1 for r in call.store.scan(Scan(module)) if matches(tree, full_values(r), fields))
    return json_response({"count": found})
