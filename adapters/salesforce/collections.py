"""Writing outputs with sObject Collections (salesforce.md section 5): ``PATCH
composite/sobjects`` with ``allOrNone: false``, at most ``limits.collection_size`` (200)
records a call, one SaveResult per record in input order, each made a ``RecordResult``.

A call whose answer is lost after Salesforce may have applied it (a dropped connection, a
read timeout, a 5xx) is never resent blindly: it runs as one operation of the HTTP client's
retry policy with ``resend=False``; the records still unsettled are read back by id first,
those that already carry every value sent are done, and only the others are sent again,
within the policy's attempts. A failed read-back ends the write with the original error and
sends nothing more (the next run settles those records). Multi-select values go as one
``;``-joined string (``values``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from simple_salesforce.api import Salesforce

from crmqual.adapters.salesforce.errors import api_error, not_json
from crmqual.adapters.salesforce.query import ID, chunks
from crmqual.adapters.salesforce.session import ClientSession
from crmqual.adapters.salesforce.values import carries, to_json
from crmqual.contract import RecordResult
from crmqual.http import Operation

log = logging.getLogger(__name__)

Update = tuple[str, Mapping[str, Any]]
ReadByIds = Callable[[Sequence[str], Sequence[str]], Iterator[list[dict[str, Any]]]]


class Collections:
    def __init__(
        self,
        sf: Callable[[], Salesforce],
        session: ClientSession,
        read_by_ids: ReadByIds,
        sobject: str,
        size: int,
    ) -> None:
        self._sf = sf
        self._session = session
        self._read_by_ids = read_by_ids
        self.sobject = sobject
        self.size = size

    def update(self, updates: Sequence[Update]) -> list[RecordResult]:
        results: list[RecordResult] = []
        for batch in chunks(updates, self.size):
            results += self._patch(batch)
        return results

    def _patch(self, batch: Sequence[Update]) -> list[RecordResult]:
        unsettled = list(batch)
        settled: dict[str, RecordResult] = {}

        def in_order(found: Mapping[str, RecordResult]) -> list[RecordResult]:
            return [found[rid] for rid, _ in batch]

        def attempt(operation: Operation) -> list[RecordResult]:
            results = self._patch_once(unsettled, operation)
            return in_order(settled | {r.record_id: r for r in results})

        def reconcile() -> list[RecordResult] | None:
            applied = self.applied(unsettled)
            settled.update((rid, RecordResult(rid, True)) for rid in applied)
            unsettled[:] = [(rid, values) for rid, values in unsettled if rid not in applied]
            log.info(
                "a collections PATCH of %d records lost its answer: %d already carry the "
                "values, %d sent again",
                len(applied) + len(unsettled),
                len(applied),
                len(unsettled),
            )
            return in_order(settled) if not unsettled else None

        return self._session.http.retrying(attempt, reconcile=reconcile)

    def _patch_once(self, batch: Sequence[Update], operation: Operation) -> list[RecordResult]:
        body = {
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": self.sobject},
                    "id": rid,
                    **{name: to_json(value) for name, value in values.items()},
                }
                for rid, values in batch
            ],
        }
        with self._session.once(operation):
            try:
                answer = self._sf().restful("composite/sobjects", method="PATCH", json=body)
            except ValueError:  # a 200 whose body is not JSON
                raise not_json(
                    f"a collections update of {len(batch)} records",
                    f"{len(batch)} 条记录的集合更新",
                ) from None
        if not isinstance(answer, list) or len(answer) != len(batch):
            got = len(answer) if isinstance(answer, list) else "no"
            raise api_error(
                f"Salesforce answered a collections update of {len(batch)} records with {got} "
                "results; the next run reads these records again before writing",
                f"Salesforce 对 {len(batch)} 条记录的集合更新返回了 {got} 个结果；下次运行会先重新"
                "读取这些记录再写入",
            )
        return [save_result(rid, item) for (rid, _), item in zip(batch, answer, strict=True)]

    def applied(self, batch: Sequence[Update]) -> set[str]:
        """The records of ``batch`` that already carry every value it sets (read by id)."""
        wanted = dict(batch)
        names = sorted({name for _, values in batch for name in values})
        found: set[str] = set()
        for page in self._read_by_ids([ID, *names], list(wanted)):
            for record in page:
                rid = str(record.get(ID))
                values = wanted.get(rid)
                if values is not None and all(carries(v, record.get(k)) for k, v in values.items()):
                    found.add(rid)
        return found


def save_result(record_id: str, item: Any) -> RecordResult:
    """A SaveResult ``{"id", "success", "errors": [{"statusCode", "message", "fields"}]}``."""
    if not isinstance(item, Mapping):
        return RecordResult(record_id, False, "MALFORMED", "Salesforce's result is no object")
    if item.get("success") is True:
        return RecordResult(record_id, True)
    errors = item.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, Mapping) else {}
    fields = first.get("fields")
    return RecordResult(
        record_id,
        False,
        code=str(first.get("statusCode") or "UNKNOWN"),
        message=str(first.get("message") or ""),
        field=str(fields[0]) if isinstance(fields, list) and fields else None,
    )
