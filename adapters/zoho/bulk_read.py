"""Zoho's Bulk Read API as crmqual uses it (zoho.md sections 2, 7, 9).

A full or incremental read (``Modified_Time`` greater or equal to the
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
id and small reads page as before (``read``), and so does the next incremental run.

When the count is taken: before a full read; before an incremental read whose
``written_since`` (crmqual's own writes since the watermark, e.g. the run after a full sync)
passes a page; any other incremental read pages first and counts only when a second page
follows, its first page's further field groups fetched only once paging is chosen. So a
read that goes bulk makes no list call it throws away (zoho.md 4, 9).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import partial
from itertools import chain
from typing import Any

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.bulk import ZohoBulk
from crmqual.adapters.zoho.config import ZohoApiLimits
from crmqual.adapters.zoho.fields import ZohoField, describe
from crmqual.adapters.zoho.read import BULK_HINT, MODIFIED, ZohoReader, ceil_second, zoho_time
from crmqual.adapters.zoho.transfers import Transfers, csv_rows
from crmqual.contract import ReadQuery
from crmqual.errors import ApiError, ReadTooLargeError

READ_PATH = "/crm/bulk/v8/read"
_INTEGER = frozenset({"integer", "bigint"})
_DECIMAL = frozenset({"double", "currency", "percent", "decimal"})
_OWNER = frozenset({"ownerlookup", "userlookup"})
#: Records of an export the sync gets at once. Not the REST page (200): each page is one
#: state store transaction with its own lookups and durable commit, and a file's records
#: are all here already; a run killed mid-page assesses at most this many again.
BULK_PAGE = 2_000


def from_csv(text: str, data_type: str) -> Any:
    """A Bulk Read CSV cell as the REST API would give the value (lookups aside)."""
    return cell_reader(data_type)(text)


def _integer(text: str) -> int | float | None:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        number = float(text)
        return int(number) if number.is_integer() else number


def _decimal(text: str) -> float | None:
    return None if text == "" else float(text)


def _boolean(text: str) -> bool | None:
    return None if text == "" else text.strip().lower() == "true"


def _multiselect(text: str) -> list[str] | None:
    return None if text == "" else [v for v in text.split(";") if v != ""]


def _text(text: str) -> str | None:
    return None if text == "" else text


def cell_reader(data_type: str) -> Callable[[str], Any]:
    """How a Bulk Read CSV cell of this data type reads (chosen once per column, not per
    cell: a million rows of fifty columns)."""
    if data_type in _INTEGER:
        return _integer
    if data_type in _DECIMAL:
        return _decimal
    if data_type == "boolean":
        return _boolean
    if data_type == "multiselectpicklist":
        return _multiselect
    return _text


def _lookup(text: str) -> dict[str, str] | None:
    return {"id": text} if text else None


class BulkRead:
    """Bulk Read of one module of one org: export jobs, their ZIPs read row by row."""

    def __init__(
        self,
        api: ZohoApi,
        bulk: ZohoBulk,
        transfers: Transfers,
        *,
        described: Callable[[], Mapping[str, ZohoField] | None] = lambda: None,
    ) -> None:
        self.api = api
        self.bulk = bulk
        self.module = bulk.connection.module
        self.transfers = transfers
        self._described = described
        self._types: dict[str, str] | None = None
        self._users: dict[str, dict[str, Any]] | None = None

    def wants(self, count: int | None, limits: ZohoApiLimits) -> bool:
        """Should a read of ``count`` records (None: unknown) go through Bulk Read?"""
        return self.bulk.wants_read(count, limits)

    def read(self, query: ReadQuery, page_size: int) -> Iterator[list[dict[str, Any]]]:
        wanted = [MODIFIED, *(f.field for f in query.filters), *query.fields]
        names = [n for n in dict.fromkeys(wanted) if n != "id"]
        criteria = None
        if query.since is not None:
            since = ceil_second(query.since)
            criteria = {
                "field": {"api_name": MODIFIED},
                "comparator": "greater_equal",
                "value": zoho_time(since),
            }
        page, token = 1, None
        while True:
            job_id = self._create_read(names, criteria, page, token)
            result = self.bulk.poll_job("read", job_id, partial(self._read_state, job_id))
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
            readers: list[Callable[[str], Any]] = []
            for header, row in csv_rows(spool):
                if not readers:
                    readers = [self._reader_of(name, types.get(name, "text")) for name in header]
                yield {
                    name: read(text) for name, read, text in zip(header, readers, row, strict=False)
                }

    def _reader_of(self, name: str, data_type: str) -> Callable[[str], Any]:
        """How one column's cells read: ids as they are, lookups as ``{"id"}`` (owners with
        their name and email), other values by type."""
        if name == "id":
            return str
        if data_type in _OWNER:
            return self._owner
        if data_type == "lookup":
            return _lookup
        return cell_reader(data_type)

    def _owner(self, text: str) -> dict[str, Any] | None:
        return dict(self._owners().get(text) or {"id": text}) if text else None

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


class ZohoBulkReader(ZohoReader):
    """``ZohoReader`` that counts a full or incremental read first and sends it through Bulk
    Read when ``BulkRead`` wants it; otherwise pages (the count is not asked twice)."""

    def __init__(self, api: ZohoApi, module: str, limits: ZohoApiLimits, bulk: BulkRead) -> None:
        super().__init__(api, module, limits)
        self.bulk = bulk
        self._counted: int | None = None

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        if query.ids is not None:
            yield from super().read(query)
            return
        if query.since is None or query.written_since > self.limits.page_size:
            # A full read, or an incremental one the caller's own writes make longer than a
            # page (the count would follow its first page): the size decides the path first.
            self._counted = self.count(query.since)
            if self.bulk.wants(self._counted, self.limits):
                yield from self.bulk.read(query, BULK_PAGE)
                return
            yield from super().read(query)
            return
        # Any other incremental read pages first and counts only when a second page follows:
        # most nightly reads fit one page, and then can never need Bulk Read. The first page's
        # further field groups wait until the path is chosen (Bulk Read has them all).
        self._counted = None
        pages = self.kept(query)
        first = next(pages, None)
        if first is None:
            return
        if self.more_records:
            self._counted = self.count(query.since)
            if self.bulk.wants(self._counted, self.limits):
                yield from self.bulk.read(query, BULK_PAGE)
                return
            self._check_reach(query.since)
        yield from self.completed(chain([first], pages), query)

    def expected(self, query: ReadQuery) -> int | None:
        """The count the current full or incremental read took (None: it took none)."""
        return None if query.ids is not None else self._counted

    def _check_reach(self, since: datetime | None) -> None:
        """The count ``read`` took: past the ceiling (Bulk Read turned off) the read is refused
        before it starts; an unknown count is checked as the read goes."""
        count, ceiling = self._counted, self.limits.page_token_records
        if count is not None and count > ceiling:
            raise ReadTooLargeError(BULK_HINT.format(limit=ceiling, count=count))
