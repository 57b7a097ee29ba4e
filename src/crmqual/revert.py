"""Undoing a run: write back the values a run replaced, unless changed since.

For every record a run wrote, the CRM's current output values are read; where they still
are what the run wrote, the values from before the run go back. A record changed since
(by a person or a later run) is left alone and reported. The revert is itself recorded
as a run, and its writes as rows of the ledger, so the next sync sees its values as crmqual's:
each carries the values put back and, when the ledger still holds the assessment that had
written them, that assessment's outputs, which the next sync compares with.

A run of any size is undone a batch at a time (the adapter's write batch for the run's
size): the batch's rows are paged from the state store, its records read by id, its
restores written, then the next batch. Memory does not grow with the run, and the report
counts everything but lists only the first :data:`LISTED` of each kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmqual.collector import fewer_collections
from crmqual.config import SyncSettings
from crmqual.contract import Adapter, ReadQuery
from crmqual.errors import ConfigError, Problem
from crmqual.mapping import Mapping, changed_fields, outputs_of
from crmqual.runscope import RunScope, run_scope
from crmqual.state import AssessmentIn, RunRecord, StateStore, WriteRow

#: How many restores, records left alone, records not found and failures are listed.
LISTED = 200


@dataclass
class RevertReport:
    """Counts of what a revert did, with the first :data:`LISTED` of each kind."""

    run_id: int
    revert_run_id: int | None = None
    restored: int = 0
    changed_since: int = 0
    missing: int = 0
    failed: int = 0
    #: Field restores: {"id", "field", "from", "to"}.
    writes: list[dict[str, Any]] = field(default_factory=list)
    changed_since_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    #: Records the CRM refused: {"id", "code", "message"}.
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: Some list above stopped at LISTED entries.
    truncated: bool = False

    def note(self, items: list[Any], item: Any) -> None:
        if len(items) < LISTED:
            items.append(item)
        else:
            self.truncated = True


@dataclass(frozen=True)
class _Restore:
    row: WriteRow
    back: dict[str, Any]  # the values from before the run, for the fields that differ now
    current: dict[str, Any]  # the CRM's output values now


def revert_run(
    *,
    adapter: Adapter,
    mapping: Mapping,
    state: StateStore,
    target: str,
    run_id: int,
    dry_run: bool,
    settings: SyncSettings | None = None,
    on_progress: Callable[[RevertReport, int, int], None] | None = None,
) -> RevertReport:
    """Undo run ``run_id``; the revert is a run of its own (from its first write), taking
    over a stale lock after ``settings.lock_stale_minutes`` as a sync does. ``on_progress``
    hears the report, the records examined and how many the run wrote, after each batch."""
    run = state.get_run(run_id)
    if run is None or run.target != target:
        raise ConfigError(
            [
                Problem(
                    "revert",
                    "RUN_ID",
                    f"no run {run_id} for {target} (`crmqual runs` lists them)",
                    zh=f"{target} 没有运行 {run_id}（`crmqual runs` 列出所有运行）",
                )
            ]
        )
    if run.kind == "prune":
        raise ConfigError(
            [
                Problem(
                    "revert",
                    "RUN_ID",
                    f"run {run_id} is a prune: it wrote nothing to the CRM",
                    zh=f"运行 {run_id} 是一次清理（prune）：它没有向 CRM 写入任何内容",
                )
            ]
        )
    revert = _Revert(adapter, mapping, state, run, dry_run, on_progress)
    with (
        fewer_collections(),
        run_scope(
            state,
            target,
            "revert",
            stale_after=timedelta(minutes=(settings or SyncSettings()).lock_stale_minutes),
            policy_version=run.policy_version,
            mapping_hash=mapping.hash,
            record=not dry_run,
            on_end=revert.finish,
        ) as scope,
    ):
        revert.run(scope)
    return revert.report


class _Revert:
    def __init__(
        self,
        adapter: Adapter,
        mapping: Mapping,
        state: StateStore,
        run: RunRecord,
        dry_run: bool,
        on_progress: Callable[[RevertReport, int, int], None] | None = None,
    ) -> None:
        self.adapter, self.mapping, self.state = adapter, mapping, state
        self.on_progress = on_progress or (lambda report, done, total: None)
        self.reverted, self.dry_run = run, dry_run
        self.target = run.target
        self.report = RevertReport(run.run_id)
        self.started: tuple[int, datetime] | None = None

    def run(self, scope: RunScope) -> None:
        self.scope = scope
        total = self.state.count_written_in_run(self.reverted.run_id)
        batch = self.adapter.write_batch_for(total)
        after = examined = 0
        while rows := self.state.writes_of_run(self.reverted.run_id, after_id=after, limit=batch):
            after = rows[-1].id
            if self.started is not None:  # holding the lock: keep it, or stop here
                self.state.heartbeat(self.target, self.started[0])
            restores = self._plan(rows)
            if self.dry_run:
                self.report.restored += len(restores)
            elif restores:
                self._write(restores)
            examined += len(rows)
            self.on_progress(self.report, examined, total)
        scope.status = "partial" if self.report.failed else "ok"

    def _plan(self, rows: Sequence[WriteRow]) -> list[_Restore]:
        """Read these rows' records; the restores still due, in row order."""
        by_id = {r.account_id: r for r in rows}
        ids = list(by_id)
        per_read = self.adapter.limits().ids_per_read
        restores: dict[str, _Restore] = {}
        found: set[str] = set()
        for start in range(0, len(ids), per_read):
            query = ReadQuery(
                fields=self.mapping.read_fields, ids=tuple(ids[start : start + per_read])
            )
            for page in self.adapter.read(query):
                for record in page:
                    record_id = str(record.get(self.mapping.id_field))
                    row = by_id.get(record_id)
                    if row is None or record_id in found:
                        continue
                    found.add(record_id)
                    restore = self._restore_of(row, outputs_of(self.mapping, record))
                    if restore is not None:
                        restores[record_id] = restore
        for record_id in ids:
            if record_id not in found:
                self.report.missing += 1
                self.report.note(self.report.missing_ids, record_id)
        due = [restores[i] for i in ids if i in restores]
        for r in due:
            for f, value in r.back.items():
                self.report.note(
                    self.report.writes,
                    {"id": r.row.account_id, "field": f, "from": r.current.get(f), "to": value},
                )
        return due

    def _restore_of(self, row: WriteRow, current: dict[str, Any]) -> _Restore | None:
        if [f for f in changed_fields(self.mapping, row.native, current) if f in row.native]:
            self.report.changed_since += 1
            self.report.note(self.report.changed_since_ids, row.account_id)
            return None
        back = {
            f: row.previous_native.get(f)
            for f in changed_fields(self.mapping, row.previous_native, current)
        }
        return _Restore(row, back, current) if back else None

    def _write(self, restores: list[_Restore]) -> None:
        """Record the batch as pending rows of the revert run, write it, record each result."""
        revert_id, at = self._started()
        self.state.heartbeat(self.target, revert_id)  # still ours after reading: then write
        self.state.record_pending(revert_id, self.target, self._rows(restores, at))
        results = self.adapter.write([(r.row.account_id, r.back) for r in restores])
        ok = [r.record_id for r in results if r.ok]
        bad = [r for r in results if not r.ok]
        self.state.mark_written(self.target, ok, run_id=revert_id)
        self.state.mark_failed(self.target, [r.record_id for r in bad], run_id=revert_id)
        self.state.heartbeat(self.target, revert_id)
        self.report.restored += len(ok)
        self.report.failed += len(bad)
        for r in bad:
            self.report.note(
                self.report.failures, {"id": r.record_id, "code": r.code, "message": r.message}
            )

    def _rows(self, restores: list[_Restore], at: datetime) -> list[AssessmentIn]:
        """The revert's rows: the values put back, as crmqual's own, and the assessment that
        wrote them when the ledger still has it (so the next sync's monitoring compares with
        what the CRM shows after the revert, not with the reverted run's outputs)."""
        earlier = self.state.written_before(
            self.target, [(r.row.account_id, r.row.id) for r in restores]
        )
        rows = []
        for r in restores:
            back = r.row.previous_native
            found = earlier.get(r.row.account_id)
            if found is not None and (
                not found.outputs.get("assessed_at")
                or any(f in found.native for f in changed_fields(self.mapping, found.native, back))
            ):
                found = None  # not what goes back (a hand edit between): restore values only
            rows.append(
                AssessmentIn(
                    account_id=r.row.account_id,
                    assessed_at=at,
                    account={},
                    outputs=found.outputs if found is not None else {},
                    native=back,
                    previous_native=r.current,
                    policy_version=(
                        found.policy_version
                        if found is not None
                        else f"revert of run {self.reverted.run_id}"
                    ),
                    grade=found.grade if found is not None else None,
                    reasons=found.reasons if found is not None else [],
                )
            )
        return rows

    def _started(self) -> tuple[int, datetime]:
        """The revert's own run and its start on the CRM's clock; started and locked at the
        first write."""
        if self.started is None:
            self.adapter.allow_writes_to(self.mapping.output_fields)
            at = self.adapter.server_time()
            self.started = (self.scope.start(signpost=at), at)
        return self.started

    def finish(self, scope: RunScope) -> None:
        """What the revert's run records, however it ended."""
        self.report.revert_run_id = scope.run_id
        scope.counts = {"written": self.report.restored, "failed": self.report.failed}
        scope.summary = {"reverted_run": self.reverted.run_id}
