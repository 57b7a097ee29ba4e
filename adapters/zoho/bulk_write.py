"""Zoho's Bulk Write API as crmqual uses it (zoho.md sections 2, 7, 9).

A write of ``bulk.write_threshold`` records or more goes through Bulk Write
when that costs fewer credits than PUTs: a PUT of n records costs ceil(n/10) credits, a job
``bulk.write_credits`` (500) plus about 4 for its upload, polls and result, so bulk pays from
about 5,040 records. Each job uploads a ZIP holding one CSV (``id`` plus the fields written,
at most ``bulk.write_rows`` rows) to the data centre's upload host, creates an ``update``
job (``find_by: id``, ``ignore_empty``: a record's absent fields stay as they are), waits for
it like a read, and maps the rows of its result file back to one result per record, in the
order given. A record that clears a field (an empty value cannot be told from "leave alone"
in such a file) is written by PUT instead.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.bulk import ZohoBulk
from crmqual.adapters.zoho.config import UPLOAD_HOSTS
from crmqual.adapters.zoho.read import chunks
from crmqual.adapters.zoho.transfers import UPLOAD_PATH, Transfers, csv_rows, zip_csv
from crmqual.contract import RecordResult
from crmqual.errors import ApiError

WRITE_PATH = "/crm/bulk/v8/write"
_ERRORS = re.compile(r"^(?P<code>[A-Z_]+)(?::\s*(?P<message>.*?))?(?:\s*\((?P<field>[^()]*)\))?$")

Put = Callable[[Sequence[tuple[str, Mapping[str, Any]]]], list[RecordResult]]


def to_csv(value: Any) -> str:
    """A value to write as a Bulk Write CSV cell."""
    if value.__class__ is str:  # most cells: no conversion
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(v) for v in value)
    return str(value)


def _cells(values: Mapping[str, Any]) -> dict[str, str] | None:
    """An update's values as CSV cells; None when it empties a field (Bulk Write's empty
    cell cannot say so: such an update goes by PUT)."""
    cells = {name: to_csv(value) for name, value in values.items()}
    return None if "" in cells.values() else cells


def _cell(row: Sequence[str], at: int | None) -> str:
    """A result row's cell (a short row or a missing column: empty)."""
    return row[at] if at is not None and at < len(row) else ""


