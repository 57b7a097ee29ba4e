"""Reading Zoho records as a stream of pages (zoho.md section 4).

- Only the fields asked for, at most ``fields_per_call`` per call: the first group (with
  ``Modified_Time`` and the filter's fields) pages through the module; further groups are
  fetched for the records of that page by ``ids``, ``ids_per_call`` at a time.
- Full and incremental reads sort by ``Modified_Time`` ascending; incremental ones send
  ``If-Modified-Since`` one second before the watermark rounded up to a whole second: Zoho
  returns records modified strictly after it, its times are whole seconds, so exactly the
  records modified at or after the watermark come back (those at it again, on purpose).
- ``page`` reaches the first ``page_records`` records; from there on ``page_token``.
- ``page_token`` reaches ``page_token_records`` at most: a read that would go further is
  refused before it starts (``actions/count``), pointing to the bulk path of part 2.
- The admin's filter is applied here, on the client: the list call takes no criteria (only
  a custom view, which cannot be sorted by ``Modified_Time``), and the search and COQL calls
  that take criteria lack ``If-Modified-Since`` and ``page_token`` and stop at 2,000 / 10,000
  records. Filtering happens before further field groups are fetched, so those cost nothing
  for records the filter drops.

Memory holds one page at a time, whatever the size of the org.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.config import ZohoApiLimits
from crmqual.contract import FilterRule, ReadQuery
from crmqual.errors import ApiError, ReadTooLargeError

MODIFIED = "Modified_Time"
BULK_HINT = (
    "Zoho's paged API reaches at most {limit:,} records with page_token; this read needs "
    "{count:,}. Narrow the filter, or turn Bulk Read on (connection.bulk.read: true)."
)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def zoho_time(instant: datetime) -> str:
    """ISO-8601 with an offset, whole seconds (what Zoho sends and accepts)."""
    if instant.tzinfo is None:
        raise ValueError("a watermark must carry a time zone")
    return instant.replace(microsecond=0).isoformat()


def ceil_second(instant: datetime) -> datetime:
    whole = instant.replace(microsecond=0)
    return whole if whole == instant else whole + timedelta(seconds=1)


def field_groups(
    fields: Sequence[str], filters: Sequence[FilterRule], per_call: int
) -> list[list[str]]:
    """The fields to ask for, in groups of ``per_call``: the first holds ``Modified_Time`` and
    the filter's fields. ``id`` always comes back and is never asked for."""
    wanted = [MODIFIED, *(f.field for f in filters), *fields]
    names = [n for n in dict.fromkeys(wanted) if n != "id"]
    return [names[i : i + per_call] for i in range(0, len(names), per_call)]


