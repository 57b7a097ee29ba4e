"""The Zoho CRM adapter: read accounts, write crmqual's outputs back, provision its output
fields, create follow-up Tasks, check a connection.

Configured only by a ``ZohoConnection`` (data centre or base URLs, credentials, limits); see
``config``. Describe, server time, reads and writes go through a transport (``transport``:
``rest`` by default, ``sdk`` for ``transport: sdk``); provisioning (``fields``), ``crmqual
check`` (``check``) and follow-up Tasks (``tasks``) always go through the REST API
(``api``, with ``auth`` for tokens and ``errors`` for Zoho's error table).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import requests

from crmqual.adapters.zoho import layouts
from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.bulk import ZohoBulk
from crmqual.adapters.zoho.check import run_check
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.adapters.zoho.fields import RESERVED, ZohoField, append_values, create
from crmqual.adapters.zoho.rest import RestTransport
from crmqual.adapters.zoho.tasks import ZohoTasks
from crmqual.adapters.zoho.transport import TransportFactory, ZohoTransport
from crmqual.contract import (
    API_PROVISIONING,
    Adapter,
    Capabilities,
    CheckReport,
    FieldSpec,
    FollowUp,
    Limits,
    MappingItems,
    Note,
    ProvisionPlan,
    ProvisionStep,
    ReadQuery,
    RecordResult,
    StepKind,
)
from crmqual.errors import ApiError, AuthError, WriteNotAllowedError
from crmqual.http import HttpSettings


def transport_of(connection: ZohoConnection) -> TransportFactory:
    """The transport ``connection.transport`` names (zcrmsdk is imported only for ``sdk``)."""
    if connection.transport == "sdk":
        from crmqual.adapters.zoho.sdk import SdkTransport

        return SdkTransport
    return RestTransport


class ZohoAdapter(Adapter):
    name = "zoho"
    id_field = "id"
    modified_field = "Modified_Time"

    def __init__(
        self,
        connection: ZohoConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: TransportFactory | None = None,
        settings: HttpSettings | None = None,
    ) -> None:
        """``sleep`` spends every wait (retry backoff, bulk job polls); ``settings`` replace
        the HTTP settings the connection gives (timeouts, attempts, backoff)."""
        self.connection = connection
        self.module = connection.module
        self.object_name = connection.module
        self.api = ZohoApi(connection, session=session, sleep=sleep, settings=settings)
        super().__init__(self.api.http.counter)
        self.transport: ZohoTransport = (transport or transport_of(connection))(
            self.api, connection, sleep
        )
        placing = {StepKind.PLACE_ON_LAYOUT} if connection.layouts.place else set()
        self.capabilities = Capabilities(
            bulk_read=self.transport.bulk_read,
            bulk_write=self.transport.bulk_write,
            followups=True,  # Tasks go through the REST API whatever the transport
            provisioning=API_PROVISIONING | placing,
        )
        self._notes: list[Note] = []

    def record_url(self, account_id: str) -> str | None:
        web = self.connection.web_url
        if web is None:
            return None
        return f"{web}/crm/tab/{quote(self.module, safe='')}/{quote(account_id, safe='')}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.connection.token_url!r}, module={self.module!r}, "
            f"transport={self.transport!r})"
        )

    def close(self) -> None:
        """Release what the transport holds (the SDK's private folder)."""
        self.transport.close()

    @property
    def _fields(self) -> Mapping[str, ZohoField] | None:
        """The fields the last describe found (the transport's)."""
        return self.transport.fields

    @property
    def _bulk(self) -> ZohoBulk:
        """The REST transport's bulk choice and job waits (AttributeError on another)."""
        if not isinstance(self.transport, RestTransport):
            raise AttributeError(f"no bulk path through {self.transport!r}")
        return self.transport.bulk

    # -- what the CRM is ------------------------------------------------------------------------
    def limits(self) -> Limits:
        lim = self.connection.limits
        return Limits(write_batch=lim.write_batch, ids_per_read=lim.ids_per_call)

    @property
    def credits_remaining(self) -> int | None:
        """Zoho's ``X-API-CREDITS-REMAINING`` of the last answer (None: not reported, which
        Zoho does while less than half of the window's credits are used)."""
        return self.api.credits_remaining

    def quota_left(self) -> int | None:
        return self.credits_remaining

    @property
    def calls_by_endpoint(self) -> dict[str, int]:
        return dict(self.api.http.counter.by_endpoint)

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-record list call made for it."""
        return self.transport.server_time()

    def describe(self) -> dict[str, FieldSpec]:
        return {name: f.spec for name, f in self.transport.describe().items()}

    # -- reading and writing ----------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        yield from self.transport.read(query)

    def expected(self, query: ReadQuery) -> int | None:
        return self.transport.expected(query)

    def write_batch_for(self, queued: int) -> int:
        return self.transport.write_batch_for(queued)

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        for record_id, values in updates:
            reserved = RESERVED & set(values)
            if reserved:
                raise WriteNotAllowedError(
                    f"record {record_id}: crmqual never writes Zoho's own {sorted(reserved)}"
                )
        return self.transport.write(updates)

    # -- provisioning (REST) ----------------------------------------------------------------------
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
        if StepKind.PLACE_ON_LAYOUT in self.capabilities.provisioning:
            self._plan_layouts(plan, wanted)
        return plan

    def provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        self._notes = []
        plan = super().provision(wanted)
        plan.notes += self._notes
        return plan

    # -- layouts (REST) ---------------------------------------------------------------------------
    @property
    def _section_labels(self) -> list[str]:
        """The labels crmqual's section goes by: the Chinese one first where asked for."""
        settings = self.connection.layouts
        if self.connection.chinese_labels == "label":
            return [settings.section_zh, settings.section]
        return [settings.section, settings.section_zh]

    def _field_ids(self) -> dict[str, str]:
        return {name: f.field_id for name, f in (self._fields or {}).items() if f.field_id}

    def _target_layouts(self) -> tuple[list[layouts.Layout], list[str]]:
        """(the layouts to place on, configured names no layout has); AuthError without the
        layouts scope."""
        found = layouts.read_layouts(self.api, self.module)
        return layouts.chosen(found, self.connection.layouts.names)

    def _plan_layouts(self, plan: ProvisionPlan, wanted: Sequence[FieldSpec]) -> None:
        try:
            targets, unknown = self._target_layouts()
        except AuthError as exc:
            if exc.code != "OAUTH_SCOPE_MISMATCH":
                raise
            plan.notes.append(_no_layout_scope(layouts.READ_SCOPE))
            return
        for name in unknown:
            plan.conflicts.append(f"layouts.names: {self.module} has no layout {name!r}")
        labels = self._section_labels
        for placement in layouts.placements(targets, wanted, self._field_ids(), labels):
            section = placement.section.label if placement.section else labels[0]
            for spec in placement.fields:
                detail = f"layout {placement.layout.name}, section “{section}”"
                plan.steps.append(
                    ProvisionStep(
                        StepKind.PLACE_ON_LAYOUT,
                        spec,
                        detail=detail,
                        place=placement.layout.name,
                    )
                )

    def _place_on_layout(self, specs: Sequence[FieldSpec]) -> None:
        """Place the fields (one step per field and layout: each field once) on the layouts
        that lack them."""
        specs = list({spec.api_name: spec for spec in specs}.values())
        self.describe()  # the ids of the fields just created
        ids, labels = self._field_ids(), self._section_labels
        targets, _ = self._target_layouts()
        for placement in layouts.placements(targets, specs, ids, labels):
            try:
                layouts.place(
                    self.api,
                    self.module,
                    placement,
                    ids,
                    labels,
                    self.connection.limits.layout_fields_per_request,
                )
            except AuthError as exc:
                if exc.code != "OAUTH_SCOPE_MISMATCH":
                    raise
                self._notes.append(_no_layout_scope(layouts.UPDATE_SCOPE))
                return

    def unplace(self, dry_run: bool = False) -> list[Note]:
        targets, _ = self._target_layouts()
        done = []
        for layout in targets:
            section = layout.section(self._section_labels)
            if section is None:
                continue
            if not dry_run:
                layouts.remove(self.api, self.module, layout, section)
            done.append(
                Note(
                    f"layout {layout.name}: section “{section.label}”",
                    f"布局 {layout.name}：分区“{section.label}”",
                )
            )
        return done

    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        self.transport.fields_changed()
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
        self.transport.fields_changed()
        target = (self._fields or {}).get(api_name)
        if target is None or not target.field_id:
            self.describe()
            target = (self._fields or {}).get(api_name)
        if target is None:
            raise ApiError(f"no field {api_name} in {self.module} to append values to")
        append_values(self.api, self.module, target, values)

    # -- follow-ups (REST) ------------------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        """A Task on the account for its owner, unless one carries the event's marker
        (``tasks``); the Task's id."""
        return ZohoTasks(self.api, self.module).ensure(item)

    # -- crmqual check (REST) ---------------------------------------------------------------------
    def check(
        self,
        fields: Sequence[str] = (),
        outputs: Sequence[str] = (),
        mapping_items: MappingItems | None = None,
    ) -> CheckReport:
        """Credentials, read scopes (proven), write scopes (unverified), the mapping's fields
        by API name (``fields``: every native field a read needs; ``outputs``: crmqual's
        output fields); Zoho names its fields itself, so ``mapping_items`` is not used."""
        return run_check(self.api, self.module, fields, outputs, self.connection.layouts.place)


def _no_layout_scope(scope: str) -> Note:
    """Why the fields are not on the layouts, and how to put them there."""
    return Note(
        f"the output fields are not placed on the layouts: the token lacks {scope} (or "
        "ZohoCRM.settings.layouts.ALL); authorise it and run `crmqual provision` again, or "
        "place the fields by hand",
        f"输出字段没有放到布局上：令牌缺少 {scope}（或 ZohoCRM.settings.layouts.ALL）；"
        "授权后再运行 `crmqual provision`，或手动放置这些字段",
    )