class BulkWrite:
    """Bulk Write of one module of one org: a ZIP uploaded, an update job, its result file."""

    def __init__(self, api: ZohoApi, bulk: ZohoBulk, transfers: Transfers) -> None:
        self.api = api
        self.bulk = bulk
        self.connection = bulk.connection
        self.module = bulk.connection.module
        self.transfers = transfers
        self._org_id: str | None = bulk.settings.org_id

    def write(
        self, updates: Sequence[tuple[str, Mapping[str, Any]]], put: Put
    ) -> list[RecordResult]:
        """One result per record, in the order given: bulk jobs for the records that only
        set values, PUTs for those that clear one (and for all, when bulk would not pay)."""
        bulk = [(rid, cells) for rid, values in updates if (cells := _cells(values)) is not None]
        if not self.bulk.wants_write(len(bulk)):
            bulk = []
        chosen = {rid for rid, _ in bulk}
        rest = [(rid, values) for rid, values in updates if rid not in chosen]
        found: dict[str, RecordResult] = {}
        for batch in chunks(rest, self.connection.limits.write_batch):
            found.update((r.record_id, r) for r in put(batch))
        for job in chunks(bulk, self.bulk.settings.write_rows):
            found.update(self._write_job(job))
        return [
            found.get(rid) or RecordResult(rid, False, "MISSING", "no result from Zoho for it")
            for rid, _ in updates
        ]

    def _write_job(self, rows: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, RecordResult]:
        """One job of rows given as CSV cells (``_cells``)."""
        names = list(dict.fromkeys(name for _, cells in rows for name in cells))
        content = zip_csv(
            ["id", *names], ([rid, *(cells.get(n, "") for n in names)] for rid, cells in rows)
        )
        upload_host = (
            self.bulk.settings.upload_url or UPLOAD_HOSTS[self.connection.data_centre.value]
        )
        answer = self.transfers.upload(
            upload_host + UPLOAD_PATH,
            "crmqual.zip",
            content,
            {"feature": "bulk-write", "X-CRM-ORG": self._org()},
        )
        details = answer.get("details") if isinstance(answer.get("details"), dict) else {}
        file_id = details.get("file_id")
        if file_id is None or not str(file_id).isdigit():
            raise ApiError("Zoho's upload host answered without a file_id")
        body = {
            "operation": "update",
            "ignore_empty": True,
            "resource": [
                {
                    "type": "data",
                    "module": {"api_name": self.module},
                    "file_id": str(file_id),
                    "find_by": "id",
                    "ignore_empty": True,
                    "field_mappings": [
                        {"api_name": name, "index": i} for i, name in enumerate(["id", *names])
                    ],
                }
            ],
        }
        # Never created twice: a job whose answer was lost may be running (its records would
        # be written twice). The error ends the run; its pending rows are settled by the next
        # run, which re-reads them and writes only those that do not carry the values.
        created = self.api.call(
            "POST", WRITE_PATH, json=body, endpoint=f"POST {WRITE_PATH}", resend=False
        )
        made = created.body.get("details") if isinstance(created.body, dict) else None
        job_id = made.get("id") if isinstance(made, dict) else None
        if job_id is None or not str(job_id):
            raise ApiError("Zoho answered a bulk write job's creation without its id")
        job_id = str(job_id)
        job = self.bulk.poll_job("write", job_id, lambda: self._write_state(job_id))
        result = job.get("result") if isinstance(job, dict) else None
        url = result.get("download_url") if isinstance(result, dict) else None
        if not isinstance(url, str) or not url:
            raise ApiError(f"Zoho's bulk write job {job_id} completed without a download_url")
        return self._write_results(url)

    def _write_state(self, job_id: str) -> tuple[str, Any]:
        answer = self.api.call(
            "GET", f"{WRITE_PATH}/{job_id}", endpoint=f"GET {WRITE_PATH}/{{job_id}}"
        )
        job = answer.body if isinstance(answer.body, dict) else {}
        status = job.get("status")
        if not isinstance(status, str):
            raise ApiError(f"Zoho answered the state of bulk write job {job_id} without one")
        return status, job

    def _write_results(self, url: str) -> dict[str, RecordResult]:
        found: dict[str, RecordResult] = {}
        with tempfile.TemporaryFile() as spool:
            self.transfers.download(url, f"GET {WRITE_PATH}/{{job_id}}/result", spool)
            at: dict[str, int] = {}
            for header, row in csv_rows(spool):
                if not at:
                    at = {name: i for i, name in enumerate(header)}
                rid, status, errors = (_cell(row, at.get(n)) for n in ("id", "STATUS", "ERRORS"))
                status = status.upper()
                if status in ("UPDATED", "ADDED"):
                    found[rid] = RecordResult(rid, True)
                    continue
                match = _ERRORS.match(errors.strip())
                if match is None:
                    found[rid] = RecordResult(rid, False, status or "SKIPPED", errors)
                else:
                    found[rid] = RecordResult(
                        rid,
                        False,
                        match["code"],
                        match["message"] or "",
                        field=match["field"] or None,
                    )
        return found

    def _org(self) -> str:
        if self._org_id is None:
            answer = self.api.call("GET", "/crm/v8/org", endpoint="GET /crm/v8/org")
            orgs = answer.body.get("org") if isinstance(answer.body, dict) else None
            first = orgs[0] if isinstance(orgs, list) and orgs else None
            zgid = first.get("zgid") if isinstance(first, dict) else None
            if zgid is None:
                raise ApiError("Zoho's org answer names no zgid (needed to upload a file)")
            self._org_id = str(zgid)
        return self._org_id
