"""Zoho's Bulk Write API (zoho.md section 9): the upload host and update jobs.

- `POST /crm/v8/upload` (the upload host, e.g. `content.zohoapis.com`): headers `feature:
  bulk-write` and `X-CRM-ORG: <zgid>`, multipart part `file` = a ZIP holding one CSV of at
  most `rows_per_write` rows and `upload_bytes` bytes -> 200 `FILE_UPLOAD_SUCCESS` with a
  `file_id`;
- `POST /crm/bulk/v8/write` (operation `update`, `find_by: id`, `field_mappings` of API name
  and column index) -> 201, a top-level object; costs `write_credits`;
- `GET /crm/bulk/v8/write/{job_id}`: `status` and `resource[].status` advance per status poll
  like a bulk read (`zoho_bulk.next_state`); at the poll that completes it the rows are
  written, each checked like a record of a PUT (per-record faults included), and the result
  ZIP is made: the uploaded columns plus `STATUS` (`UPDATED` or `SKIPPED`) and `ERRORS`
  (`CODE: message (api_name)`);
- `GET /crm/bulk/v8/write/{job_id}/result` (the job's absolute `download_url`) streams it.

CSV cells become typed values by the field's type: integers, decimals, `true`/`false`,
multi-select values split at `;`; with `ignore_empty` an empty cell leaves the field alone,
otherwise it clears it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import iso
from crmqual.sandbox.zoho.bulk import (
    BulkSettings,
    charge_job,
    created_by,
    credits_refused,
    file_response,
    files_dir,
    load_job,
    module_ref,
    new_job,
    next_state,
    not_found,
    save_job,
)
from crmqual.sandbox.zoho.call import Call, json_response
from crmqual.sandbox.zoho.errors import ZohoError
from crmqual.sandbox.zoho.records import _update_one
from crmqual.sandbox.zoho.schema import ID_BASE, ZGID
from crmqual.sandbox.zoho.scopes import module_scope

BULK_WRITE_SCOPE = "ZohoCRM.bulk.CREATE"
HEADERS_ERROR = "check if headers [feature, X-CRM-ORG] are present and valid"
FORMAT_MESSAGE = "invalid file format. only zip format is supported"
FILE_ID_MESSAGE = "improper file id"
TOO_LARGE_MESSAGE = "File size too large to process"
_INTEGER = frozenset({"integer", "bigint"})
_DECIMAL = frozenset({"double", "currency", "percent", "decimal"})


def _error(code: str, message: str, details: dict[str, Any] | None = None) -> ZohoError:
    return ZohoError.of(400, code, message, details)


# -- upload ------------------------------------------------------------------------------------
def upload(call: Call) -> Response:
    call.require(((BULK_WRITE_SCOPE,),))
    headers = call.request.headers
    if headers.get("feature") != "bulk-write" or headers.get("X-CRM-ORG") != ZGID:
        refused = {"x-error": HEADERS_ERROR, "info": "Forbidden", "x-info": "Link not valid"}
        return json_response({**refused, "http_status": "400"}, 400)
    part = call.request.files.get("file")
    if part is None:
        raise _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "file"})
    settings = BulkSettings.load(call.store)
    (number,) = call.store.next_ids(1, ID_BASE + 1_000_000)
    path = files_dir(call.store) / f"upload-{number}.zip"
    part.save(str(path))
    if path.stat().st_size > settings.upload_bytes:
        path.unlink()
        raise _error("FILE_TOO_LARGE", TOO_LARGE_MESSAGE, {"limit": settings.upload_bytes})
    try:
        rows = sum(1 for _ in _rows(path)) - 1
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError):
        path.unlink()
        raise _error("INVALID_FILE_FORMAT", FORMAT_MESSAGE, {}) from None
    if rows > settings.rows_per_write:
        path.unlink()
        raise _error("LIMIT_EXCEEDED", TOO_LARGE_MESSAGE, {"limit": settings.rows_per_write})
    details = {"file_id": number, "created_time": iso(call.now)}
    body: dict[str, Any] = {
        "status": "success",
        "code": "FILE_UPLOAD_SUCCESS",
        "message": "file uploaded.",
        "details": details,
    }
    return json_response(body, 200)


def _rows(path: Path) -> Iterator[list[str]]:
    """The rows of the one CSV in a ZIP (ValueError when it holds another number of files)."""
    with zipfile.ZipFile(path) as archive:
        members = [n for n in archive.namelist() if not n.endswith("/")]
        if len(members) != 1 or not members[0].lower().endswith(".csv"):
            raise ValueError("one CSV per ZIP")
        with archive.open(members[0]) as raw:
            yield from csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))


# -- create ------------------------------------------------------------------------------------
def create_write(call: Call) -> Response:
    call.require(((BULK_WRITE_SCOPE,),))
    body = call.json_body()
    if not isinstance(body, dict) or "operation" not in body:
        message = "required key operation is not found in request body."
        raise _error("MISSING_REQUIRED_KEY", message, {"api_name": "operation"})
    if body["operation"] != "update":
        # insert and upsert are Zoho's too; crmqual only updates, the sandbox serves only that.
        raise _error("INVALID_DATA", "invalid data", {"api_name": "operation"})
    resources = body.get("resource")
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        raise _error("INVALID_DATA", "invalid data", {"api_name": "resource"})
    resource = resources[0]
    module_ref = resource.get("module")
    module = module_ref.get("api_name") if isinstance(module_ref, dict) else module_ref
    if not isinstance(module, str) or module not in call.store.modules():
        message = f"Requested module '{module}' is not available."
        raise _error("MODULE_NOT_AVAILABLE", message, {"api_name": str(module)})
    call.require(((module_scope(module, "UPDATE"),),))
    file_id = str(resource.get("file_id") or "")
    path = files_dir(call.store) / f"upload-{file_id}.zip"
    if not file_id.isdigit() or not path.exists():
        raise _error("INVALID_FILE_ID", FILE_ID_MESSAGE, {"file_id": file_id})
    if resource.get("find_by") != "id":
        raise _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "find_by"})
    header = next(_rows(path), [])
    mappings = _mappings(resource.get("field_mappings"), call.module_fields(module), header)
    settings = BulkSettings.load(call.store)
    try:
        charge_job(call, settings.write_credits)
    except ZohoError as exc:
        return credits_refused(exc)
    ignore_empty = bool(resource.get("ignore_empty", body.get("ignore_empty", False)))
    job = new_job(
        call.store,
        "write",
        {
            "operation": "update",
            "created_time": iso(call.now),
            "module": module,
            "file_id": file_id,
            "mappings": mappings,
            "ignore_empty": ignore_empty,
            "status": "ADDED",
            "callback": body.get("callback"),
        },
    )
    details = {"id": job["id"], "created_by": created_by()}
    return json_response(
        {"status": "success", "code": "SUCCESS", "message": "success", "details": details}, 201
    )


def _mappings(raw: Any, fields: dict[str, FieldDef], header: list[str]) -> list[list[Any]]:
    """[(api_name, column index)], `id` included; refused as Zoho does when one is wrong."""
    if not isinstance(raw, list) or not raw:
        details = {"api_name": "field_mappings"}
        raise _error("MANDATORY_NOT_FOUND", "required field not found", details)
    found: list[list[Any]] = []
    for item in raw:
        name = item.get("api_name") if isinstance(item, dict) else None
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(name, str) or (name != "id" and name not in fields):
            raise _error("INVALID_FIELD", f"invalid mapping. invalid api_name {name}.", {})
        if not isinstance(index, int) or not 0 <= index < len(header):
            message = f"required key index for field {name} is not found in request body."
            raise _error("COLUMN_INDEX_NOT_FOUND", message, {"api_name": name})
        found.append([name, index])
    if "id" not in [name for name, _ in found]:
        raise _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "id"})
    return found


# -- status, run, result -------------------------------------------------------------------------
def write_status(call: Call, job_id: str) -> Response:
    job = load_job(call.store, "write", job_id)
    if job is None:
        raise not_found(job_id, 400)
    token = call.require(((BULK_WRITE_SCOPE,),))
    settings = BulkSettings.load(call.store)
    if job["status"] not in ("COMPLETED", "FAILED"):
        status = next_state(settings, len(job["polls"]) + 1, "FAILED" if job["fail"] else "")
        if not status:
            job["counts"] = _run(call, job, token.user_id)
            status = "COMPLETED"
        job["status"] = status
    job["polls"].append(job["status"])
    save_job(call.store, "write", job)
    return json_response(_view(call, job))


def _view(call: Call, job: dict[str, Any]) -> dict[str, Any]:
    counts = job.get("counts") or {"added": 0, "updated": 0, "skipped": 0, "total": 0}
    resource = {
        "status": job["status"],
        "type": "data",
        "module": module_ref(call.store, job["module"]),
        "file_id": job["file_id"],
        "find_by": "id",
        "ignore_empty": job["ignore_empty"],
        "field_mappings": [{"api_name": n, "index": i} for n, i in job["mappings"]],
        "file": {
            "status": job["status"],
            "name": f"{job['file_id']}.csv",
            "added_count": counts["added"],
            "updated_count": counts["updated"],
            "skipped_count": counts["skipped"],
            "total_count": counts["total"],
        },
    }
    view: dict[str, Any] = {
        "id": job["id"],
        "operation": "update",
        "status": job["status"],
        "character_encoding": "UTF-8",
        "created_by": created_by(),
        "created_time": job["created_time"],
        "resource": [resource],
    }
    if job.get("callback"):
        view["callback"] = job["callback"]
    if job["status"] == "COMPLETED":
        base = call.request.host_url.rstrip("/")
        view["result"] = {"download_url": f"{base}/crm/bulk/v8/write/{job['id']}/result"}
    return view


def _value(f: FieldDef | None, text: str) -> Any:
    kind = f.data_type if f is not None else "text"
    try:
        if kind in _INTEGER:
            return int(text)
        if kind in _DECIMAL:
            return float(text)
    except ValueError:
        return text  # the value check reports it, as for a PUT
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    if kind == "multiselectpicklist":
        return [v for v in text.split(";") if v]
    return text


def _run(call: Call, job: dict[str, Any], user_id: str) -> dict[str, int]:
    """Write every row (a PUT's checks per record) and the result ZIP; the counts."""
    module = job["module"]
    fields = call.module_fields(module)
    source = files_dir(call.store) / f"upload-{job['file_id']}.zip"
    target = files_dir(call.store) / f"write-{job['id']}.zip"
    rows = _rows(source)
    header = next(rows)
    counts = {"added": 0, "updated": 0, "skipped": 0, "total": 0}
    with (
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(f"{job['id']}.csv", "w") as raw,
    ):
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow([*header, "STATUS", "ERRORS"])
        for n, row in enumerate(rows):
            item: dict[str, Any] = {}
            for name, index in job["mappings"]:
                value = row[index] if index < len(row) else ""
                if name == "id":
                    item["id"] = value
                elif value != "" or not job["ignore_empty"]:
                    item[name] = _value(fields.get(name), value) if value != "" else None
            with call.store.transaction():
                rid = item.get("id")
                existing = call.store.get_records(
                    module, [int(rid)] if isinstance(rid, str) and rid.isdigit() else []
                )
                result = _update_one(call, module, fields, existing, item, n, user_id)
            counts["total"] += 1
            if result["status"] == "success":
                counts["updated"] += 1
                writer.writerow([*row, "UPDATED", ""])
            else:
                counts["skipped"] += 1
                at = (result.get("details") or {}).get("api_name")
                problem = f"{result['code']}: {result['message']}" + (f" ({at})" if at else "")
                writer.writerow([*row, "SKIPPED", problem])
        text.flush()
        text.detach()
    return counts


def write_result(call: Call, job_id: str) -> Response:
    job = load_job(call.store, "write", job_id)
    if job is None or job["status"] != "COMPLETED":
        raise not_found(job_id, 400)
    call.require(((BULK_WRITE_SCOPE,),))
    path = files_dir(call.store) / f"write-{job_id}.zip"
    return file_response(path, "application/octet-stream", f"{job_id}.zip")
