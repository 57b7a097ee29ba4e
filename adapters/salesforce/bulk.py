"""Bulk API 2.0 (salesforce.md section 6), through simple-salesforce's Bulk 2.0 client on
crmqual's HTTP client: query jobs for large reads, ``update`` ingest jobs for large writes.

Waiting: a job is polled at ``bulk.poll_interval`` seconds, doubling up to
``bulk.poll_max_interval``, within ``bulk.deadline`` seconds of waiting; past it the job is
aborted and the run stops with an error naming it.

Query: results are fetched page by page (``maxRecords = bulk.page_records``, following
``Sforce-Locator`` until ``null``), each page's CSV turned into records typed by the
object's describe (empty cells are null) a few thousand at a time: memory holds one results
page's text and one page of records.

Update: one CSV (``Id`` and the fields written; a value to clear is ``#N/A``, an empty cell
would leave it unchanged), one job: created, uploaded, closed, polled. Then every record gets
a result: ``successfulResults`` are ok, ``failedResults`` carry ``sf__Error``
(``CODE:message:fields``), ``unprocessedrecords`` and rows no list names fail with
``BULK_UNPROCESSED`` (a job that ended ``Failed`` or ``Aborted`` says why), so the next run
writes them again. An upload whose answer is lost is never repeated into the same job: the
job, never closed, is aborted (it processed nothing) and the write starts over with a new one;
a close whose answer is lost is checked by reading the job's state.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from itertools import islice
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import JobState, Operation, ResultsType, _Bulk2Client
from simple_salesforce.exceptions import SalesforceError

from crmqual.adapters.salesforce.config import SalesforceBulkSettings
from crmqual.adapters.salesforce.errors import api_error, not_json
from crmqual.adapters.salesforce.query import ID, Page
from crmqual.adapters.salesforce.session import ClientSession
from crmqual.adapters.salesforce.values import to_csv
from crmqual.contract import RecordResult
from crmqual.errors import CrmqualError, TransientError
from crmqual.http import Operation as HttpOperation

log = logging.getLogger(__name__)

Update = tuple[str, Mapping[str, Any]]
_DONE = (JobState.job_complete, JobState.failed, JobState.aborted)
UNPROCESSED = "BULK_UNPROCESSED"


def from_csv(cell: str, data_type: str) -> Any:
    """A Bulk 2.0 CSV cell as the REST API would answer it (by the describe ``type``)."""
    if cell == "":
        return None
    if data_type == "boolean":
        return cell.lower() == "true"
    if data_type == "int":
        try:
            return int(float(cell))
        except ValueError:
            return cell
    if data_type in ("double", "currency", "percent"):
        try:
            return float(cell)
        except ValueError:
            return cell
    return cell


class BulkJobs:
    def __init__(
        self,
        sf: Callable[[], Salesforce],
        session: ClientSession,
        sobject: str,
        settings: SalesforceBulkSettings,
        sleep: Callable[[float], None],
    ) -> None:
        self._sf = sf
        self._session = session
        self.sobject = sobject
        self.settings = settings
        self.sleep = sleep
        #: (job id, state) of every poll, for tests and logs
        self.polls: list[tuple[str, str]] = []

    def _client(self) -> _Bulk2Client:
        # simple-salesforce builds its Bulk 2.0 handler anew on each access (with the current
        # session id); its per-object client is the one that speaks the job resources.
        return getattr(self._sf().bulk2, self.sobject)._client  # type: ignore[no-any-return]

    # -- query -------------------------------------------------------------------------------
    def query(self, soql: str, types: Mapping[str, str], page_size: int) -> Iterator[Page]:
        """The query's rows in pages of ``page_size`` records (a results page of
        ``bulk.page_records`` rows is split as it is read)."""
        client = self._client()
        job = _call(lambda: client.create_job(Operation.query, query=soql))
        job_id = str(job["id"])
        info = self._wait(client, job_id, is_query=True)
        if info.get("state") != JobState.job_complete:
            state, why = info.get("state"), info.get("errorMessage") or "no reason given"
            raise api_error(
                f"Salesforce's Bulk API 2.0 query job {job_id} ended {state}: {why}; the next "
                "run reads again",
                f"Salesforce 的 Bulk API 2.0 查询作业 {job_id} 以 {state} 结束：{why}；"
                "下次运行会重新读取",
            )
        locator = ""
        while True:
            result = _call(
                partial(client.get_query_results, job_id, locator, self.settings.page_records)
            )
            rows = csv.DictReader(io.StringIO(result["records"], newline=""))
            while page := [
                {name: from_csv(cell, types.get(name, "string")) for name, cell in row.items()}
                for row in islice(rows, page_size)
            ]:
                yield page
            locator = str(result.get("locator") or "")
            if not locator:
                return

    # -- update ------------------------------------------------------------------------------
    def update(self, updates: Sequence[Update]) -> list[RecordResult]:
        names = sorted({name for _, values in updates for name in values})
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([ID, *names])
        for rid, values in updates:
            writer.writerow([rid, *(to_csv(values[n]) if n in values else "" for n in names)])
        data = buffer.getvalue()
        del buffer
        job_id, info = self._session.http.retrying(lambda op: self._run_ingest(data, op))
        return self._results(job_id, info, [rid for rid, _ in updates])

    def _run_ingest(self, data: str, operation: HttpOperation) -> tuple[str, dict[str, Any]]:
        """One attempt: a new job, uploaded, closed and waited for: (job id, last job info)."""
        client = self._client()
        job = _call(lambda: client.create_job(Operation.update))
        job_id = str(job["id"])
        try:
            with self._session.once():
                _call(lambda: client.upload_job_data(job_id, data))
        except TransientError:
            self._abort(client, job_id)  # never closed: nothing of it was processed
            raise  # the policy retries the whole write with a new job
        try:
            with self._session.once():
                _call(lambda: client.close_job(job_id))
        except TransientError:
            state = _call(lambda: client.get_job(job_id, False)).get("state")
            if state == JobState.open:  # the close did not arrive: close it now
                _call(lambda: client.close_job(job_id))
        return job_id, self._wait(client, job_id, is_query=False)

    def _results(self, job_id: str, info: Mapping[str, Any], ids: list[str]) -> list[RecordResult]:
        client = self._client()
        found: dict[str, RecordResult] = {}
        for row in _rows(_call(lambda: client.get_ingest_results(job_id, ResultsType.successful))):
            rid = row.get(ID) or row.get("sf__Id") or ""
            found[rid] = RecordResult(rid, True)
        for row in _rows(_call(lambda: client.get_ingest_results(job_id, ResultsType.failed))):
            rid = row.get(ID) or row.get("sf__Id") or ""
            found[rid] = bulk_error(rid, row.get("sf__Error", ""))
        state = str(info.get("state"))
        why = (
            f"not processed: job {job_id} ended {state}"
            + (f" ({info['errorMessage']})" if info.get("errorMessage") else "")
            + "; the next run writes it again"
        )
        results = []
        for rid in ids:
            result = found.get(rid) or found.get(rid[:15])
            results.append(
                RecordResult(rid, result.ok, result.code, result.message, result.field)
                if result is not None
                else RecordResult(rid, False, UNPROCESSED, why)
            )
        if state != JobState.job_complete:
            log.warning("Bulk API 2.0 update %s: %s", job_id, why)
        return results

    # -- waiting -----------------------------------------------------------------------------
    def _wait(self, client: _Bulk2Client, job_id: str, *, is_query: bool) -> dict[str, Any]:
        waited, interval = 0.0, self.settings.poll_interval
        while True:
            info: dict[str, Any] = _call(lambda: client.get_job(job_id, is_query))
            state = str(info.get("state"))
            self.polls.append((job_id, state))
            if state in _DONE:
                return info
            if waited + interval > self.settings.deadline:
                self._abort(client, job_id, is_query)
                raise api_error(
                    f"Salesforce's Bulk API 2.0 job {job_id} did not finish within "
                    f"{self.settings.deadline:g} s of waiting (last state {state}); it was "
                    "aborted: raise connection.bulk.deadline or run again later",
                    f"Salesforce 的 Bulk API 2.0 作业 {job_id} 在等待 {self.settings.deadline:g} "
                    f"秒内没有完成（最后状态 {state}），已中止：请调大 connection.bulk.deadline，"
                    "或稍后再运行",
                )
            self.sleep(interval)
            waited += interval
            interval = min(interval * 2, self.settings.poll_max_interval)

    def _abort(self, client: _Bulk2Client, job_id: str, is_query: bool = False) -> None:
        try:
            _call(lambda: client.abort_job(job_id, is_query))
        except CrmqualError as exc:  # best effort: an unclosed job never runs anyway
            log.info("could not abort Bulk API 2.0 job %s: %s", job_id, exc)


def bulk_error(record_id: str, text: str) -> RecordResult:
    """A ``failedResults`` row's ``sf__Error``: ``CODE:message:field,field --``."""
    first = text.split(" --")[0].strip()
    code, _, rest = first.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message:  # no field part
        message, fields = rest, ""
    field = fields.split(",")[0].strip() or None
    return RecordResult(record_id, False, code.strip() or "UNKNOWN", message.strip(), field)


def _rows(text: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(text, newline=""))


def _call(request: Callable[[], Any]) -> Any:
    """A simple-salesforce Bulk 2.0 call: its own exceptions (an upload not answered 201, a
    body that is not JSON) as crmqual errors."""
    try:
        return request()
    except SalesforceError as exc:
        raise api_error(
            f"Salesforce Bulk API 2.0: {exc}", f"Salesforce Bulk API 2.0：{exc}"
        ) from None
    except ValueError:
        raise not_json("a Bulk API 2.0 request", " Bulk API 2.0 请求") from None
