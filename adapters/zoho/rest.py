"""The REST transport (``transport: rest``, the default): crmqual's own client on Zoho's REST
API v8. Describes through the Fields API, reads by paging (``read``) or, for large reads,
Bulk Read (``bulk_read``), writes by PUT of 100 records or, when it saves credits, Bulk
Write (``bulk_write``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.bulk import ZohoBulk
from crmqual.adapters.zoho.bulk_read import BulkRead, ZohoBulkReader
from crmqual.adapters.zoho.bulk_write import BulkWrite
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.adapters.zoho.fields import ZohoField, describe
from crmqual.adapters.zoho.read import MODIFIED, chunks
from crmqual.adapters.zoho.transfers import Transfers
from crmqual.contract import ReadQuery, RecordResult
from crmqual.errors import ApiError
from crmqual.http import Operation

log = logging.getLogger(__name__)


class RestTransport:
    """Describe, server time, read and write over REST API v8 (a ``ZohoTransport``)."""

    bulk_read = True
    bulk_write = True

    def __init__(
        self, api: ZohoApi, connection: ZohoConnection, sleep: Callable[[float], None]
    ) -> None:
        self.api = api
        self.connection = connection
        self.module = connection.module
        self.fields: dict[str, ZohoField] | None = None
        self.bulk = ZohoBulk(connection, sleep=sleep)
        transfers = Transfers(api, sleep)
        self.bulk_reads = BulkRead(api, self.bulk, transfers, described=lambda: self.fields)
        self.bulk_writes = BulkWrite(api, self.bulk, transfers)
        self.reader = ZohoBulkReader(api, self.module, connection.limits, self.bulk_reads)

    def __repr__(self) -> str:
        return f"RestTransport(module={self.module!r})"

    def server_time(self) -> datetime:
        recent = self.api.server_time()
        if recent is not None:
            return recent
        answer = self.api.call(
            "GET",
            f"/crm/v8/{self.module}",
            params={"fields": MODIFIED, "per_page": 1},
            endpoint=f"GET /crm/v8/{self.module}",
        )
        header = answer.headers.get("Date")
        if not header:
            raise ApiError("Zoho's answer carried no Date header: the server time is unknown")
        return parsedate_to_datetime(header)

    def describe(self) -> dict[str, ZohoField]:
        self.fields = describe(self.api, self.module)
        return self.fields

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        yield from self.reader.read(query)

    def expected(self, query: ReadQuery) -> int | None:
        return self.reader.expected(query)

    def write_batch_for(self, queued: int) -> int:
        """Bulk Write's job size when ``queued`` records make a bulk job cheaper, else 100."""
        return self.bulk.write_batch_for(queued) or self.connection.limits.write_batch

    def write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        if self.bulk.wants_write(len(updates)):  # Bulk Write, when it saves credits
            return self.bulk_writes.write(updates, self._put)
        results: list[RecordResult] = []
        for batch in chunks(updates, self.connection.limits.write_batch):
            results += self._put(batch)
        return results

    def fields_changed(self) -> None:
        """Nothing is cached beyond ``fields``, which the next ``describe`` replaces."""

    def close(self) -> None:
        """Nothing to release."""

    def _put(self, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        """One PUT of up to 100 records, never resent blindly.

        Sent with ``resend=False`` as one operation under the HTTP client's retry policy:
        when its answer is lost after Zoho may have applied it (a dropped connection, a read
        timeout, a 5xx), the records still unsettled are re-read by id first (``reconcile``);
        those that already carry every value sent are done, and only the others are sent
        again, within the policy's attempts. A failed re-read ends the operation with the
        original error and sends nothing more (the sync's next run settles those records).
        """
        unsettled = list(batch)
        settled: dict[str, RecordResult] = {}

        def in_order(found: Mapping[str, RecordResult]) -> list[RecordResult]:
            return [found[rid] for rid, _ in batch]

        def attempt(operation: Operation) -> list[RecordResult]:
            results = self._put_once(unsettled, within=operation)
            return in_order(settled | {r.record_id: r for r in results})

        def reconcile() -> list[RecordResult] | None:
            applied = self._applied(unsettled)
            settled.update((rid, RecordResult(rid, True)) for rid in applied)
            unsettled[:] = [(rid, values) for rid, values in unsettled if rid not in applied]
            log.info(
                "a PUT of %d records lost its answer: %d already carry the values, %d sent again",
                len(applied) + len(unsettled),
                len(applied),
                len(unsettled),
            )
            return in_order(settled) if not unsettled else None

        return self.api.http.retrying(attempt, reconcile=reconcile)

    def _put_once(
        self, batch: Sequence[tuple[str, Mapping[str, Any]]], *, within: Operation
    ) -> list[RecordResult]:
        body = {
            "data": [
                {"id": rid, **{k: _json(v) for k, v in values.items()}} for rid, values in batch
            ],
            "trigger": [],  # no workflow, approval or blueprint fires on our writes (zoho.md 6)
        }
        answer = self.api.call(
            "PUT",
            f"/crm/v8/{self.module}",
            json=body,
            endpoint=f"PUT /crm/v8/{self.module}",
            records=True,
            resend=False,
            within=within,
        )
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(items, list) or len(items) != len(batch):
            raise ApiError(
                f"Zoho answered a write of {len(batch)} records with "
                f"{len(items) if isinstance(items, list) else 'no'} results (HTTP {answer.status})",
                status=answer.status,
            )
        return [_result(rid, item) for (rid, _), item in zip(batch, items, strict=True)]

    def _applied(self, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> set[str]:
        """The records of ``batch`` that already carry every value it sets (read by id)."""
        names = sorted({name for _, values in batch for name in values})
        wanted = dict(batch)
        applied: set[str] = set()
        for chunk in chunks(list(wanted), self.connection.limits.ids_per_call):
            carry = set(chunk)
            for group in chunks(names, self.connection.limits.fields_per_call):
                found = {str(r.get("id")): r for r in self.reader._fetch_ids(chunk, list(group))}
                carry = {
                    rid
                    for rid in carry
                    if rid in found
                    and all(
                        _carries(wanted[rid][name], found[rid].get(name))
                        for name in group
                        if name in wanted[rid]
                    )
                }
            applied |= carry
        return applied


def _json(value: Any) -> Any:
    """A value as Zoho takes it in a record: dates ISO, decimals as numbers, lists as lists."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    return value


def _carries(sent: Any, got: Any) -> bool:
    """Does a record's value ``got`` (as Zoho answers it) equal ``sent`` (as written)?"""
    sent = _json(sent)
    if sent is None or sent == "" or sent == []:
        return got is None or got == "" or got == []
    if isinstance(sent, bool):
        return got is sent or str(got).lower() == str(sent).lower()
    if isinstance(sent, int | float):
        try:
            return abs(float(got) - float(sent)) < 1e-6
        except (TypeError, ValueError):
            return False
    if isinstance(sent, list):
        if not isinstance(got, list):
            return False
        return {str(v).strip() for v in sent} == {str(v).strip() for v in got}
    if got is None:
        return False
    mine, theirs = str(sent).strip(), str(got).strip()
    if mine == theirs:
        return True
    try:  # the same instant, written in UTC and answered in the org's time zone
        a = datetime.fromisoformat(mine.replace("Z", "+00:00"))
        b = datetime.fromisoformat(theirs.replace("Z", "+00:00"))
    except ValueError:
        return False
    return a.tzinfo is not None and b.tzinfo is not None and a == b


def _result(record_id: str, item: Any) -> RecordResult:
    if isinstance(item, dict) and item.get("status") == "success":
        return RecordResult(record_id, True)
    if not isinstance(item, dict):
        return RecordResult(record_id, False, "MALFORMED", "Zoho's result for it is not an object")
    details = _details(item)
    field = details.get("api_name")
    return RecordResult(
        record_id,
        False,
        code=str(item.get("code") or "UNKNOWN"),
        message=str(item.get("message") or ""),
        field=str(field) if field else None,
    )


def _details(item: dict[str, Any]) -> dict[str, Any]:
    details = item.get("details")
    return details if isinstance(details, dict) else {}
