"""An in-memory CRM behind the adapter contract, for the sync engine's own tests.

It behaves like a CRM with an API where it matters to the sync: crmqual's outputs live in
the same records as the inputs, every write moves the record's modified time (our own
writes included), ids are strings, fields have types, and a write can fail for one
record and succeed for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crmqual.contract import (
    Adapter,
    AdapterPlugin,
    BuildContext,
    Capabilities,
    FieldSpec,
    FieldType,
    FollowUp,
    Limits,
    ReadQuery,
    RecordResult,
)


@dataclass
class WriteEntry:
    record_id: str
    changes: dict[str, tuple[Any, Any]]
    client: str
    at: datetime


@dataclass
class MemoryCrm:
    """The CRM's data, shared by every adapter opened on it (like a real org)."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    log: list[WriteEntry] = field(default_factory=list)
    followups: dict[str, FollowUp] = field(default_factory=dict)
    #: record id -> (code, message): writes to these records fail.
    reject: dict[str, tuple[str, str]] = field(default_factory=dict)
    modified_field: str = "modified_time"

    def load(self, records: Sequence[Mapping[str, Any]], id_field: str = "id") -> None:
        self.fields.setdefault(
            self.modified_field, FieldSpec(self.modified_field, FieldType.DATETIME, "Modified")
        )
        for r in records:
            for name in r:
                self.fields.setdefault(name, FieldSpec(name, FieldType.TEXT, name))
            self.records[str(r[id_field])] = dict(r) | {self.modified_field: self._now()}

    def edit(self, record_id: str, changes: Mapping[str, Any], client: str = "person") -> None:
        """Change fields as a person (or another integration) would."""
        record = self.records[record_id]
        self.log.append(
            WriteEntry(
                record_id, {k: (record.get(k), v) for k, v in changes.items()}, client, self.clock()
            )
        )
        record.update(changes)
        record[self.modified_field] = self._now()

    def add_field(self, spec: FieldSpec) -> str:
        """Create a field as an admin does in a console that names fields itself."""
        api_name = f"field_{len(self.fields) + 1:03d}__c"
        self.fields[api_name] = FieldSpec(
            api_name, spec.type, spec.label, spec.picklist, spec.label_zh, spec.length
        )
        return api_name

    def _now(self) -> str:
        return self.clock().isoformat()


class MemoryAdapter(Adapter):
    name = "memory"
    capabilities = Capabilities(followups=True)

    def __init__(
        self,
        crm: MemoryCrm,
        *,
        page_size: int = 3,
        write_batch: int = 2,
        manual_fields: bool = False,
    ) -> None:
        super().__init__()
        if manual_fields:  # like a CRM whose API cannot create fields (Fxiaoke)
            self.capabilities = Capabilities(followups=True, provisioning=frozenset())
        self.crm = crm
        self.modified_field = crm.modified_field
        self.page_size = page_size
        self._limits = Limits(write_batch=write_batch)

    def limits(self) -> Limits:
        return self._limits

    def server_time(self) -> datetime:
        return self.crm.clock()

    def describe(self) -> dict[str, FieldSpec]:
        self.calls.add("describe")
        return dict(self.crm.fields)

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        picked = []
        for record_id, record in self.crm.records.items():
            if query.ids is not None and record_id not in query.ids:
                continue
            if not all(rule.matches(record) for rule in query.filters):
                continue
            modified = datetime.fromisoformat(record[self.modified_field])
            if query.since is not None and modified < query.since:
                continue
            picked.append((modified, record_id, {f: record.get(f) for f in query.fields}))
        picked.sort(key=lambda p: (p[0], p[1]))
        size = self.page_size
        for start in range(0, len(picked), size):
            self.calls.add("read")
            yield [dict(r, id=rid) for _, rid, r in picked[start : start + size]]

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        self.calls.add("write")
        results = []
        for record_id, values in updates:
            if record_id not in self.crm.records:
                results.append(RecordResult(record_id, False, "INVALID_DATA", "no such record"))
            elif record_id in self.crm.reject:
                code, message = self.crm.reject[record_id]
                results.append(RecordResult(record_id, False, code, message))
            else:
                self.crm.edit(record_id, values, client="crmqual")
                results.append(RecordResult(record_id, True))
        return results

    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        for spec in specs:
            self.crm.fields[spec.api_name] = spec

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        spec = self.crm.fields[api_name]
        self.crm.fields[api_name] = FieldSpec(
            spec.api_name, spec.type, spec.label, spec.picklist + tuple(values), spec.label_zh
        )

    def create_followup(self, item: FollowUp) -> str:
        self.crm.followups.setdefault(item.event_id, item)
        return f"task-{item.event_id}"


class MemoryConnection(BaseModel):
    """``crm: memory`` (tests only): an org of ``ORGS`` in this process, made on first use."""

    model_config = ConfigDict(extra="forbid")

    org: str = "default"
    page_size: int = Field(default=3, ge=1)
    write_batch: int = Field(default=2, ge=1)
    #: Behave like a CRM whose API cannot create fields: provisioning is a manual list.
    manual_fields: bool = False


#: The in-memory orgs of this process, by name, shared by every adapter opened on them.
ORGS: dict[str, MemoryCrm] = {}


def _build(connection: MemoryConnection, context: BuildContext) -> MemoryAdapter:
    crm = ORGS.setdefault(connection.org, MemoryCrm())
    return MemoryAdapter(
        crm,
        page_size=connection.page_size,
        write_batch=connection.write_batch,
        manual_fields=connection.manual_fields,
    )


PLUGIN = AdapterPlugin(
    name="memory",
    connection_model=MemoryConnection,
    build=_build,
    init_template=resources.files("crmqual.data").joinpath("init_memory.yaml"),
    summary="an in-memory CRM for tests (nothing is kept after the process ends)",
)
