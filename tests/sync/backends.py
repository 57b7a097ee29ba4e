"""Backends of the contract suite for the file adapter and the in-memory CRM."""

from __future__ import annotations

import csv
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crmqual.adapters.file import FileAdapter, FileConnection
from crmqual.adapters.memory import MemoryAdapter, MemoryCrm
from crmqual.contract import Adapter, FieldSpec
from crmqual.contract_suite import LoggedWrite
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy

MAPPING, _ = load_mapping(None, "file")
OUTPUT_FIELDS: list[FieldSpec] = wanted_fields(MAPPING, load_policy())


def now() -> str:
    return datetime.now(UTC).isoformat()


class MemoryBackend:
    id_field = "id"
    modified_field = "modified_time"
    output_fields = OUTPUT_FIELDS

    def __init__(self, crm: MemoryCrm | None = None) -> None:
        self.crm = crm or MemoryCrm()
        self._next = 0

    def adapter(self) -> Adapter:
        return MemoryAdapter(self.crm)

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        rows = []
        for r in records:
            self._next += 1
            rows.append({"id": r.get("id", f"M{self._next:05d}")} | dict(r))
        self.crm.load(rows)
        return [str(r["id"]) for r in rows]

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self.crm.edit(record_id, changes)

    def write_log(self) -> list[LoggedWrite]:
        return [
            LoggedWrite(e.record_id, {k: v for k, (_, v) in e.changes.items()}, e.client)
            for e in self.crm.log
        ]

    def native_name(self, model_field: str) -> str:
        return model_field

    def sync_command(self, *args: str) -> list[str]:
        raise RuntimeError("the in-memory CRM lives in the test process: no subprocess")


class FileBackend:
    """CSV accounts in a folder, a crmqual.yaml for them, a state store beside them."""

    id_field = "id"
    modified_field = "modified_time"
    output_fields = OUTPUT_FIELDS

    def __init__(
        self,
        folder: Path,
        *,
        state_url: str | None = None,
        page_size: int = 10,
        write_batch: int = 5,
        write_pause_s: float = 0.0,
        followups: bool = False,
    ) -> None:
        self.folder = folder
        self.input = folder / "accounts.csv"
        self.output = folder / "outputs.csv"
        self.connection = FileConnection(
            input=str(self.input),
            output=str(self.output),
            page_size=page_size,
            write_batch=write_batch,
            write_pause_s=write_pause_s,
        )
        self.records: dict[str, dict[str, Any]] = {}
        self._next = 0
        self.config = folder / "crmqual.yaml"
        config = {
            "crm": "file",
            "target": "file-test",
            "connection": self.connection.model_dump(),
            "state": state_url or f"sqlite:///{folder / 'state.sqlite'}",
            "sync": {"followups": followups},
        }
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        self._save()

    def adapter(self) -> Adapter:
        return FileAdapter(self.connection)

    def _save(self) -> None:
        columns: dict[str, None] = {"id": None, "modified_time": None}
        for r in self.records.values():
            columns.update(dict.fromkeys(r))
        with self.input.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(columns))
            writer.writeheader()
            for r in self.records.values():
                writer.writerow(r)

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        ids = []
        for r in records:
            self._next += 1
            record_id = str(r.get("id", f"F{self._next:05d}"))
            self.records[record_id] = {"id": record_id, "modified_time": now()} | dict(r)
            ids.append(record_id)
        self._save()
        return ids

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        outputs = {f.api_name for f in OUTPUT_FIELDS}
        mine = {k: v for k, v in changes.items() if k in outputs}
        if mine:
            FileAdapter(self.connection, client="person").append_log(
                [{"id": record_id, "values": mine, "client": "person"}]
            )
        rest = {k: v for k, v in changes.items() if k not in outputs}
        if rest:
            self.records[record_id].update(rest)
            self.records[record_id]["modified_time"] = now()
            self._save()

    def write_log(self) -> list[LoggedWrite]:
        entries = FileAdapter(self.connection).log_entries()
        return [LoggedWrite(e["id"], e["values"], e["client"]) for e in entries]

    def native_name(self, model_field: str) -> str:
        return model_field

    def sync_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "crmqual", *args, "-c", str(self.config)]
