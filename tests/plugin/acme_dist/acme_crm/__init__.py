"""ACME CRM: an adapter crmqual does not ship, as a third party would write one.

It lives in its own distribution (``crmqual-acme``), imports only crmqual's public contract
and joins through the ``crmqual.adapters`` entry-point group; the tests install it next to
crmqual and run every command on it with no change to crmqual. The "CRM" is one JSON file
(accounts, field definitions, a write log and follow-up tasks) so that separate processes
share it, as they would share a real org.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

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
from crmqual.errors import CrmUnavailableError


class AcmeConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str
    page_size: int = 4
    write_batch: int = 3


class AcmeOrg:
    """The org's JSON file: read whole, changed, written back."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        if not self.path.is_file():
            raise CrmUnavailableError(f"ACME org file {self.path} not found")
        data: dict[str, Any] = json.loads(self.path.read_text("utf-8"))
        return data

    def save(self, data: Mapping[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(self.path)

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).isoformat()

    def create(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        data = self.load() if self.path.is_file() else {"fields": {}, "records": {}}
        data.setdefault("log", [])
        data.setdefault("tasks", {})
        ids = []
        for values in records:
            record_id = f"ACME-{len(data['records']) + 1:04d}"
            data["records"][record_id] = dict(values) | {"Id": record_id, "Changed": self.now()}
            for name in values:
                data["fields"].setdefault(name, {"type": "text", "label": name})
            ids.append(record_id)
        for name, kind in (("Id", "text"), ("Changed", "datetime")):
            data["fields"].setdefault(name, {"type": kind, "label": name})
        self.save(data)
        return ids

    def edit(self, record_id: str, changes: Mapping[str, Any], client: str) -> None:
        data = self.load()
        data["records"][record_id].update(changes)
        data["records"][record_id]["Changed"] = self.now()
        data["log"].append({"id": record_id, "fields": dict(changes), "client": client})
        self.save(data)


class AcmeAdapter(Adapter):
    name = "acme"
    object_name = "Companies"
    id_field = "Id"
    modified_field = "Changed"
    capabilities = Capabilities(followups=True)

    def __init__(self, connection: AcmeConnection) -> None:
        super().__init__()
        self.connection = connection
        self.org = AcmeOrg(Path(connection.store))

    def limits(self) -> Limits:
        return Limits(write_batch=self.connection.write_batch, ids_per_read=5)

    def server_time(self) -> datetime:
        return datetime.now(UTC)

    def describe(self) -> dict[str, FieldSpec]:
        self.calls.add("describe")
        fields = self.org.load()["fields"]
        return {
            name: FieldSpec(name, FieldType(f["type"]), f["label"], tuple(f.get("values", ())))
            for name, f in fields.items()
        }

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        self.calls.add("read")
        records = self.org.load()["records"]
        picked = []
        for record_id, record in records.items():
            if query.ids is not None and record_id not in query.ids:
                continue
            if not all(rule.matches(record) for rule in query.filters):
                continue
            changed = datetime.fromisoformat(record["Changed"])
            if query.since is not None and changed < query.since:
                continue
            picked.append((changed, record_id, {f: record.get(f) for f in query.fields}))
        picked.sort(key=lambda p: (p[0], p[1]))
        size = self.connection.page_size
        for start in range(0, len(picked), size):
            yield [r | {"Id": rid} for _, rid, r in picked[start : start + size]]

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        self.calls.add("write")
        data = self.org.load()
        results = []
        for record_id, values in updates:
            if record_id not in data["records"]:
                results.append(RecordResult(record_id, False, "NOT_FOUND", "no such company"))
                continue
            data["records"][record_id].update(values)
            data["records"][record_id]["Changed"] = self.org.now()
            data["log"].append({"id": record_id, "fields": dict(values), "client": "crmqual"})
            results.append(RecordResult(record_id, True))
        self.org.save(data)
        return results

    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        data = self.org.load()
        for spec in specs:
            data["fields"][spec.api_name] = {
                "type": spec.type.value,
                "label": spec.label,
                "values": list(spec.picklist),
            }
        self.org.save(data)

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        data = self.org.load()
        data["fields"][api_name]["values"] += list(values)
        self.org.save(data)

    def create_followup(self, item: FollowUp) -> str:
        data = self.org.load()
        data["tasks"].setdefault(item.event_id, asdict(item))
        self.org.save(data)
        return f"task-{item.event_id}"


def _build(connection: AcmeConnection, context: BuildContext) -> AcmeAdapter:
    store = str(context.path(connection.store))
    return AcmeAdapter(connection.model_copy(update={"store": store}))


PLUGIN = AdapterPlugin(
    name="acme",
    connection_model=AcmeConnection,
    build=_build,
    init_template=resources.files(__name__).joinpath("init.yaml"),
    mapping=resources.files(__name__).joinpath("mapping.yaml"),
    summary="ACME CRM's Companies (a third-party adapter)",
)