class ZohoReader:
    def __init__(self, api: ZohoApi, module: str, limits: ZohoApiLimits) -> None:
        self.api = api
        self.module = module
        self.limits = limits
        self.path = f"/crm/v8/{module}"
        #: Whether the page last fetched by ``_paged`` said more records follow.
        self.more_records = False

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        yield from self.completed(self.kept(query), query)

    def kept(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        """The pages of records the filter keeps, with the first field group only (it holds
        the filter's fields); pages the filter empties are not handed out."""
        first = field_groups(query.fields, query.filters, self.limits.fields_per_call)[0]
        if query.ids is not None:
            pages = self._by_ids(list(query.ids), first)
        else:
            self._check_reach(query.since)
            pages = self._paged(first, query.since)
        for page in pages:
            kept = [r for r in page if all(rule.matches(r) for rule in query.filters)]
            if kept:
                yield kept

    def completed(
        self, pages: Iterable[list[dict[str, Any]]], query: ReadQuery
    ) -> Iterator[list[dict[str, Any]]]:
        """``pages`` of ``kept`` with the further field groups added, a page at a time."""
        further = field_groups(query.fields, query.filters, self.limits.fields_per_call)[1:]
        for page in pages:
            self._complete(page, further)
            yield page

    # -- the first field group --------------------------------------------------------------
    def _by_ids(self, ids: list[str], fields: list[str]) -> Iterator[list[dict[str, Any]]]:
        for chunk in chunks(list(dict.fromkeys(ids)), self.limits.ids_per_call):
            yield self._fetch_ids(chunk, fields)

    def _paged(self, fields: list[str], since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        size = self.limits.page_size
        params: dict[str, Any] = {
            "fields": ",".join(fields),
            "per_page": size,
            "sort_by": MODIFIED,
            "sort_order": "asc",
        }
        headers = {}
        if since is not None:
            headers["If-Modified-Since"] = zoho_time(ceil_second(since) - timedelta(seconds=1))
        page, token, seen = 1, None, 0
        while True:
            where = {"page_token": token} if token is not None else {"page": page}
            answer = self.api.call(
                "GET",
                self.path,
                params={**params, **where},
                headers=headers,
                endpoint=f"GET /crm/v8/{self.module}",
            )
            if answer.empty:
                return
            data, info = _list_body(answer.body)
            self.more_records = bool(info.get("more_records"))
            yield data
            seen += len(data)
            if not info.get("more_records"):
                return
            if seen >= self.limits.page_token_records:
                # Only when the count was not available before the read (see _check_reach).
                raise ReadTooLargeError(
                    BULK_HINT.format(limit=self.limits.page_token_records, count=seen + 1)
                )
            if token is None and (page + 1) * size <= self.limits.page_records:
                page += 1
                continue
            token = info.get("next_page_token")
            if not isinstance(token, str) or not token:
                raise ApiError(
                    f"Zoho said more records follow record {seen:,} but gave no next_page_token"
                )

    def count(self, since: datetime | None) -> int | None:
        """How many records a full (or since) read would return; None when Zoho cannot say."""
        params = {}
        if since is not None:
            params["criteria"] = f"({MODIFIED}:greater_equal:{zoho_time(since)})"
        try:
            answer = self.api.call(
                "GET",
                f"{self.path}/actions/count",
                params=params,
                endpoint=f"GET /crm/v8/{self.module}/actions/count",
            )
        except ApiError:
            # Not every Zoho endpoint is served everywhere; the read then checks as it goes.
            return None
        return _count(answer.body)

    def _check_reach(self, since: datetime | None) -> None:
        """Refuse, before anything is read, a read that page_token cannot finish."""
        count = self.count(since)
        if count is not None and count > self.limits.page_token_records:
            raise ReadTooLargeError(
                BULK_HINT.format(limit=self.limits.page_token_records, count=count)
            )

    # -- further field groups ----------------------------------------------------------------
    def _complete(self, records: list[dict[str, Any]], groups: list[list[str]]) -> None:
        """Add the further field groups to ``records`` (in place), fetched by ``ids``."""
        if not groups:
            return
        by_id = {str(r["id"]): r for r in records}
        for fields in groups:
            for chunk in chunks(list(by_id), self.limits.ids_per_call):
                found = {str(r["id"]): r for r in self._fetch_ids(chunk, fields)}
                for record_id in chunk:
                    extra = found.get(record_id, {})
                    for name in fields:
                        by_id[record_id][name] = extra.get(name)

    def _fetch_ids(self, ids: Sequence[str], fields: list[str]) -> list[dict[str, Any]]:
        answer = self.api.call(
            "GET",
            self.path,
            params={"fields": ",".join(fields), "ids": ",".join(ids)},
            endpoint=f"GET /crm/v8/{self.module}",
        )
        if answer.empty:
            return []
        return _list_body(answer.body)[0]


def _list_body(body: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(r, dict) and "id" in r for r in data):
        raise ApiError("Zoho answered a list call without a data list of records")
    info = body.get("info")
    return data, info if isinstance(info, dict) else {}


def _count(body: Any) -> int | None:
    raw = body.get("count") if isinstance(body, dict) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
