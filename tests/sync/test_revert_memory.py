"""`revert` of a run against the in-memory CRM: a batch at a time, with a bounded report."""

from __future__ import annotations

from typing import Any

import pytest
from syncutil import MakeSync, company

from crmqual import revert
from crmqual.adapters.memory import MemoryCrm
from crmqual.revert import RevertReport, revert_run
from crmqual.state import StateStore, WriteRow
from crmqual.sync import SyncRequest


def undo(make_sync: MakeSync, state: StateStore, run_id: int | None, dry_run: bool) -> RevertReport:
    """`revert_run` of ``run_id`` through a fresh adapter on the same CRM."""
    sync = make_sync()
    return revert_run(
        adapter=sync.adapter,
        mapping=sync.mapping,
        state=state,
        target="memory",
        run_id=run_id,  # type: ignore[arg-type]
        dry_run=dry_run,
    )


def outputs(crm: MemoryCrm, fields: list[str]) -> dict[str, dict[str, Any]]:
    return {rid: {f: r.get(f) for f in fields} for rid, r in crm.records.items()}


def test_revert_restores_a_large_run_a_batch_at_a_time(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm.load([company(i) for i in range(10, 25)])
    sync = make_sync()
    fields = list(sync.mapping.output_fields)
    before = outputs(crm, fields)
    run = sync.run(SyncRequest())
    assert run.written == 25
    crm.edit("A003", {"crmqual_grade": "A"})  # a person changed it since: left alone
    del crm.records["A004"]  # deleted in the CRM since

    pages: list[tuple[int | None, int]] = []
    original = StateStore.writes_of_run

    def spy(self: StateStore, run_id: int, **kw: Any) -> list[WriteRow]:
        rows = original(self, run_id, **kw)
        pages.append((kw.get("limit"), len(rows)))
        return rows

    monkeypatch.setattr(StateStore, "writes_of_run", spy)
    monkeypatch.setattr(revert, "LISTED", 3)
    adapter = make_sync().adapter
    report = revert_run(
        adapter=adapter,
        mapping=sync.mapping,
        state=state,
        target="memory",
        run_id=run.run_id,  # type: ignore[arg-type]
        dry_run=False,
    )

    batch = adapter.limits().write_batch
    assert pages and all(limit == batch and size <= batch for limit, size in pages)
    assert sum(size for _, size in pages) == 25
    assert (report.restored, report.changed_since, report.missing, report.failed) == (23, 1, 1, 0)
    assert report.changed_since_ids == ["A003"] and report.missing_ids == ["A004"]
    assert len(report.writes) == 3 and report.truncated
    after = outputs(crm, fields)
    for rid in after:
        if rid != "A003":
            assert after[rid] == before[rid], rid
    assert after["A003"]["crmqual_grade"] == "A"
    revert_runs = [r for r in state.list_runs("memory") if r.mode == "revert"]
    assert [(r.run_id, r.status, r.counts) for r in revert_runs] == [
        (report.revert_run_id, "ok", {"written": 23, "failed": 0})
    ]


def test_a_dry_revert_counts_and_writes_nothing(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    sync = make_sync()
    run = sync.run(SyncRequest())
    writes = len(crm.log)
    report = undo(make_sync, state, run.run_id, dry_run=True)
    assert report.restored == 10 and report.revert_run_id is None
    assert len(crm.log) == writes
    assert {w["id"] for w in report.writes} == set(crm.records)


def test_a_record_the_crm_refuses_is_reported_and_the_rest_restored(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    sync = make_sync()
    run = sync.run(SyncRequest())
    crm.reject["A001"] = ("INVALID_DATA", "locked by an approval")
    report = undo(make_sync, state, run.run_id, dry_run=False)
    assert (report.restored, report.failed) == (9, 1)
    assert report.failures == [
        {"id": "A001", "code": "INVALID_DATA", "message": "locked by an approval"}
    ]
    (revert_run_record,) = [r for r in state.list_runs("memory") if r.mode == "revert"]
    assert revert_run_record.status == "partial"


def test_after_a_revert_the_next_sync_compares_with_what_the_crm_shows(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    """Issue 14: a revert of a policy change, then a sync under that policy, raised
    `admission_failed` for accounts rejected all along (it compared with a partial rebuild
    of the CRM's values). It compares with the assessment the revert put back."""
    from crmqual.compiled import compile_policy

    crm.edit("A001", {"defaults": 1, "overdue_max_days": 120})  # rejected from the start
    first = make_sync().run(SyncRequest())
    assert crm.records["A001"]["crmqual_status"] == "rejected"

    def with_new_policy() -> Any:
        sync = make_sync()
        policy = sync.policy.policy.model_copy(update={"grade_downgrade_hold_days": 31})
        sync.policy = compile_policy(policy)
        return sync

    second = with_new_policy().run(SyncRequest())
    assert second.written == 10 and "admission_failed" not in second.events
    report = undo(make_sync, state, second.run_id, dry_run=False)
    assert report.restored == 10

    (row,) = [r for r in state.history("memory", "A001") if r.run_id == report.revert_run_id]
    (original,) = [r for r in state.history("memory", "A001") if r.run_id == first.run_id]
    assert row.outputs == original.outputs  # what the CRM shows again, as an assessment
    assert row.policy_version == original.policy_version

    third = with_new_policy().run(SyncRequest())
    assert third.written == 10
    assert set(third.events) <= set(second.events), (third.events, second.events)
    assert "admission_failed" not in third.events


def test_a_revert_of_a_first_run_leaves_no_assessment_to_compare_with(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    crm.edit("A001", {"defaults": 1, "overdue_max_days": 120})
    first = make_sync().run(SyncRequest())
    report = undo(make_sync, state, first.run_id, dry_run=False)
    assert report.restored == 10
    row = state.history("memory", "A001")[-1]
    assert (row.run_id, row.outputs, row.policy_version) == (
        report.revert_run_id,
        {},
        f"revert of run {first.run_id}",
    )
    again = make_sync().run(SyncRequest())
    assert again.written == 10 and not again.events  # a baseline again, as the first was


def test_after_a_revert_whose_assessment_was_pruned_no_admission_failure_is_invented(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    """The ledger no longer holds the assessment behind the values put back: the next sync
    has only the CRM's values, which carry no status, and invents no admission failure."""
    from datetime import UTC, datetime, timedelta

    from crmqual.compiled import compile_policy

    crm.edit("A001", {"defaults": 1, "overdue_max_days": 120})
    make_sync().run(SyncRequest())

    def with_new_policy() -> Any:
        sync = make_sync()
        policy = sync.policy.policy.model_copy(update={"grade_downgrade_hold_days": 31})
        sync.policy = compile_policy(policy)
        return sync

    second = with_new_policy().run(SyncRequest())
    assert state.prune("memory", datetime.now(UTC) + timedelta(days=1)) == 10
    report = undo(make_sync, state, second.run_id, dry_run=False)
    assert report.restored == 10
    assert state.history("memory", "A001")[-1].outputs == {}
    third = with_new_policy().run(SyncRequest())
    assert third.written == 10 and "admission_failed" not in third.events
