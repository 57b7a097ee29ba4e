"""Undoing a run: write back the values a run replaced, unless changed since.

For every record a run wrote, the CRM's current output values are read; where they still
are what the run wrote, the values from before the run go back. A record changed since
(by a person or a later run) is left alone and reported. The revert is itself recorded
as a run, and its writes as assessments, so the next sync sees its values as crmqual's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crmqual.adapters.base import Adapter, ReadQuery
from crmqual.errors import ConfigError, Problem
from crmqual.mapping import Mapping, changed_fields, outputs_of
from crmqual.state import AssessmentIn, AssessmentRecord, StateStore


@dataclass
class RevertReport:
    run_id: int
    revert_run_id: int | None = None
    restored: list[str] = field(default_factory=list)
    changed_since: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)


def revert_run(
    *,
    adapter: Adapter,
    mapping: Mapping,
    state: StateStore,
    target: str,
    run_id: int,
    dry_run: bool,
) -> RevertReport:
    run = state.get_run(run_id)
    if run is None or run.target != target:
        raise ConfigError([Problem("revert", "RUN_ID", f"no run {run_id} for {target}")])
    rows = {r.account_id: r for r in state.written_in_run(run_id)}
    report = RevertReport(run_id)
    plans: list[tuple[AssessmentRecord, dict[str, Any], dict[str, Any]]] = []
    ids = sorted(rows)
    per_read = adapter.limits().ids_per_read
    found: set[str] = set()
    for start in range(0, len(ids), per_read):
        query = ReadQuery(fields=mapping.read_fields, ids=tuple(ids[start : start + per_read]))
        for page in adapter.read(query):
            for record in page:
                record_id = str(record.get(mapping.id_field))
                row = rows.get(record_id)
                if row is None:
                    continue
                found.add(record_id)
                current = outputs_of(mapping, record)
                if [f for f in changed_fields(mapping, row.native, current) if f in row.native]:
                    report.changed_since.append(record_id)
                    continue
                back = {
                    f: row.previous_native.get(f)
                    for f in changed_fields(mapping, row.previous_native, current)
                }
                if back:
                    plans.append((row, back, current))
    report.missing = [i for i in ids if i not in found]
    for row, back, current in plans:
        for f, value in back.items():
            report.writes.append(
                {"id": row.account_id, "field": f, "from": current.get(f), "to": value}
            )
    if dry_run or not plans:
        report.restored = [row.account_id for row, _, _ in plans]
        return report
    adapter.allow_writes_to(mapping.output_fields)
    revert_id = state.start_run(
        target,
        mode="revert",
        dry_run=False,
        signpost=adapter.server_time(),
        policy_version=run.policy_version,
        mapping_hash=mapping.hash,
    )
    report.revert_run_id = revert_id
    state.acquire_lock(target, revert_id, stale_after=timedelta(minutes=10))
    try:
        batch = adapter.limits().write_batch
        for start in range(0, len(plans), batch):
            chunk = plans[start : start + batch]
            state.record_pending(
                revert_id,
                target,
                [
                    AssessmentIn(
                        account_id=row.account_id,
                        assessed_at=row.assessed_at,
                        account=row.account,
                        outputs={},
                        native=row.previous_native,
                        previous_native=current,
                        policy_version=row.policy_version,
                        grade=None,
                        reasons=[],
                    )
                    for row, _, current in chunk
                ],
            )
            results = adapter.write([(row.account_id, back) for row, back, _ in chunk])
            ok = [r.record_id for r in results if r.ok]
            state.mark_written(target, ok, run_id=revert_id)
            bad = [r for r in results if not r.ok]
            state.mark_failed(target, [r.record_id for r in bad], run_id=revert_id)
            report.restored += ok
            report.failed += [
                {"id": r.record_id, "code": r.code, "message": r.message} for r in bad
            ]
    finally:
        state.finish_run(
            revert_id,
            status="ok" if not report.failed else "partial",
            counts={"written": len(report.restored), "failed": len(report.failed)},
            watermark=None,
            summary={"reverted_run": run_id},
        )
        state.release_lock(target, revert_id)
    return report
