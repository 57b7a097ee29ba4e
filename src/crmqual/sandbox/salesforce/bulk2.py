"""Bulk API 2.0 (salesforce.md section 6): query jobs and `update` ingest jobs.

Jobs live in the store's meta table (`sf.job.<id>`), their files under
`<db>.salesforce/bulk/<id>/`. Jobs advance **per status poll**, never on a clock, as the Zoho
dialect's bulk jobs do: a query job is created `UploadComplete`, its first poll answers
`InProgress`, its second `JobComplete` (the query runs then); an ingest job is `Open` until the
client closes it (`UploadComplete`), then its first poll answers `InProgress` and its second
`JobComplete` (the rows are saved then). `fail_next(store, kind, after_rows)` makes the next
job of that kind end `Failed` at that poll, after saving `after_rows` rows (the rest are
`unprocessedrecords`).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from crmqual.sandbox.salesforce.call import Call, client_name
from crmqual.sandbox.salesforce.errors import SalesforceError, json_response
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.objects import fields_for
from crmqual.sandbox.salesforce.query import all_rows, plan
from crmqual.sandbox.salesforce.saves import Change, SaveResult, save_accounts
from crmqual.sandbox.salesforce.schema import ACCOUNT
from crmqual.sandbox.salesforce.values import from_csv, render_csv, sf_datetime
from crmqual.sandbox.store import SandboxStore, iso

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"
_FAIL_KEY = "sf.bulk2.fail_next"


def fail_next(store: SandboxStore, kind: str, after_rows: int = 0) -> None:
    """Make the next `kind` ("query" or "ingest") job fail, after `after_rows` rows."""
    store.set_meta(_FAIL_KEY, json.dumps({"kind": kind, "after_rows": after_rows}))


def _job_dir(store: SandboxStore, job_id: str) -> Path:
    path = Path(store.path + ".salesforce") / "bulk" / job_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save(store: SandboxStore, job: dict[str, Any]) -> None:
    store.set_meta(f"sf.job.{job['id']}", json.dumps(job))


def jobs(store: SandboxStore, kind: str | None = None) -> list[dict[str, Any]]:
    """Every Bulk API 2.0 job of the file (for tests: `polls` lists the states polled)."""
    raw = store.get_meta("sf.jobs")
    ids = json.loads(raw) if raw else []
    out = [_load(store, i) for i in ids]
    return [j for j in out if j is not None and (kind is None or j["kind"] == kind)]


def _load(store: SandboxStore, job_id: str) -> dict[str, Any] | None:
    raw = store.get_meta(f"sf.job.{job_id}")
    return None if raw is None else dict(json.loads(raw))


def _job(call: Call, job_id: str, kind: str) -> dict[str, Any]:
    job = _load(call.store, job_id)
    if job is None or job["kind"] != kind:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return job


def _new_job(call: Call, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    number = call.store.next_ids(1, 1_000)[0]
    job_id = sf_id(PREFIXES["Job"], number)
    now = sf_datetime(iso(call.now))
    delimiter = body.get("columnDelimiter", "COMMA")
    ending = body.get("lineEnding", "LF")
    if delimiter not in DELIMITERS or ending not in ENDINGS:
        raise SalesforceError(
            400, "INVALIDJOB", "InvalidJob : invalid columnDelimiter or lineEnding"
        )
    job = {
        "id": job_id,
        "kind": kind,
        "operation": body.get("operation"),
        "object": body.get("object", ACCOUNT),
        "createdById": sf_id(PREFIXES["User"], call.user),
        "createdDate": now,
        "systemModstamp": now,
        "state": "UploadComplete" if kind == "query" else "Open",
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": float(call.version),
        "jobType": "V2Query" if kind == "query" else "V2Ingest",
        "lineEnding": ending,
        "columnDelimiter": delimiter,
        "numberRecordsProcessed": 0,
        "numberRecordsFailed": 0,
        "retries": 0,
        "totalProcessingTime": 0,
        "errorMessage": None,
        "polls": [],
        "user": call.user,
    }
    raw = call.store.get_meta(_FAIL_KEY)
    if raw is not None and json.loads(raw)["kind"] == kind:
        job["fail_after"] = int(json.loads(raw)["after_rows"])
        call.store.set_meta(_FAIL_KEY, json.dumps({"kind": "none", "after_rows": 0}))
    ids = json.loads(call.store.get_meta("sf.jobs") or "[]")
    ids.append(job_id)
    call.store.set_meta("sf.jobs", json.dumps(ids))
    return job


_HIDDEN = ("kind", "polls", "user", "fail_after", "query_text", "total", "version_text")


def _info(job: dict[str, Any]) -> dict[str, Any]:
    info = {k: v for k, v in job.items() if k not in _HIDDEN}
    if job["kind"] == "query":
        info["query"] = job.get("query_text")
        for key in ("numberRecordsFailed", "contentType"):
            info.pop(key, None)
    else:
        info["contentUrl"] = (
            f"services/data/v{job['apiVersion']:.1f}/jobs/ingest/{job['id']}/batches"
        )
    if info.get("errorMessage") is None:
        info.pop("errorMessage", None)
    return info


# -- query jobs ---------------------------------------------------------------------------------
def create_query(call: Call) -> Response:
    body = call.json()
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        raise SalesforceError(400, "INVALIDJOB", f"InvalidJob : invalid operation: {operation}")
    text = body.get("query")
    if not isinstance(text, str):
        raise SalesforceError(400, "INVALIDJOB", "InvalidJob : query is required")
    p = plan(call.store, text, call.user)  # a bad query fails here, as job creation does
    job = _new_job(call, "query", {**body, "object": p.sobject})
    job["query_text"] = text
    _save(call.store, job)
    return json_response(_info(job))


def get_query(call: Call, job_id: str) -> Response:
    job = _job(call, job_id, "query")
    _advance(call, job)
    return json_response(_info(job))


def _advance(call: Call, job: dict[str, Any]) -> None:
    """One status poll: move the job one step on."""
    state = job["state"]
    if state in ("JobComplete", "Failed", "Aborted", "Open"):
        job["polls"].append(state)
        _save(call.store, job)
        return
    if state == "UploadComplete":
        job["state"] = "InProgress"
    elif state == "InProgress":
        if job["kind"] == "query":
            _run_query(call, job)
        else:
            _run_ingest(call, job)
    job["systemModstamp"] = sf_datetime(iso(call.now))
    job["polls"].append(job["state"])
    _save(call.store, job)


def _run_query(call: Call, job: dict[str, Any]) -> None:
    if "fail_after" in job:
        job["state"] = "Failed"
        job["errorMessage"] = "InternalServerError : the query job failed (sandbox fault)"
        return
    p = plan(call.store, job["query_text"], int(job["user"]))
    path = _job_dir(call.store, job["id"]) / "rows.jsonl"
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps([f.api_name for f in p.selected], ensure_ascii=False) + "\n")
        for row in all_rows(call.store, p):
            cells = [render_csv(f.data_type, row.get(f.api_name)) for f in p.selected]
            out.write(json.dumps(cells, ensure_ascii=False) + "\n")
            count += 1
    job["numberRecordsProcessed"] = count
    job["state"] = "JobComplete"


def _csv(rows: list[list[str]], delimiter: str, ending: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=ending)
    writer.writerows(rows)
    return buffer.getvalue()


def query_results(call: Call, job_id: str) -> Response:
    """`GET jobs/query/{id}/results?maxRecords=&locator=`: one CSV page."""
    job = _job(call, job_id, "query")
    if f"{job['apiVersion']:.1f}" != call.version:
        raise SalesforceError(
            409,
            "INVALIDJOB",
            "Results must be requested with the API version the job was created with",
        )
    if job["state"] != "JobComplete":
        raise SalesforceError(
            412, "JOB_NOT_COMPLETE", f"Job {job_id} is not complete: {job['state']}"
        )
    try:
        size = int(call.request.args.get("maxRecords", call.limits.bulk_page))
    except ValueError:
        raise SalesforceError(400, "INVALIDJOB", "maxRecords must be a number") from None
    if size < 1:
        raise SalesforceError(400, "INVALIDJOB", "maxRecords must be positive")
    locator = call.request.args.get("locator")
    start = 0
    if locator:
        try:
            start = int(base64.b64decode(locator).decode())
        except ValueError:
            raise SalesforceError(400, "INVALIDLOCATOR", "Invalid locator") from None
    path = _job_dir(call.store, job_id) / "rows.jsonl"
    rows: list[list[str]] = []
    more = False
    with path.open(encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        for index, line in enumerate(handle):
            if index < start:
                continue
            if len(rows) >= size:
                more = True
                break
            rows.append(json.loads(line))
    text = _csv([header, *rows], DELIMITERS[job["columnDelimiter"]], ENDINGS[job["lineEnding"]])
    response = Response(text, status=200, content_type="text/csv; charset=UTF-8")
    next_start = start + len(rows)
    response.headers["Sforce-Locator"] = (
        base64.b64encode(str(next_start).encode()).decode() if more else "null"
    )
    response.headers["Sforce-NumberOfRecords"] = str(len(rows))
    return response


def set_state(call: Call, job_id: str, kind: str) -> Response:
    """`PATCH jobs/{kind}/{id}` `{"state": "UploadComplete" | "Aborted"}`."""
    job = _job(call, job_id, kind)
    body = call.json()
    wanted = body.get("state") if isinstance(body, dict) else None
    allowed = {"Aborted"} if kind == "query" else {"UploadComplete", "Aborted"}
    if wanted not in allowed:
        raise SalesforceError(
            400, "INVALIDJOBSTATE", f"InvalidJobState : cannot set state {wanted}"
        )
    if job["state"] in ("JobComplete", "Failed", "Aborted"):
        raise SalesforceError(
            400, "INVALIDJOBSTATE", f"InvalidJobState : job {job_id} is already {job['state']}"
        )
    if wanted == "UploadComplete" and job["state"] != "Open":
        raise SalesforceError(400, "INVALIDJOBSTATE", "InvalidJobState : the job is not Open")
    job["state"] = wanted
    _save(call.store, job)
    return json_response(_info(job))


def delete_job(call: Call, job_id: str, kind: str) -> Response:
    job = _job(call, job_id, kind)
    if job["state"] in ("Open", "UploadComplete", "InProgress"):
        raise SalesforceError(400, "INVALIDJOBSTATE", "InvalidJobState : abort the job first")
    job["kind"] = "deleted"
    _save(call.store, job)
    return Response(status=204)


def list_jobs(call: Call, kind: str) -> Response:
    records = [_info(j) for j in jobs(call.store, kind)]
    return json_response({"done": True, "records": records, "nextRecordsUrl": None})


# -- ingest jobs --------------------------------------------------------------------------------
def create_ingest(call: Call) -> Response:
    body = call.json()
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    if body.get("object") != ACCOUNT:
        raise SalesforceError(
            400,
            "INVALIDJOB",
            f"InvalidJob : the sandbox ingests Account only, not {body.get('object')}",
        )
    if body.get("operation") != "update":
        raise SalesforceError(
            400,
            "INVALIDJOB",
            f"InvalidJob : the sandbox supports operation update only, not {body.get('operation')}",
        )
    if body.get("contentType", "CSV") != "CSV":
        raise SalesforceError(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
    job = _new_job(call, "ingest", body)
    _save(call.store, job)
    return json_response(_info(job))


def get_ingest(call: Call, job_id: str) -> Response:
    job = _job(call, job_id, "ingest")
    _advance(call, job)
    return json_response(_info(job))


def upload(call: Call, job_id: str) -> Response:
    """`PUT jobs/ingest/{id}/batches` (text/csv): 201."""
    job = _job(call, job_id, "ingest")
    if job["state"] != "Open":
        raise SalesforceError(400, "INVALIDJOBSTATE", "InvalidJobState : the job is not Open")
    if (call.request.mimetype or "") != "text/csv":
        raise SalesforceError(415, "INVALIDCONTENTTYPE", "Content-Type must be text/csv")
    path = _job_dir(call.store, job_id) / "upload.csv"
    if path.exists():
        raise SalesforceError(400, "INVALIDJOBSTATE", "InvalidJobState : data already uploaded")
    path.write_bytes(call.request.get_data())
    return Response(status=201)


def _run_ingest(call: Call, job: dict[str, Any]) -> None:
    path = _job_dir(call.store, job["id"]) / "upload.csv"
    if not path.exists():
        job["state"] = "Failed"
        job["errorMessage"] = "InvalidBatch : no data uploaded"
        return
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job["columnDelimiter"]])
    table = list(reader)
    header, rows = (table[0], table[1:]) if table else ([], [])
    seen = fields_for(call.store, ACCOUNT, int(job["user"]))
    lowered = [h.lower() for h in header]
    if "id" not in lowered:
        job["state"] = "Failed"
        job["errorMessage"] = "InvalidBatch : Field name not found : Id"
        return
    for name in header:
        key = name.lower()
        if key != "id" and (key not in seen.editable):
            job["state"] = "Failed"
            job["errorMessage"] = f"InvalidBatch : Field name not found : {name}"
            return
    limit = job.get("fail_after")
    processed = rows if limit is None else rows[:limit]
    changes = []
    for row in processed:
        values: dict[str, Any] = {}
        id_text: str | None = None
        for name, cell in zip(header, row, strict=False):
            if name.lower() == "id":
                id_text = cell or None
                continue
            if cell == "":
                continue  # an empty cell leaves the field unchanged
            fdef = seen.editable[name.lower()]
            values[fdef.api_name] = None if cell == NULL else from_csv(fdef.data_type, cell)
        changes.append(Change(id_text, values))
    rate = call.profile.record_error if call.profile is not None else 0.0
    results = save_accounts(
        call.store, seen, changes, all_or_none=False, now_iso=iso(call.now), user=int(job["user"]),
        client=client_name(call.request), fails=lambda i: call.decision.record_fails(i, rate),
    )  # fmt: skip
    _write_results(call, job, header, processed, results, rows[len(processed) :])
    job["numberRecordsProcessed"] = len(processed)
    job["numberRecordsFailed"] = sum(1 for r in results if not r.success)
    if limit is not None:
        job["state"] = "Failed"
        job["errorMessage"] = "InternalServerError : processing stopped (sandbox fault)"
    else:
        job["state"] = "JobComplete"


def _error_text(result: SaveResult) -> str:
    return "; ".join(
        f"{e['statusCode']}:{e['message']}:{','.join(e['fields'])} --" for e in result.errors
    )


def _write_results(
    call: Call,
    job: dict[str, Any],
    header: list[str],
    rows: list[list[str]],
    results: list[SaveResult],
    unprocessed: list[list[str]],
) -> None:
    where = _job_dir(call.store, job["id"])
    delimiter = DELIMITERS[job["columnDelimiter"]]
    ending = ENDINGS[job["lineEnding"]]
    good = [["sf__Id", "sf__Created", *header]]
    bad = [["sf__Id", "sf__Error", *header]]
    for row, result in zip(rows, results, strict=True):
        if result.success:
            good.append([result.id or "", "false", *row])
        else:
            bad.append([result.id or "", _error_text(result), *row])
    (where / "successfulResults.csv").write_text(_csv(good, delimiter, ending), encoding="utf-8")
    (where / "failedResults.csv").write_text(_csv(bad, delimiter, ending), encoding="utf-8")
    (where / "unprocessedrecords.csv").write_text(
        _csv([header, *unprocessed], delimiter, ending), encoding="utf-8"
    )


def ingest_results(call: Call, job_id: str, which: str) -> Response:
    """`GET jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords` (any case)."""
    job = _job(call, job_id, "ingest")
    names = {
        "successfulresults": "successfulResults.csv",
        "failedresults": "failedResults.csv",
        "unprocessedrecords": "unprocessedrecords.csv",
    }
    name = names.get(which.lower())
    if name is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    path = _job_dir(call.store, job_id) / name
    if not path.exists():
        if (
            job["state"] in ("JobComplete", "Failed", "Aborted")
            and name == "unprocessedrecords.csv"
        ):
            upload_path = _job_dir(call.store, job_id) / "upload.csv"
            text = upload_path.read_text(encoding="utf-8") if upload_path.exists() else ""
            return Response(text, status=200, content_type="text/csv; charset=UTF-8")
        raise SalesforceError(
            400, "INVALIDJOBSTATE", f"InvalidJobState : job {job_id} has no results yet"
        )
    return Response(
        path.read_text(encoding="utf-8"), status=200, content_type="text/csv; charset=UTF-8"
    )
