"""The Fxiaoke (纷享销客) adapter: read customers (``AccountObj``), write crmqual's outputs
back one record per call, list the output fields for the admin to create in the console (the
API cannot create fields), create follow-ups, check a connection.

Configured only by a ``FxiaokeConnection`` (``config``); calls go through ``api`` (with
``auth`` for both token modes and ``errors`` for the envelope), ``read`` pages, ``write``
updates, ``fields`` describes and converts values, ``followups`` makes 销售记录.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import requests

from crmqual.adapters.fxiaoke.api import QUERY, FxiaokeApi
from crmqual.adapters.fxiaoke.config import FxiaokeConnection
from crmqual.adapters.fxiaoke.fields import CONSOLE_TYPES, FxField, describe
from crmqual.adapters.fxiaoke.followups import FxiaokeFollowupMaker
from crmqual.adapters.fxiaoke.read import FxiaokeReader
from crmqual.adapters.fxiaoke.write import FxiaokeWriter
from crmqual.contract import (
    Adapter,
    Capabilities,
    FieldSpec,
    FollowUp,
    Limits,
    ProvisionPlan,
    ProvisionStep,
    ReadQuery,
    RecordResult,
    StepKind,
)
from crmqual.errors import ApiError
from crmqual.http import HttpSettings

#: The layout section the admin puts crmqual's fields in (the console's 布局 screen).
SECTION_ZH, SECTION_EN = "信用与资质", "Credit and qualification"
SECTION = f"{SECTION_ZH} ({SECTION_EN})"


class FxiaokeAdapter(Adapter):
    name = "fxiaoke"
    id_field = "_id"
    modified_field = "last_modified_time"
    capabilities = Capabilities(followups=True, provisioning=frozenset({StepKind.MANUAL}))

    def __init__(
        self,
        connection: FxiaokeConnection,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        settings: HttpSettings | None = None,
    ) -> None:
        """``sleep`` spends every wait (rate limit, retry backoff), ``clock`` times tokens
        and the rate limit; ``settings`` replace the connection's HTTP settings."""
        self.connection = connection
        self.object_name = connection.object
        self.api = FxiaokeApi(
            connection, session=session, sleep=sleep, clock=clock, settings=settings
        )
        super().__init__(self.api.http.counter)
        self._fields: dict[str, FxField] | None = None
        self.reader = FxiaokeReader(self.api, connection.object, connection.limits, self.fields)
        self.writer = FxiaokeWriter(self.api, connection.object, self.fields)
        self.followups = FxiaokeFollowupMaker(self.api, connection.object, connection.followups)

    def __repr__(self) -> str:
        return f"FxiaokeAdapter({self.connection.base_url!r}, mode={self.connection.token_mode!r})"

    def fields(self) -> dict[str, FxField]:
        """The object's fields as last described (described once per adapter, on first use)."""
        if self._fields is None:
            self._fields = describe(self.api, self.connection.object)
        return self._fields

    # -- what the CRM is ------------------------------------------------------------------------
    def limits(self) -> Limits:
        size = self.connection.limits.page_size
        return Limits(write_batch=size, ids_per_read=size)

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-record query made for it."""
        recent = self.api.server_time()
        if recent is not None:
            return recent
        info = {"limit": 1, "offset": 0, "fieldProjection": ["_id"]}
        self.api.call(
            QUERY,
            {
                "dataObjectApiName": self.connection.object,
                "find_explicit_total_num": False,
                "search_query_info": info,
            },
        )
        recent = self.api.server_time()
        if recent is None:
            raise ApiError("Fxiaoke's answer carried no Date header: the server time is unknown")
        return recent

    def describe(self) -> dict[str, FieldSpec]:
        """The fields as described once per adapter (a command): resolving labels, checking
        the mapping and reading all use the same answer. Fields are made by hand in the
        console, never by crmqual, so nothing a command does changes them."""
        return {name: f.spec for name, f in self.fields().items()}

    # -- reading and writing ----------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        yield from self.reader.read(query)

    def expected(self, query: ReadQuery) -> int | None:
        return self.reader.total if query.ids is None else None

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        return [self.writer.write_one(record_id, values) for record_id, values in updates]

    # -- provisioning: the admin's list -----------------------------------------------------------
    def plan_provision(self, wanted: Sequence[FieldSpec]) -> ProvisionPlan:
        """The base plan, every step MANUAL (the open API creates no fields, fxiaoke.md 5),
        each saying what to pick in the console and where to put it."""
        plan = super().plan_provision(wanted)
        plan.steps = [_console_step(step) for step in plan.steps]
        return plan

    # -- follow-ups -------------------------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        return self.followups.ensure(item)


def console_type(spec: FieldSpec) -> tuple[str, str]:
    """(the console's Chinese name, Fxiaoke's type) of the field to create for ``spec``."""
    return CONSOLE_TYPES[spec.type]


def _console_step(step: ProvisionStep) -> ProvisionStep:
    if step.kind != StepKind.MANUAL:
        return step
    zh, native = console_type(step.field)
    if step.values and step.field.api_name:  # an existing select field lacking options
        values = ", ".join(step.values)
        detail = f"按此顺序添加选项 {values} / add the options {values} in this order"
    else:  # the admin reads Chinese first; the English for a console set to English
        detail = (
            f"在后台新建“{zh}”字段（{native}），放在“{SECTION_ZH}”分区 / create it in the "
            f"console as {native}, in the section “{SECTION_EN}”"
        )
    return ProvisionStep(StepKind.MANUAL, step.field, step.values, detail, SECTION, native)
