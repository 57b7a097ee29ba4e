"""The SDK transport (``transport: sdk``): Zoho's official SDK, zcrmsdk 3.1.0, API v2.

For organisations that standardise on Zoho's own SDK. Describing the module, telling the
server's time, reading and writing go through zcrmsdk (``FieldsOperations.get_fields``,
``RecordOperations.get_records`` / ``update_records``), every call carrying the SDK's
``X-ZOHO-SDK`` header; zcrmsdk itself is confined by ``sdk_runtime`` (its global
initialiser, token store, missing timeouts and retries).

What ``ZohoAdapter`` does through the REST API (v8) whatever the transport: creating fields
and appending picklist values (``crmqual provision``: zcrmsdk 3.x has no call for either),
``crmqual check``, follow-up Tasks, and the token endpoint (crmqual's own, in memory). Both
transports share one ``ZohoApi``: one token, one retry policy, one call counter, one credit
reading.

What the SDK transport cannot do: API v2 reads page with ``page`` only (no ``page_token``),
and there is no bulk path through it. Where Zoho caps ``page`` (2,000 records from v3 on;
whether v2 is capped too is not confirmed) a read past the cap stops with a
``ReadTooLargeError`` that points to ``transport: rest``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from crmqual.adapters.zoho.adapter import ZohoAdapter
from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.adapters.zoho.fields import DESCRIBE_TYPES, ZohoField
from crmqual.adapters.zoho.read import MODIFIED, chunks, field_groups
from crmqual.adapters.zoho.sdk_runtime import SdkRuntime
from crmqual.contract import FieldSpec, FieldType, ReadQuery, RecordResult
from crmqual.errors import ApiError, ReadTooLargeError

PAGE_CAP_HINT = (
    "Zoho refused to page past record {seen:,} with API v2's `page` (the SDK transport has no "
    "page_token and no bulk path). Narrow the filter, or set `transport: rest` in crmqual.yaml."
)
#: Zoho data types whose values the SDK types client-side (zoho-sdks.md).
_FLOATS = frozenset({"currency", "double", "percent", "decimal"})
_INTEGERS = frozenset({"integer", "bigint"})

Native = dict[str, Any]


class SdkTransport:
    """Describe, server time, read and write through zcrmsdk (a ``ZohoTransport``)."""

    bulk_read = False  # no bulk path through the SDK
    bulk_write = False

    def __init__(
        self, api: ZohoApi, connection: ZohoConnection, sleep: Callable[[float], None]
    ) -> None:
        self.api = api
        self.connection = connection
        self.module = connection.module
        self.fields: dict[str, ZohoField] | None = None
        self.runtime = SdkRuntime(
            api.http, api.tokens, lambda: api.api_domain, connection.token_url
        )
        self._sdk = self.runtime.sdk

    def __repr__(self) -> str:
        return f"SdkTransport(module={self.module!r})"

    def close(self) -> None:
        """Remove the SDK's private directory (also done when the runtime is collected)."""
        self.runtime.close()

    def fields_changed(self) -> None:
        self.runtime.forget_fields()  # the SDK types values by its cached metadata

    # -- what the CRM is ------------------------------------------------------------------------
    def expected(self, query: ReadQuery) -> int | None:
        return None  # the SDK pages without counting first

    def write_batch_for(self, queued: int) -> int:
        return self.connection.limits.write_batch

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-record SDK list call made for it."""
        recent = self.api.server_time()
        if recent is None:
            params = self._sdk.ParameterMap()
            params.add(self._sdk.GetRecordsParam.fields, MODIFIED)
            params.add(self._sdk.GetRecordsParam.per_page, 1)
            self._list(params, self._sdk.HeaderMap())
            recent = self.api.server_time()
        if recent is None:
            raise ApiError("Zoho's answer carried no Date header: the server time is unknown")
        return recent

    def describe(self) -> dict[str, ZohoField]:
        self.fields = self._describe()
        return self.fields

    def _describe(self) -> dict[str, ZohoField]:
        sdk = self._sdk
        answer = self.runtime.call(
            lambda: sdk.FieldsOperations(self.module).get_fields(sdk.ParameterMap())
        )
        body = self._object(answer, f"describe {self.module}")
        if body is None:
            items: list[Any] = []
        elif isinstance(body, sdk.FieldsResponseWrapper):
            items = list(body.get_fields() or [])
        else:
            raise ApiError(f"Zoho described {self.module} without a fields list")
        described = {f.spec.api_name: f for f in map(_field, items) if f is not None}
        if "id" not in described:  # the record id is not a field in Zoho's metadata
            described["id"] = ZohoField(FieldSpec("id", FieldType.TEXT, "Record Id"), "", "id")
        return described

    # -- reading ----------------------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        groups = field_groups(query.fields, query.filters, self.connection.limits.fields_per_call)
        if query.ids is not None:
            pages = self._by_ids(list(dict.fromkeys(query.ids)), groups[0])
        else:
            pages = self._paged(groups[0], query.since)
        for page in pages:
            kept = [r for r in page if all(rule.matches(r) for rule in query.filters)]
            if kept:
                self._complete(kept, groups[1:])
                yield kept

    def _paged(self, fields: list[str], since: datetime | None) -> Iterator[list[Native]]:
        """API v2 paging: ``page`` 1, 2, ... in ascending ``Modified_Time``; incremental reads
        send ``If-Modified-Since`` as the REST reader does (``read``)."""
        sdk = self._sdk
        size = self.connection.limits.page_size
        headers = sdk.HeaderMap()
        if since is not None:
            headers.add(sdk.GetRecordsHeader.if_modified_since, _if_modified_since(since))
        page, seen = 1, 0
        while True:
            params = sdk.ParameterMap()
            params.add(sdk.GetRecordsParam.fields, ",".join(fields))
            params.add(sdk.GetRecordsParam.per_page, size)
            params.add(sdk.GetRecordsParam.page, page)
            params.add(sdk.GetRecordsParam.sort_by, MODIFIED)
            params.add(sdk.GetRecordsParam.sort_order, "asc")
            try:
                listed = self._list(params, headers, fields)
            except ApiError as exc:
                if exc.code == "DISCRETE_PAGINATION_LIMIT_EXCEEDED":
                    raise ReadTooLargeError(PAGE_CAP_HINT.format(seen=seen)) from None
                raise
            if listed is None:
                return
            records, more = listed
            yield records
            seen += len(records)
            if not more:
                return
            page += 1

    def _by_ids(self, ids: list[str], fields: list[str]) -> Iterator[list[Native]]:
        for chunk in chunks(ids, self.connection.limits.ids_per_call):
            yield self._fetch_ids(chunk, fields)

    def _complete(self, records: list[Native], groups: list[list[str]]) -> None:
        """Add the further field groups to ``records`` (in place), fetched by ``ids``."""
        by_id = {str(r["id"]): r for r in records}
        for fields in groups:
            for chunk in chunks(list(by_id), self.connection.limits.ids_per_call):
                found = {str(r["id"]): r for r in self._fetch_ids(chunk, fields)}
                for record_id in chunk:
                    extra = found.get(record_id, {})
                    for name in fields:
                        by_id[record_id][name] = extra.get(name)

    def _fetch_ids(self, ids: Sequence[str], fields: list[str]) -> list[Native]:
        sdk = self._sdk
        params = sdk.ParameterMap()
        params.add(sdk.GetRecordsParam.fields, ",".join(fields))
        for record_id in ids:
            params.add(sdk.GetRecordsParam.ids, _record_id(record_id))
        listed = self._list(params, sdk.HeaderMap(), fields)
        return [] if listed is None else listed[0]

    def _list(
        self, params: Any, headers: Any, fields: Sequence[str] = ()
    ) -> tuple[list[Native], bool] | None:
        """One list call: the records (as the REST API's JSON gives them, every asked field
        present) and whether more follow; None for Zoho's empty answers (204, 304)."""
        sdk = self._sdk
        answer = self.runtime.call(
            lambda: sdk.RecordOperations().get_records(self.module, params, headers)
        )
        body = self._object(answer, f"list {self.module}")
        if body is None:
            return None
        if not isinstance(body, sdk.ResponseWrapper):
            raise ApiError(f"Zoho answered a list of {self.module} with {type(body).__name__}")
        records = []
        for record in body.get_data() or []:
            native = _native_record(record)
            for name in fields:
                native.setdefault(name, None)
            records.append(native)
        info = body.get_info()
        more = bool(info.get_more_records()) if info is not None else False
        return records, more

    # -- writing ----------------------------------------------------------------------------------
    def write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        if self.fields is None:
            self.describe()  # the SDK types values by the fields' data types
        results: list[RecordResult] = []
        for batch in chunks(updates, self.connection.limits.write_batch):
            results += self._update(batch)
        return results

    def _update(self, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        sdk = self._sdk
        records = []
        for record_id, values in batch:
            record = sdk.Record()
            record.set_id(_record_id(record_id))
            for name, value in values.items():
                record.add_key_value(name, self._typed(name, value))
            records.append(record)
        body = sdk.BodyWrapper()
        body.set_data(records)
        body.set_trigger([])  # no workflow, approval or blueprint fires on our writes
        answer = self.runtime.call(
            lambda: sdk.RecordOperations().update_records(self.module, body, sdk.HeaderMap())
        )
        result = self._object(answer, f"update {self.module}", records=True)
        items = result.get_data() if isinstance(result, sdk.ActionWrapper) else None
        if not isinstance(items, list) or len(items) != len(batch):
            raise ApiError(
                f"Zoho answered a write of {len(batch)} records with "
                f"{len(items) if isinstance(items, list) else 'no'} results",
                status=answer.get_status_code(),
            )
        return [self._result(rid, item) for (rid, _), item in zip(batch, items, strict=True)]

    def _typed(self, name: str, value: Any) -> Any:
        """A value as the SDK wants it for the field's data type (zoho-sdks.md: ``Choice`` for
        picklists, ``float`` for currency and double, ``datetime`` for date-times)."""
        if value is None:
            return None
        found = (self.fields or {}).get(name)
        kind = found.data_type if found is not None else ""
        if kind == "picklist":
            return self._sdk.Choice(str(value))
        if kind == "multiselectpicklist":
            items = value if isinstance(value, list | tuple | set | frozenset) else [value]
            return [self._sdk.Choice(str(v)) for v in items]
        if kind in _FLOATS:
            return float(value)
        if kind in _INTEGERS:
            return int(value)
        if kind == "datetime":
            return _datetime(value)
        if kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if kind == "boolean":
            return bool(value)
        if isinstance(value, Decimal):
            return float(value)
        return value

    def _result(self, record_id: str, item: Any) -> RecordResult:
        status = _value(item.get_status()) if hasattr(item, "get_status") else None
        if isinstance(item, self._sdk.SuccessResponse) and status == "success":
            return RecordResult(record_id, True)
        if not hasattr(item, "get_code"):
            return RecordResult(record_id, False, "MALFORMED", "Zoho's result for it is unknown")
        details = item.get_details() or {}
        field = details.get("api_name") if isinstance(details, dict) else None
        return RecordResult(
            record_id,
            False,
            code=str(_value(item.get_code()) or "UNKNOWN"),
            message=str(_value(item.get_message()) or ""),
            field=str(field) if field else None,
        )

    # -- answers ----------------------------------------------------------------------------------
    def _object(self, answer: Any, what: str, *, records: bool = False) -> Any:
        """The parsed object of an ``APIResponse``; None for 204/304; an error body raised
        (with ``records``, a list of per-record errors is returned instead)."""
        if answer is None:
            raise ApiError(f"zcrmsdk gave no answer to {what} (its own error, only logged)")
        status = int(answer.get_status_code())
        body = answer.get_object()
        if status in (204, 304):
            return None
        if isinstance(body, self._sdk.APIException):
            code = str(_value(body.get_code()) or "")
            message = str(_value(body.get_message()) or "")
            raise ApiError(
                f"{what}: HTTP {status} {code} {message}".strip(), status=status, code=code
            )
        if body is None:
            raise ApiError(f"{what}: HTTP {status}, an answer zcrmsdk could not read")
        if status >= 400 and not (records and isinstance(body, self._sdk.ActionWrapper)):
            raise ApiError(f"{what}: HTTP {status}", status=status)
        return body


# -- conversions --------------------------------------------------------------------------------
def _value(choice: Any) -> Any:
    """A ``Choice``'s value (the SDK wraps enums and picklist values in it)."""
    return choice.get_value() if hasattr(choice, "get_value") else choice


def _native(value: Any) -> Any:
    """An SDK value as Zoho's JSON has it (what the REST transport reads)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _native(v) for k, v in value.items()}
    if hasattr(value, "get_key_values"):  # a Record, or a User (owner lookups)
        return _native_record(value)
    if hasattr(value, "get_value"):  # a Choice
        return _native(value.get_value())
    return str(value)


def _native_record(record: Any) -> Native:
    native = {str(k): _native(v) for k, v in (record.get_key_values() or {}).items()}
    if native.get("id") is not None:
        native["id"] = str(native["id"])  # the SDK turns ids into int; Zoho's JSON has text
    return native


def _field(item: Any) -> ZohoField | None:
    api_name = item.get_api_name()
    if not isinstance(api_name, str):
        return None
    data_type = str(item.get_data_type() or "")
    values = tuple(
        str(v.get_display_value())
        for v in item.get_pick_list_values() or ()
        if v.get_display_value() is not None
    )
    length = item.get_length()
    spec = FieldSpec(
        api_name=api_name,
        type=DESCRIBE_TYPES.get(data_type, FieldType.TEXT),
        label=str(item.get_field_label() or api_name),
        picklist=values,
        length=length if isinstance(length, int) and length > 0 else None,
    )
    field_id = item.get_id()
    return ZohoField(spec, "" if field_id is None else str(field_id), data_type)


def _record_id(record_id: str) -> int:
    """zcrmsdk sends ids as JSON numbers; Zoho's ids are digit strings."""
    if not str(record_id).isdigit():
        raise ApiError(f"{record_id!r} is not a Zoho record id (digits)", record_id=str(record_id))
    return int(record_id)


def _datetime(value: Any) -> datetime:
    instant = (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    )
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _if_modified_since(since: datetime) -> datetime:
    """One second before the watermark rounded up to a whole second (see ``read``)."""
    if since.tzinfo is None:
        raise ValueError("a watermark must carry a time zone")
    whole = since.replace(microsecond=0)
    ceiling = whole if whole == since else whole + timedelta(seconds=1)
    return ceiling - timedelta(seconds=1)


class ZohoSdkAdapter(ZohoAdapter):
    """``ZohoAdapter`` on the SDK transport, whatever ``connection.transport`` says: what
    ``transport: sdk`` builds. Only a constructor; everything else is ``ZohoAdapter``'s."""

    def __init__(
        self,
        connection: ZohoConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(connection, session=session, sleep=sleep, transport=SdkTransport)

    @property
    def runtime(self) -> SdkRuntime:
        """The confined zcrmsdk (its private folder: ``runtime.folder``)."""
        assert isinstance(self.transport, SdkTransport)
        return self.transport.runtime
