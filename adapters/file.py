"""The file adapter: accounts from CSV/JSONL in, crmqual's outputs to a CSV out.

For CRMs without an API adapter (and for tests): the input file holds native records
(columns as the mapping names them, including the id and modified-time columns); the
output CSV holds the record id and crmqual's output columns, ready for a CRM's import
tool. The truth of what crmqual wrote is an append-only write log beside the output
(``<output>.log.jsonl``): a batch is appended with a single write, so a killed run never
leaves half a batch, and the CSV is rebuilt from the log. Output field types provisioned
for the file are kept in ``<output>.fields.json``; follow-ups in ``<output>.followups.jsonl``.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    CheckItem,
    CheckReport,
    CheckStatus,
    FieldSpec,
    FieldType,
    FollowUp,
    Limits,
    MappingItems,
    ReadProblem,
    ReadQuery,
    RecordResult,
)
from crmqual.errors import CrmUnavailableError, ErrorKind
from crmqual.inputs import InputRow, RowError, csv_header, read_rows
from crmqual.times import parse_time


class FileConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str
    output: str
    page_size: int = 200
    write_batch: int = 100
    #: Seconds to pause before and after each write batch: slows crmqual down where the
    #: output file is picked up by an import job or lives on a slow shared folder.
    write_pause_s: float = 0.0
    #: The input's encoding (utf-8, gb18030, ...); by default detected (BOM, UTF-8, GB18030).
    encoding: str | None = None


class FileAdapter(Adapter):
    name = "file"
    capabilities = Capabilities(followups=True)

    def __init__(
        self,
        connection: FileConnection,
        *,
        id_field: str = "id",
        modified_field: str = "modified_time",
        clock: Callable[[], datetime] | None = None,
        client: str = "crmqual",
    ) -> None:
        super().__init__()
        self._expected: int | None = None  # the records the current read yields
        self.input = Path(connection.input)
        self.output = Path(connection.output)
        self.log_path = self.output.with_name(self.output.name + ".log.jsonl")
        self.fields_path = self.output.with_name(self.output.name + ".fields.json")
        self.followups_path = self.output.with_name(self.output.name + ".followups.jsonl")
        self.connection = connection
        self.id_field = id_field
        self.modified_field = modified_field
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client = client
        #: Rows of the input that are not records, by line, until ``read_problems`` hands them on.
        self._problems: dict[tuple[int, str], ReadProblem] = {}
        self._reported: set[tuple[int, str]] = set()

    # -- crmqual check --------------------------------------------------------------------------
    def check(
        self,
        fields: Sequence[str] = (),
        outputs: Sequence[str] = (),
        mapping_items: MappingItems | None = None,
    ) -> CheckReport:
        """The generic check, and that the output file's folder is writable."""
        report = super().check(fields, outputs, mapping_items)
        folder = self.output.resolve().parent
        writable = folder.is_dir() and os.access(folder, os.W_OK)
        report.items.insert(
            1,
            CheckItem(
                "output location",
                CheckStatus.OK if writable else CheckStatus.FAILED,
                str(folder) if writable else f"{folder} is not a writable folder",
                ErrorKind.CONFIG,
                "" if writable else f"{folder} 不是可写的文件夹",
            ),
        )
        return report

    # -- what the CRM is ----------------------------------------------------------------------
    def limits(self) -> Limits:
        return Limits(write_batch=self.connection.write_batch)

    def server_time(self) -> datetime:
        return self._clock()

    def describe(self) -> dict[str, FieldSpec]:
        fields = {name: FieldSpec(name, FieldType.TEXT, name) for name in self._input_columns()}
        for spec in self._output_specs():
            fields[spec.api_name] = spec
        return fields

    def _input_columns(self) -> list[str]:
        if not self.input.exists():
            raise CrmUnavailableError(f"{self.input}: input file not found")
        if self.input.suffix.lower() not in (".jsonl", ".ndjson", ".json"):
            return csv_header(str(self.input), self.connection.encoding)
        columns: dict[str, None] = {}
        for _, _, row in self._rows():
            if isinstance(row, dict):
                columns.update(dict.fromkeys(row))
        return list(columns)

    def _rows(self) -> Iterator[InputRow]:
        return read_rows(str(self.input), self.connection.encoding, self.id_field)

    def read_problems(self) -> list[ReadProblem]:
        fresh = [p for key, p in self._problems.items() if key not in self._reported]
        self._reported.update(self._problems)
        return fresh

    def _output_specs(self) -> list[FieldSpec]:
        if not self.fields_path.exists():
            return []
        raw = json.loads(self.fields_path.read_text("utf-8"))
        return [
            FieldSpec(
                s["api_name"],
                FieldType(s["type"]),
                s["label"],
                tuple(s.get("picklist", ())),
                s.get("label_zh"),
                s.get("length"),
            )
            for s in raw
        ]

    # -- reading ------------------------------------------------------------------------------
    def log_entries(self) -> list[dict[str, Any]]:
        """The write log's complete entries, oldest first.

        A line without its newline is a write still in progress (or cut off by a crash
        before it finished): it is not part of the log.
        """
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(encoding="utf-8")
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Current output values per record id, replayed from the write log."""
        current: dict[str, dict[str, Any]] = {}
        for entry in self.log_entries():
            current.setdefault(entry["id"], {}).update(entry["values"])
        return current

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        self.calls.add("read")
        outputs = self.outputs()
        wanted_ids = None if query.ids is None else set(query.ids)
        records = []
        for number, line, row in self._rows():
            if isinstance(row, RowError):
                what = "; ".join(p.reason for p in row.problems)
                self._problems.setdefault(
                    (line, what),
                    ReadProblem(
                        row.record_id, f"{self.input.name} row {number} (line {line})", what
                    ),
                )
                continue
            record_id = str(row.get(self.id_field) or "").strip()
            if not record_id:
                where = f"{self.input.name} row {number} (line {line})"
                self._problems.setdefault((line, "no id"), ReadProblem("", where, "no id"))
                continue
            if wanted_ids is not None and record_id not in wanted_ids:
                continue
            if not all(rule.matches(row) for rule in query.filters):
                continue
            modified = parse_time(row.get(self.modified_field))
            if query.since is not None and (modified is None or modified < query.since):
                continue
            record = dict(row) | outputs.get(record_id, {})
            records.append((modified or datetime.min.replace(tzinfo=UTC), record_id, record))
        records.sort(key=lambda r: (r[0], r[1]))
        self._expected = len(records) if query.ids is None else None
        size = self.connection.page_size
        for start in range(0, len(records), size):
            yield [record for _, _, record in records[start : start + size]]

    def expected(self, query: ReadQuery) -> int | None:
        """The records the current full or incremental read yields (known once it began)."""
        return self._expected if query.ids is None else None

    # -- writing ------------------------------------------------------------------------------
    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        self.calls.add("write")
        time.sleep(self.connection.write_pause_s)
        known = {spec.api_name for spec in self._output_specs()}
        results, entries = [], []
        for record_id, values in updates:
            unknown = sorted(set(values) - known)
            if unknown:
                results.append(
                    RecordResult(record_id, False, "INVALID_FIELD", "no such field", unknown[0])
                )
                continue
            entries.append({"id": record_id, "values": dict(values), "client": self._client})
            results.append(RecordResult(record_id, True))
        self.append_log(entries)
        time.sleep(self.connection.write_pause_s)
        return results

    def append_log(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Append entries with one write (all or nothing under a kill), then refresh the CSV."""
        if entries:
            at = self._clock().isoformat()
            data = "".join(json.dumps({"at": at} | dict(e), default=str) + "\n" for e in entries)
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        self._rewrite_csv()

    def _rewrite_csv(self) -> None:
        columns = [self.id_field] + [spec.api_name for spec in self._output_specs()]
        outputs = self.outputs()
        fd, tmp = tempfile.mkstemp(dir=self.output.parent, prefix=".crmqual-", suffix=".csv")
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for record_id in sorted(outputs):
                row = {k: _cell(v) for k, v in outputs[record_id].items()}
                writer.writerow({self.id_field: record_id} | row)
        os.replace(tmp, self.output)

    # -- provisioning -------------------------------------------------------------------------
    def _create_fields(self, specs: Sequence[FieldSpec]) -> None:
        self._save_specs(self._output_specs() + list(specs))

    def _append_picklist_values(self, api_name: str, values: Sequence[str]) -> None:
        specs = [
            FieldSpec(s.api_name, s.type, s.label, s.picklist + tuple(values), s.label_zh, s.length)
            if s.api_name == api_name
            else s
            for s in self._output_specs()
        ]
        self._save_specs(specs)

    def _save_specs(self, specs: list[FieldSpec]) -> None:
        self.fields_path.write_text(
            json.dumps([asdict(s) for s in specs], ensure_ascii=False, indent=1), "utf-8"
        )
        self._rewrite_csv()

    # -- follow-ups ---------------------------------------------------------------------------
    def create_followup(self, item: FollowUp) -> str:
        existing = self.followups()
        if item.event_id in existing:
            return existing[item.event_id]
        ref = f"followup-{item.event_id}"
        line = json.dumps(asdict(item) | {"ref": ref}, ensure_ascii=False) + "\n"
        with self.followups_path.open("a", encoding="utf-8") as f:
            f.write(line)
        return ref

    def followups(self) -> dict[str, str]:
        if not self.followups_path.exists():
            return {}
        items = [json.loads(line) for line in self.followups_path.read_text("utf-8").splitlines()]
        return {i["event_id"]: i["ref"] for i in items if i}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _build(connection: FileConnection, context: BuildContext) -> FileAdapter:
    connection = connection.model_copy(
        update={
            "input": str(context.path(connection.input)),
            "output": str(context.path(connection.output)),
        }
    )
    return FileAdapter(connection, id_field=context.id_field, modified_field=context.modified_field)


PLUGIN = AdapterPlugin(
    name="file",
    connection_model=FileConnection,
    build=_build,
    init_template=resources.files("crmqual.data").joinpath("init_file.yaml"),
    mapping=resources.files("crmqual.mappings").joinpath("file.yaml"),
    summary="a CSV or JSONL file in, a CSV of outputs for a CRM's import tool out",
)
