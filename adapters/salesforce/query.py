"""Reading Accounts with SOQL (salesforce.md section 4).

- Only the fields asked for (the mapping's inputs, the id, ``SystemModstamp`` and the
  filter's fields); each name is checked to be an API name before it enters a query, and
  every value goes in through ``format_soql``, which quotes and escapes it: nothing of the
  configuration or the data is pasted into SOQL as text.
- Everything, or ``SystemModstamp >= watermark`` (the boundary is re-read on purpose),
  ``ORDER BY SystemModstamp, Id``; or by ids (due and failed records), ``Id IN (...)`` in
  chunks of ``limits.ids_per_query`` so a query stays far below SOQL's length limit.
- A full or incremental read first counts its records (``SELECT COUNT()``, one call): the
  count is ``expected()`` and decides the path; from ``bulk.read_threshold`` records on, the
  read is a Bulk API 2.0 query job (``bulk``), else REST ``query_all_iter`` with
  ``Sforce-Query-Options: batchSize``, grouped into pages of that size.
- The admin's filter is applied here, on the client (as the other adapters do): its rule
  compares text, whatever the field's type.
- Multi-currency: ``CurrencyIsoCode`` exists only in multi-currency orgs; when the mapping
  reads it and the org has none, it is left out of the query (the record carries no value).

Memory holds one page at a time, whatever the size of the org.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import ReadQuery
from crmqual.errors import ConfigError, Problem

ID, MODIFIED, CURRENCY = "Id", "SystemModstamp", "CurrencyIsoCode"
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")

Page = list[dict[str, Any]]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_fields(query: ReadQuery, present: Callable[[str], bool]) -> list[str]:
    """The fields to select, each once, ``Id`` and ``SystemModstamp`` first; a name that is
    no API name is refused before anything is sent (it came from the mapping)."""
    wanted = [ID, MODIFIED, *(rule.field for rule in query.filters), *query.fields]
    names = list(dict.fromkeys(wanted))
    bad = [n for n in names if not _API_NAME.match(n)]
    if bad:
        raise ConfigError(
            [
                Problem(
                    "mapping",
                    name,
                    "is not a Salesforce API name (letters, digits and _, e.g. Revenue__c)",
                    zh="不是 Salesforce API 名称（字母、数字和 _，例如 Revenue__c）",
                )
                for name in bad
            ]
        )
    return [n for n in names if n != CURRENCY or present(CURRENCY)]


def soql(
    fields: Sequence[str], sobject: str, since: datetime | None = None, *, order: bool = True
) -> str:
    """``SELECT fields FROM sobject [WHERE SystemModstamp >= since] [ORDER BY ...]``."""
    text = f"SELECT {', '.join(fields)} FROM {sobject}{_since(since)}"
    if order:
        text += f" ORDER BY {MODIFIED}, {ID}"
    return text


def count_soql(sobject: str, since: datetime | None) -> str:
    return f"SELECT COUNT() FROM {sobject}{_since(since)}"


def _since(since: datetime | None) -> str:
    return "" if since is None else format_soql(f" WHERE {MODIFIED} >= {{:literal}}", when(since))


def when(instant: datetime) -> str:
    """A SOQL dateTime literal, unquoted, in UTC: whole seconds (``2026-05-01T00:00:00Z``), or
    milliseconds where the instant has a fraction, rounded up: Salesforce keeps times to the
    millisecond, so ``>=`` it still means "at or after the instant" (the fractional form is
    an assumption, not in the reference)."""
    if instant.tzinfo is None:
        raise ValueError("a watermark must carry a time zone")
    moment = instant.astimezone(UTC)
    millis = -(-moment.microsecond // 1000)  # rounded up
    whole = moment.replace(microsecond=0) + timedelta(milliseconds=millis)
    text = whole.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{whole.microsecond // 1000:03d}Z" if whole.microsecond else f"{text}Z"


def by_ids_soql(fields: Sequence[str], sobject: str, ids: Sequence[str]) -> str:
    return f"SELECT {', '.join(fields)} FROM {sobject}" + format_soql(
        f" WHERE {ID} IN {{}}", list(ids)
    )


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its ``attributes`` (type and URL), related records likewise."""
    return {
        k: plain(v) if isinstance(v, dict) else v for k, v in record.items() if k != "attributes"
    }


class RestQuery:
    """REST queries: counts, paged reads with ``query_all_iter``, reads by id."""

    def __init__(self, sf: Callable[[], Salesforce], connection: SalesforceConnection) -> None:
        self._sf = sf
        self.sobject = connection.object
        self.limits = connection.limits

    def count(self, since: datetime | None) -> int:
        answer = self._sf().query(count_soql(self.sobject, since))
        return int(answer["totalSize"])

    def pages(self, fields: Sequence[str], since: datetime | None) -> Iterator[Page]:
        yield from self._paged(soql(fields, self.sobject, since))

    def by_ids(self, fields: Sequence[str], ids: Sequence[str]) -> Iterator[Page]:
        unique = list(dict.fromkeys(ids))
        for chunk in chunks(unique, self.limits.ids_per_query):
            yield from self._paged(by_ids_soql(fields, self.sobject, chunk))

    def _paged(self, text: str) -> Iterator[Page]:
        size = self.limits.query_batch
        headers = {"Sforce-Query-Options": f"batchSize={size}"}
        page: Page = []
        for record in self._sf().query_all_iter(text, headers=headers):
            page.append(plain(record))
            if len(page) >= size:
                yield page
                page = []
        if page:
            yield page
