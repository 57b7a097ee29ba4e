"""Zoho's Bulk Read and Bulk Write APIs as crmqual uses them (zoho.md sections 2, 7, 9).

**Bulk Read.** A full or incremental read (``Modified_Time`` greater or equal to the
watermark) goes through export jobs when the record count (``actions/count``) reaches
``bulk.read_threshold`` or passes the ``page_token`` ceiling, which paging cannot finish.
Each job exports up to ``bulk.read_records`` records (200,000): it is created, polled at a
doubling interval capped at ``bulk.poll_max_interval`` within ``bulk.deadline`` seconds of
waiting (``FAILURE`` or the deadline end the read with an error naming the job), and its
ZIP is streamed to a temporary file and its CSV read row by row, so memory holds one page
whatever the size of the org. CSV text becomes the API's types by the described field types:
integers, decimals, booleans, multi-select values (``;``-joined in the CSV), dates and
datetimes as text as in JSON; lookups hold ids, owners become ``{id, name, email}`` from the
users API. The next job continues with the ``next_page_token`` (else ``page + 1``). Reads by
id and small reads page as before (``zoho_read``), and so does the next incremental run.

**Bulk Write.** A write of ``bulk.write_threshold`` records or more goes through Bulk Write
when that costs fewer credits than PUTs: a PUT of n records costs ceil(n/10) credits, a job
``bulk.write_credits`` (500) plus about 4 for its upload, polls and result, so bulk pays from
about 5,040 records. Each job uploads a ZIP holding one CSV (``id`` plus the fields written,
at most ``bulk.write_rows`` rows) to the data centre's upload host, creates an ``update``
job (``find_by: id``, ``ignore_empty``: a record's absent fields stay as they are), waits for
it like a read, and maps the rows of its result file back to one result per record, in the
order given. A record that clears a field (an empty value cannot be told from "leave alone"
in such a file) is written by PUT instead.

HTTP goes through ``crmqual.http`` like every other call: the transfers of files use a
second client that shares the API's token, credit hooks and call counter, and streams.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, cast

import requests
from urllib3.filepost import encode_multipart_formdata

from crmqual.adapters.zoho_api import ZohoApi, error_of
from crmqual.adapters.zoho_bulk_config import UPLOAD_HOSTS, ZohoBulkSettings
from crmqual.adapters.zoho_config import ZohoApiLimits, ZohoConnection
from crmqual.adapters.zoho_fields import ZohoField, describe
from crmqual.adapters.zoho_read import BULK_HINT, MODIFIED, ZohoReader, chunks, zoho_time
from crmqual.contract import ReadQuery, RecordResult
from crmqual.errors import ApiError, ReadTooLargeError, TransientError
from crmqual.http import Action, HttpClient, Verdict, new_session, safe_url

READ_PATH = "/crm/bulk/v8/read"
WRITE_PATH = "/crm/bulk/v8/write"
UPLOAD_PATH = "/crm/v8/upload"
_INTEGER = frozenset({"integer", "bigint"})
_DECIMAL = frozenset({"double", "currency", "percent", "decimal"})
_OWNER = frozenset({"ownerlookup", "userlookup"})
_ERRORS = re.compile(r"^(?P<code>[A-Z_]+)(?::\s*(?P<message>.*?))?(?:\s*\((?P<field>[^()]*)\))?$")
_CHUNK = 1 << 16
#: Credits of a Bulk Write job besides its creation: upload, status polls, result download.
JOB_OVERHEAD = 4

Put = Callable[[Sequence[tuple[str, Mapping[str, Any]]]], list[RecordResult]]


# -- CSV values --------------------------------------------------------------------------------
def from_csv(text: str, data_type: str) -> Any:
    """A Bulk Read CSV cell as the REST API would give the value (lookups aside)."""
    if text == "":
        return None
    if data_type in _INTEGER:
        try:
            return int(text)
        except ValueError:
            number = float(text)
            return int(number) if number.is_integer() else number
    if data_type in _DECIMAL:
        return float(text)
    if data_type == "boolean":
        return text.strip().lower() == "true"
    if data_type == "multiselectpicklist":
        return [v for v in text.split(";") if v != ""]
    return text


def to_csv(value: Any) -> str:
    """A value to write as a Bulk Write CSV cell."""
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


def _clears(values: Mapping[str, Any]) -> bool:
    """Does this update empty a field? (Bulk Write's empty cell cannot say so.)"""
    return any(to_csv(v) == "" for v in values.values())


# -- streaming transfers -----------------------------------------------------------------------
class _StreamingSession(requests.Session):
    """A session whose answers are streamed (files are never read into memory whole)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("stream", True)
        return super().request(method, url, *args, **kwargs)


class Transfers:
    """Uploads and downloads of files, through a client sharing the API's token, credit
    hooks and call counter, whose answers are streamed."""

    def __init__(self, api: ZohoApi, sleep: Callable[[float], None]) -> None:
        base = api.http
        session = _StreamingSession()
        for prefix, adapter in new_session(base.settings.pool_size).adapters.items():
            session.mount(prefix, adapter)
        session.headers.update(base.session.headers)
        self.api = api
        self.http = HttpClient(
            base.settings,
            classify=self._classify,
            auth=base.auth,
            before_call=base.before_call,
            observe=base.observe,
            session=session,
            redactor=base.redactor,
            sleep=sleep,
        )
        self.http.counter = base.counter

    def _classify(self, response: requests.Response) -> Verdict:
        kind = response.headers.get("Content-Type", "")
        if response.status_code < 400 and "json" not in kind:
            return Verdict(Action.OK)  # a file: never read here
        return self.api.http.classify(response)

    def url(self, where: str) -> str:
        return where if "://" in where else self.api.api_domain + where

    def download(self, where: str, endpoint: str, into: IO[bytes]) -> None:
        """Stream a file into ``into``; a transfer cut short is fetched again from the start."""
        url = self.url(where)
        attempts = max(1, self.api.connection.max_attempts)
        for attempt in range(1, attempts + 1):
            response = self.http.request("GET", url, endpoint=endpoint)
            try:
                into.seek(0)
                into.truncate()
                for chunk in response.iter_content(_CHUNK):
                    into.write(chunk)
                into.flush()
                into.seek(0)
                return
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == attempts:
                    raise TransientError(
                        f"GET {safe_url(url)}: the download broke off ({type(exc).__name__})"
                    ) from None
            finally:
                response.close()

    def upload(self, url: str, name: str, content: bytes, headers: Mapping[str, str]) -> Any:
        """POST a file as the multipart part ``file``; the JSON answer."""
        body, content_type = encode_multipart_formdata({"file": (name, content, "application/zip")})
        response = self.http.request(
            "POST",
            url,
            # crmqual.http types form data as a mapping; requests sends bytes as they are.
            data=cast(Mapping[str, str], body),
            headers={**headers, "Content-Type": content_type},
            endpoint=f"POST {UPLOAD_PATH}",
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        finally:
            response.close()
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise ApiError(
                f"Zoho's upload host refused the file: HTTP {response.status_code} "
                f"{_upload_error(answer)}".strip(),
                url=safe_url(url),
                status=response.status_code,
            )
        return answer


def _upload_error(answer: Any) -> str:
    if not isinstance(answer, dict):
        return ""
    code, message = error_of(answer)
    if code:
        return f"{code} {message}".strip()
    parts = (answer.get(k) for k in ("x-error", "ERROR_MESSAGE", "info", "x-info"))
    return " ".join(str(p) for p in parts if p)


# -- the bulk paths ----------------------------------------------------------------------------
class ZohoBulk:
    """Bulk Read and Bulk Write for one module of one org."""

    def __init__(
        self,
        api: ZohoApi,
        connection: ZohoConnection,
        *,
        described: Callable[[], Mapping[str, ZohoField] | None] = lambda: None,
        sleep: Callable[[float], None],
    ) -> None:
        self.api = api
        self.connection = connection
        self.module = connection.module
        self.settings: ZohoBulkSettings = connection.bulk
        self.transfers = Transfers(api, sleep)
        self.sleep = sleep
        self._described = described
        self._types: dict[str, str] | None = None
        self._users: dict[str, dict[str, Any]] | None = None
        self._org_id: str | None = self.settings.org_id
        #: (job id, state) of every status poll answered, in order (for logs and tests).
        self.polls: list[tuple[str, str]] = []

    # -- choosing ----------------------------------------------------------------------------
    def wants_read(self, count: int | None, limits: ZohoApiLimits) -> bool:
        if count is None or not self.settings.read:
            return False
        threshold = self.settings.read_threshold
        return count > limits.page_token_records or (threshold is not None and count >= threshold)

    def put_credits(self, records: int) -> int:
        batch, per = self.connection.limits.write_batch, self.settings.put_records_per_credit
        full, rest = divmod(records, batch)
        return full * math.ceil(batch / per) + (math.ceil(rest / per) if rest else 0)

    def bulk_credits(self, records: int) -> int:
        jobs = math.ceil(records / self.settings.write_rows)
        return jobs * (self.settings.write_credits + JOB_OVERHEAD)

    def wants_write(self, records: int) -> bool:
        threshold = self.settings.write_threshold
        if threshold is None or records < threshold:
            return False
        return self.bulk_credits(records) < self.put_credits(records)

    def write_batch_for(self, queued: int) -> int:
        return self.settings.write_rows if self.wants_write(queued) else 0

    # -- waiting for a job -------------------------------------------------------------------
    def _wait(self, kind: str, job_id: str, poll: Callable[[], tuple[str, Any]]) -> Any:
        """Poll until the job is done; its last answer. Raises when it fails or the deadline
        passes (the waits, not the calls, count towards it)."""
        waited, interval = 0.0, self.settings.poll_interval
        while True:
            state, answer = poll()
            self.polls.append((job_id, state))
            if state == "COMPLETED":
                return answer
            if state in ("FAILURE", "FAILED"):
                raise ApiError(f"Zoho's bulk {kind} job {job_id} ended in {state}")
            if waited + interval > self.settings.deadline:
                raise ApiError(
                    f"Zoho's bulk {kind} job {job_id} did not complete within "
                    f"{self.settings.deadline:g} s of waiting (last state {state}); "
                    "raise zoho.bulk.deadline or retry later"
                )
            self.sleep(interval)
            waited += interval
            interval = min(interval * 2, self.settings.poll_max_interval)

    # -- Bulk Read ---------------------------------------------------------------------------
    def read(self, query: ReadQuery, page_size: int) -> Iterator[list[dict[str, Any]]]:
        wanted = [MODIFIED, *(f.field for f in query.filters), *query.fields]
        names = [n for n in dict.fromkeys(wanted) if n != "id"]
        criteria = None
        if query.since is not None:
            since = _ceil_second(query.since)
            criteria = {
                "field": {"api_name": MODIFIED},
                "comparator": "greater_equal",
                "value": zoho_time(since),
            }
        page, token = 1, None
        while True:
            job_id = self._create_read(names, criteria, page, token)
            result = self._wait("read", job_id, self._poll_read(job_id))
            url = result.get("download_url") if isinstance(result, dict) else None
            if not isinstance(url, str) or not url:
                raise ApiError(f"Zoho's bulk read job {job_id} completed without a download_url")
            batch: list[dict[str, Any]] = []
            for record in self._rows(url):
                if all(rule.matches(record) for rule in query.filters):
                    batch.append(record)
                    if len(batch) >= page_size:
                        yield batch
                        batch = []
            if batch:
                yield batch
            if not result.get("more_records"):
                return
            next_token = result.get("next_page_token")
            token = next_token if isinstance(next_token, str) and next_token else None
            page += 1

    def _create_read(
        self, names: list[str], criteria: dict[str, Any] | None, page: int, token: str | None
    ) -> str:
        query: dict[str, Any] = {"module": {"api_name": self.module}, "fields": names}
        if criteria is not None:
            query["criteria"] = criteria
        if token is not None:
            query["page_token"] = token
        else:
            query["page"] = page
        answer = self.api.call(
            "POST",
            READ_PATH,
            json={"query": query, "file_type": "csv"},
            endpoint=f"POST {READ_PATH}",
        )
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        item = items[0] if isinstance(items, list) and items else None
        details = item.get("details") if isinstance(item, dict) else None
        job_id = details.get("id") if isinstance(details, dict) else None
        if not isinstance(job_id, str | int) or not str(job_id):
            raise ApiError(
                f"Zoho answered a bulk read job's creation without its id (HTTP {answer.status})"
            )
        return str(job_id)

    def _poll_read(self, job_id: str) -> Callable[[], tuple[str, Any]]:
        return lambda: self._read_state(job_id)

    def _read_state(self, job_id: str) -> tuple[str, Any]:
        answer = self.api.call(
            "GET", f"{READ_PATH}/{job_id}", endpoint=f"GET {READ_PATH}/{{job_id}}"
        )
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        job = items[0] if isinstance(items, list) and items else None
        if not isinstance(job, dict) or not isinstance(job.get("state"), str):
            raise ApiError(f"Zoho answered the state of bulk read job {job_id} without one")
        return job["state"], job.get("result")

    def _rows(self, url: str) -> Iterator[dict[str, Any]]:
        """The records of an export, read from its ZIP row by row."""
        types = self._field_types()
        with tempfile.TemporaryFile() as spool:
            self.transfers.download(url, f"GET {READ_PATH}/{{job_id}}/result", spool)
            for header, row in _csv_rows(spool):
                record: dict[str, Any] = {}
                for name, text in zip(header, row, strict=False):
                    if name == "id":
                        record["id"] = text
                    else:
                        record[name] = self._value(name, text, types.get(name, "text"))
                yield record

    def _value(self, name: str, text: str, data_type: str) -> Any:
        if data_type in _OWNER:
            if not text:
                return None
            return dict(self._owners().get(text) or {"id": text})
        if data_type == "lookup":
            return {"id": text} if text else None
        return from_csv(text, data_type)

    def _field_types(self) -> dict[str, str]:
        if self._types is None:
            fields = self._described() or describe(self.api, self.module)
            self._types = {name: f.data_type for name, f in fields.items()}
        return self._types

    def _owners(self) -> dict[str, dict[str, Any]]:
        """Users by id, as a record's owner lookup shows them: ``{id, name, email}``."""
        if self._users is None:
            users: dict[str, dict[str, Any]] = {}
            page = 1
            while True:
                answer = self.api.call(
                    "GET",
                    "/crm/v8/users",
                    params={"type": "AllUsers", "page": page, "per_page": 200},
                    endpoint="GET /crm/v8/users",
                )
                body = answer.body if isinstance(answer.body, dict) else {}
                for user in body.get("users") or []:
                    if isinstance(user, dict) and user.get("id") is not None:
                        uid = str(user["id"])
                        users[uid] = {
                            "id": uid,
                            "name": user.get("full_name"),
                            "email": user.get("email"),
                        }
                info = body.get("info")
                if answer.empty or not (isinstance(info, dict) and info.get("more_records")):
                    break
                page += 1
            self._users = users
        return self._users

    # -- Bulk Write --------------------------------------------------------------------------
    def write(
        self, updates: Sequence[tuple[str, Mapping[str, Any]]], put: Put
    ) -> list[RecordResult]:
        """One result per record, in the order given: bulk jobs for the records that only
        set values, PUTs for those that clear one (and for all, when bulk would not pay)."""
        bulk = [(rid, values) for rid, values in updates if not _clears(values)]
        if not self.wants_write(len(bulk)):
            bulk = []
        chosen = {rid for rid, _ in bulk}
        rest = [(rid, values) for rid, values in updates if rid not in chosen]
        found: dict[str, RecordResult] = {}
        for batch in chunks(rest, self.connection.limits.write_batch):
            found.update((r.record_id, r) for r in put(batch))
        for job in chunks(bulk, self.settings.write_rows):
            found.update(self._write_job(job))
        return [
            found.get(rid) or RecordResult(rid, False, "MISSING", "no result from Zoho for it")
            for rid, _ in updates
        ]

    def _write_job(self, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, RecordResult]:
        names = list(dict.fromkeys(name for _, values in rows for name in values))
        content = _zip_csv(
            ["id", *names], ([rid, *(to_csv(v.get(n)) for n in names)] for rid, v in rows)
        )
        upload_host = self.settings.upload_url or UPLOAD_HOSTS[self.connection.data_centre.value]
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
        created = self.api.call("POST", WRITE_PATH, json=body, endpoint=f"POST {WRITE_PATH}")
        made = created.body.get("details") if isinstance(created.body, dict) else None
        job_id = made.get("id") if isinstance(made, dict) else None
        if job_id is None or not str(job_id):
            raise ApiError("Zoho answered a bulk write job's creation without its id")
        job_id = str(job_id)
        job = self._wait("write", job_id, lambda: self._write_state(job_id))
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
            for header, row in _csv_rows(spool):
                values = dict(zip(header, row, strict=False))
                rid = values.get("id", "")
                status = (values.get("STATUS") or "").upper()
                if status in ("UPDATED", "ADDED"):
                    found[rid] = RecordResult(rid, True)
                    continue
                match = _ERRORS.match((values.get("ERRORS") or "").strip())
                if match is None:
                    found[rid] = RecordResult(
                        rid, False, status or "SKIPPED", values.get("ERRORS") or ""
                    )
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


class ZohoBulkReader(ZohoReader):
    """``ZohoReader`` that counts a full or incremental read first and sends it through Bulk
    Read when ``ZohoBulk`` wants it; otherwise pages (the count is not asked twice)."""

    def __init__(self, api: ZohoApi, module: str, limits: ZohoApiLimits, bulk: ZohoBulk) -> None:
        super().__init__(api, module, limits)
        self.bulk = bulk
        self._counted: int | None = None

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        if query.ids is not None:
            yield from super().read(query)
            return
        if query.since is None:  # a full read: its size decides the path before it starts
            self._counted = self.count(None)
            if self.bulk.wants_read(self._counted, self.limits):
                yield from self.bulk.read(query, self.limits.page_size)
                return
            yield from super().read(query)
            return
        # An incremental read pages first and counts only when a second page follows: most
        # nightly reads fit one page, and then can never need Bulk Read.
        self._counted = None
        pages = super().read(query)
        first = next(pages, None)
        if first is None:
            return
        if self.more_records:
            self._counted = self.count(query.since)
            if self.bulk.wants_read(self._counted, self.limits):
                yield from self.bulk.read(query, self.limits.page_size)
                return
            self._check_reach(query.since)
        yield first
        yield from pages

    def _check_reach(self, since: datetime | None) -> None:
        """The count ``read`` took: past the ceiling (Bulk Read turned off) the read is refused
        before it starts; an unknown count is checked as the read goes."""
        count, ceiling = self._counted, self.limits.page_token_records
        if count is not None and count > ceiling:
            raise ReadTooLargeError(BULK_HINT.format(limit=ceiling, count=count))


# -- files -------------------------------------------------------------------------------------
def _csv_rows(spool: IO[bytes]) -> Iterator[tuple[list[str], list[str]]]:
    """(header, row) for each row of the one CSV of a ZIP; ``Id`` is named ``id``."""
    try:
        archive = zipfile.ZipFile(spool)
    except zipfile.BadZipFile:
        raise ApiError("Zoho's bulk file is not a ZIP") from None
    with archive:
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            raise ApiError(f"Zoho's bulk ZIP holds {len(members)} CSV files, not one")
        with archive.open(members[0]) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            header = next(reader, [])
            header = ["id" if h.strip().lower() == "id" else h.strip() for h in header]
            for row in reader:
                if row:
                    yield header, row


def _zip_csv(header: list[str], rows: Iterator[list[str]]) -> bytes:
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        with (
            zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("crmqual.csv", "w") as raw,
        ):
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(header)
            writer.writerows(rows)
            text.flush()
            text.detach()
        spool.seek(0)
        return spool.read()


def _ceil_second(instant: datetime) -> datetime:
    whole = instant.replace(microsecond=0)
    return whole if whole == instant else whole + timedelta(seconds=1)
