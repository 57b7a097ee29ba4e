"""Reading customers through ``data/query`` as a stream of pages (fxiaoke.md 3).

- Full and incremental reads are ordered by ``last_modified_time`` then ``_id`` (a stable
  order: pages never overlap) and paged with ``offset`` in steps of ``limit`` (100, the
  documented maximum). The first page asks for ``total`` (``expected``), later ones do not
  (``find_explicit_total_num: false`` is faster); the read stops at a short page or when
  ``total`` is reached, so no empty page is fetched.
- Incremental reads filter ``last_modified_time GTE`` the watermark minus ``overlap_seconds``,
  in epoch ms: records saved in the second the previous run began are read again (the sync
  drops what it has seen), never lost.
- By ids (due and failed records): ``_id IN`` up to ``limit`` ids a call.
- Only the fields asked for (``fieldProjection``). Values are handed on in the forms of
  ``fields.FxField.shown``; the admin's filter is applied to them here, on the client.

Memory holds one page at a time, whatever the size of the tenant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from crmqual.adapters.fxiaoke.api import QUERY, FxiaokeApi
from crmqual.adapters.fxiaoke.config import FxiaokeLimits
from crmqual.adapters.fxiaoke.fields import FxField
from crmqual.contract import ReadQuery
from crmqual.errors import ApiError

ID = "_id"
MODIFIED = "last_modified_time"
ORDER = [{"fieldName": MODIFIED, "isAsc": True}, {"fieldName": ID, "isAsc": True}]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(instant: datetime) -> int:
    """The first whole epoch millisecond at or after ``instant`` (times are kept in ms:
    ``GTE`` it finds exactly the records saved at or after ``instant``)."""
    if instant.tzinfo is None:
        raise ValueError("a watermark must carry a time zone")
    micros = (instant - EPOCH) // timedelta(microseconds=1)
    return -(-micros // 1000)


class FxiaokeReader:
    def __init__(
        self,
        api: FxiaokeApi,
        obj: str,
        limits: FxiaokeLimits,
        fields: Callable[[], Mapping[str, FxField]],
    ) -> None:
        self.api = api
        self.obj = obj
        self.limits = limits
        self._fields = fields
        self.total: int | None = None

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        described = self._fields()
        wanted = [ID, MODIFIED, *(f.field for f in query.filters), *query.fields]
        projection = list(dict.fromkeys(name.split(".")[0] for name in wanted))
        if query.ids is not None:
            pages = self._by_ids(list(dict.fromkeys(query.ids)), projection)
        else:
            pages = self._paged(projection, query.since)
        for page in pages:
            shown = [_present(record, described) for record in page]
            kept = [r for r in shown if all(rule.matches(r) for rule in query.filters)]
            if kept:
                yield kept

    def _query(self, info: dict[str, Any], total: bool) -> tuple[list[dict[str, Any]], int | None]:
        data = {
            "dataObjectApiName": self.obj,
            "find_explicit_total_num": total,
            "search_query_info": info,
        }
        answer = self.api.call(QUERY, data)
        body = answer.get("data")
        rows = body.get("dataList") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) and ID in r for r in rows):
            raise ApiError("Fxiaoke answered data/query without a dataList of records")
        count = body.get("total") if isinstance(body, dict) else None
        return rows, count if isinstance(count, int) and count >= 0 else None

    def _paged(
        self, projection: list[str], since: datetime | None
    ) -> Iterator[list[dict[str, Any]]]:
        size = self.limits.page_size
        filters = []
        if since is not None:
            start = since - timedelta(seconds=self.limits.overlap_seconds)
            filters.append({"field_name": MODIFIED, "field_values": [ms(start)], "operator": "GTE"})
        offset, total = 0, None
        self.total = None
        while True:
            info = {
                "limit": size,
                "offset": offset,
                "filters": filters,
                "orders": ORDER,
                "fieldProjection": projection,
            }
            rows, count = self._query(info, total=offset == 0)
            if offset == 0:
                total = self.total = count
            if rows:
                yield rows
            offset += size
            if len(rows) < size or (total is not None and offset >= total):
                return

    def _by_ids(self, ids: Sequence[str], projection: list[str]) -> Iterator[list[dict[str, Any]]]:
        size = self.limits.page_size
        for start in range(0, len(ids), size):
            chunk = list(ids[start : start + size])
            info = {
                "limit": size,
                "offset": 0,
                "filters": [{"field_name": ID, "field_values": chunk, "operator": "IN"}],
                "orders": ORDER,
                "fieldProjection": projection,
            }
            rows, _ = self._query(info, total=False)
            yield rows


def _present(record: Mapping[str, Any], described: Mapping[str, FxField]) -> dict[str, Any]:
    shown = {}
    for name, value in record.items():
        f = described.get(name)
        shown[name] = f.shown(value) if f is not None else value
    return shown
