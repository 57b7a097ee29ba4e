"""The Zoho CRM adapter (REST API v8): read accounts, write crmqual's outputs back, provision
its output fields, check a connection.

Configured only by a ``ZohoConnection`` (data centre or base URLs, credentials, limits); see
``zoho_config``. The pieces: ``zoho_auth`` (OAuth), ``zoho_api`` (calls, errors, credits,
server time), ``zoho_read`` (paging), ``zoho_fields`` (metadata), ``zoho_check``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from importlib import resources
from typing import Any

import requests

from crmqual.adapters.zoho_api import ZohoApi
from crmqual.adapters.zoho_bulk import ZohoBulk, ZohoBulkReader
from crmqual.adapters.zoho_check import run_check
from crmqual.adapters.zoho_config import ZohoConnection
from crmqual.adapters.zoho_fields import RESERVED, ZohoField, append_values, create, describe
from crmqual.adapters.zoho_read import chunks
from crmqual.adapters.zoho_tasks import ZohoTasks
from crmqual.contract import (
    Adapter,
    AdapterPlugin,
    BuildContext,
    Capabilities,
    CheckReport,
    FieldSpec,
    FollowUp,
    Limits,
    MappingItems,
    ProvisionPlan,
    ReadQuery,
    RecordResult,
)
from crmqual.errors import ApiError, WriteNotAllowedError


class ZohoAdapter(Adapter):
    name = "zoho"
    id_field = "id"
    modified_field = "Modified_Time"
    capabilities = Capabilities(bulk_read=True, bulk_write=True, followups=True)

    def __init__(
        self,
        connection: ZohoConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connection = connection
        self.module = connection.module
        self.object_name = connection.module
        self.api = ZohoApi(connection, session=session, sleep=sleep)
        super().__init__(self.api.http.counter)
        self._sleep = sleep
        self._bulk = ZohoBulk(self.api, connection, described=lambda: self._fields, sleep=sleep)
        self._reader = ZohoBulkReader(self.api, self.module, connection.limits, self._bulk)
        self._fields: dict[str, ZohoField] | None = None

    def __repr__(self) -> str:
        return f"ZohoAdapter({self.connection.token_url!r}, module={self.module!r})"

    # -- what the CRM is ------------------------------------------------------------------------
    def limits(self) -> Limits:
        lim = self.connection.limits
        return Limits(write_batch=lim.write_batch, ids_per_read=lim.ids_per_call)

    @property
    def credits_remaining(self) -> int | None:
        """Zoho's ``X-API-CREDITS-REMAINING`` of the last answer (None: not reported, which
        Zoho does while less than half of the window's credits are used)."""
        return self.api.credits_remaining

    @property
    def calls_by_endpoint(self) -> dict[str, int]:
        return dict(self.api.http.counter.by_endpoint)

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-record list call made for it."""
        recent = self.api.server_time()
        if recent is not None:
            return recent
        answer = self.api.call(
            "GET",
            f"/crm/v8/{self.module}",
            params={"fields": self.modified_field, "per_page": 1},
            endpoint=f"GET /crm/v8/{self.module}",
        )
        header = answer.headers.get("Date")
        if not header:
            raise ApiError("Zoho's answer carried no Date header: the server time is unknown")
        return parsedate_to_datetime(header)

    def describe(self) -> dict[str, FieldSpec]:
        self._fields = describe(self.api, self.module)
        return {name: f.spec for name, f in self._fields.items()}

    # -- reading and writing ----------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        yield from self._reader.read(query)

    def write_batch_for(self, queued: int) -> int:
        """Bulk Write's job size when ``queued`` records make a bulk job cheaper, else 100."""
        return self._bulk.write_batch_for(queued) or self.connection.limits.write_batch

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        for record_id, values in updates:
            reserved = RESERVED & set(values)
            if reserved:
                raise WriteNotAllowedError(
                    f"record {record_id}: crmqual never writes Zoho's own {sorted(reserved)}"
                )
        if self._bulk.wants_write(len(updates)):  # Bulk Write, when it saves credits
            return self._bulk.write(updates, self._put)
        results: list[RecordResult] = []
        for batch in chunks(updates, self.connection.limits.write_batch):
            results += self._put(batch)
        return results

    def _put(self, batch: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
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
        )
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(items, list) or len(items) != len(batch):
            raise ApiError(
                f"Zoho answered a write of {len(batch)} records with "
                f"{len(items) if isinstance(items, list) else 'no'} results (HTTP {answer.status})",
                status=answer.status,
            )
        return [_result(rid, item) for (rid, _), item in zip(batch, items, strict=True)]

    # -- provisioning -----------------------------------------------------------------------------
    def plan_provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        """The base plan, plus Zoho's own conflicts: a reserved field, or a label that another
        field already uses (Zoho refuses a second field with the same label)."""
        plan = super().plan_provision(wanted)
        described = self._fields or {}
        labels = {f.spec.label.strip().lower(): name for name, f in described.items()}
        for spec in list(plan.create):
            clash = labels.get(spec.label.strip().lower())
            if spec.api_name in RESERVED:
                plan.conflicts.append(f"{spec.api_name}: a Zoho field crmqual never writes")
            elif clash is not None:
                plan.conflicts.append(
                    f"{spec.api_name}: the label {spec.label!r} is already used by {clash}"
                )
        return plan

    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        create(
            self.api,
            self.module,
            specs,
            self.connection.chinese_labels,
            self.connection.limits.fields_per_create,
        )
        created = self.describe()
        renamed = [s.api_name for s in specs if s.api_name not in created]
        if renamed:
            raise ApiError(
                f"Zoho created the fields under other API names than {renamed}: read them "
                "with `crmqual provision --dry-run` and set them in the mapping"
            )

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        target = (self._fields or {}).get(api_name)
        if target is None or not target.field_id:
            self.describe()
            target = (self._fields or {}).get(api_name)
        if target is None:
            raise ApiError(f"no field {api_name} in {self.module} to append values to")
        append_values(self.api, self.module, target, values)

    # -- follow-ups ---------------------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        """A Task on the account for its owner, unless one carries the event's marker
        (``zoho_tasks``); the Task's id."""
        tasks = ZohoTasks(self.api, self.module, sleep=self._sleep)
        return tasks.ensure(item)

    # -- crmqual check --------------------------------------------------------------------------
    def check(
        self,
        fields: Sequence[str] = (),
        outputs: Sequence[str] = (),
        mapping_items: MappingItems | None = None,
    ) -> CheckReport:
        """Credentials, read scopes (proven), write scopes (unverified), the mapping's fields
        by API name (``fields``: every native field a read needs; ``outputs``: crmqual's
        output fields); Zoho names its fields itself, so ``mapping_items`` is not used."""
        return run_check(self.api, self.module, fields, outputs)


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


def _build(connection: ZohoConnection, context: BuildContext) -> ZohoAdapter:
    if connection.transport == "sdk":
        from crmqual.adapters.zoho_sdk import ZohoSdkAdapter

        return ZohoSdkAdapter(connection)
    return ZohoAdapter(connection)


PLUGIN = AdapterPlugin(
    name="zoho",
    connection_model=ZohoConnection,
    build=_build,
    init_template=resources.files("crmqual.data").joinpath("init_zoho.yaml"),
    mapping=resources.files("crmqual.mappings").joinpath("zoho.yaml"),
    summary="Zoho CRM's Accounts over REST API v8 (or Zoho's SDK)",
)
