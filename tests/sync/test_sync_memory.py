"""The sync engine against the in-memory CRM: the rules of issue 4, one by one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syncutil import Clock, MakeSync, company

from crmqual.adapters.memory import MemoryAdapter, MemoryCrm
from crmqual.compiled import compiled
from crmqual.config import SyncSettings
from crmqual.contract import Capabilities, ReadQuery
from crmqual.errors import ConfigError
from crmqual.mapping import load_mapping
from crmqual.policy import load_policy
from crmqual.state import StateStore
from crmqual.sync import Sync, SyncRequest


def crmqual_writes(crm: MemoryCrm) -> list[str]:
    return [e.record_id for e in crm.log if e.client == "crmqual"]


def test_first_run_writes_every_account_and_second_writes_none(
    make_sync: MakeSync, crm: MemoryCrm
) -> None:
    first = make_sync().run(SyncRequest())
    assert (first.status, first.mode, first.read, first.written) == ("ok", "full", 10, 10)
    assert sorted(crmqual_writes(crm)) == sorted(crm.records)
    assert crm.records["A000"]["crmqual_grade"] in "ABCDE"
    second = make_sync().run(SyncRequest())
    assert second.mode == "incremental"
    assert second.read == 10  # our own writes moved the modified times: read back, not rewritten
    assert (second.changed, second.written) == (0, 0)
    assert len(crmqual_writes(crm)) == 10


def test_incremental_reads_only_what_changed(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest())  # settles: our writes read back
    clock.advance(hours=1)
    crm.edit("A003", {"overdue_max_days": 120, "overdue_count": 9})
    run = make_sync().run(SyncRequest())
    assert run.read == 1
    assert run.written == 1
    assert crmqual_writes(crm)[-1] == "A003"


def test_a_since_read_is_told_what_the_run_that_set_the_watermark_wrote(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ReadQuery.written_since``: the records that run wrote come back (their modified
    time moved), a size hint the adapter may choose its read path by."""
    queries: list[ReadQuery] = []
    read = MemoryAdapter.read

    def recorded(adapter: MemoryAdapter, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        queries.append(query)
        return read(adapter, query)

    monkeypatch.setattr(MemoryAdapter, "read", recorded)
    make_sync().run(SyncRequest())  # full: writes all 10
    make_sync().run(SyncRequest())  # settles: reads them back, writes none
    clock.advance(hours=1)
    crm.edit("A003", {"overdue_max_days": 120, "overdue_count": 9})
    assert make_sync().run(SyncRequest()).written == 1  # A003
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest(full=True))
    hints = [(q.since is not None, q.written_since) for q in queries if q.ids is None]
    assert hints == [(False, 0), (True, 10), (True, 0), (True, 1), (False, 0)]


def test_full_rereads_everything(make_sync: MakeSync) -> None:
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest())
    run = make_sync().run(SyncRequest(full=True))
    assert (run.mode, run.read, run.written) == ("full", 10, 0)


def test_dry_run_writes_nothing_not_even_the_watermark(
    make_sync: MakeSync, crm: MemoryCrm, state: StateStore
) -> None:
    run = make_sync().run(SyncRequest(dry_run=True))
    assert run.status == "dry_run"
    assert run.changed == 10 and run.written == 0
    assert crm.log == []
    assert state.get_cursor("memory") is None
    assert state.list_runs("memory") == []
    grade_changes = [c for c in run.would_change if c["field"] == "crmqual_grade"]
    assert len(grade_changes) == 10 and all(c["from"] is None for c in grade_changes)


def test_dry_run_lists_fields_it_would_provision(make_sync: MakeSync) -> None:
    run = make_sync(provision=False).run(SyncRequest(dry_run=True))
    assert "crmqual_grade" in run.missing_fields


def test_sync_never_creates_fields(make_sync: MakeSync, crm: MemoryCrm) -> None:
    with pytest.raises(ConfigError, match="crmqual provision"):
        make_sync(provision=False).run(SyncRequest())
    assert crm.log == []


def test_limit_never_advances_the_watermark(make_sync: MakeSync, state: StateStore) -> None:
    run = make_sync().run(SyncRequest(limit=4))
    assert (run.read, run.written) == (4, 4)
    assert state.get_cursor("memory") is None
    rest = make_sync().run(SyncRequest())
    assert rest.written == 6


def test_a_bad_record_is_reported_and_retried_until_it_succeeds(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    crm.records["A002"]["total_assets"] = "-5"
    first = make_sync().run(SyncRequest())
    assert (first.status, first.failed, first.written) == ("partial", 1, 9)
    assert first.exit_code == 1
    [failure] = first.failures
    assert failure["id"] == "A002" and "total_assets" in failure["field"]
    again = make_sync().run(SyncRequest())
    assert again.failed == 1  # retried by id, still bad
    crm.records["A002"]["total_assets"] = "8000000"  # fixed without touching modified time
    fixed = make_sync().run(SyncRequest())
    assert (fixed.failed, fixed.written) == (0, 1)


def test_a_write_rejected_by_the_crm_is_retried_next_run(
    make_sync: MakeSync, crm: MemoryCrm
) -> None:
    crm.reject["A005"] = ("INVALID_DATA", "value rejected")
    first = make_sync().run(SyncRequest())
    assert first.failed == 1 and first.failures[0]["reason"] == "INVALID_DATA: value rejected"
    crm.reject.clear()
    second = make_sync().run(SyncRequest())
    assert second.failed == 0
    assert crmqual_writes(crm).count("A005") == 1


def test_writes_carry_only_declared_output_fields(make_sync: MakeSync, crm: MemoryCrm) -> None:
    make_sync().run(SyncRequest())
    outputs = {f for f in crm.fields if f.startswith("crmqual_")}
    for entry in crm.log:
        assert set(entry.changes) <= outputs


def test_override_field_and_hand_edits_are_respected(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    make_sync().run(SyncRequest())
    clock.advance(hours=1)
    # a credit manager overrules the grade (with one crmqual did not give it)
    overruled = "C" if crm.records["A001"]["crmqual_grade"] != "C" else "A"
    crm.edit("A001", {"crmqual_grade": overruled})
    crm.edit("A004", {"credit_override": "yes", "overdue_max_days": 200})
    run = make_sync().run(SyncRequest(full=True))
    assert run.overridden == 2
    assert crm.records["A001"]["crmqual_grade"] == overruled
    assert "A004" not in crmqual_writes(crm)[10:]


def test_policy_change_forces_a_full_reassessment(make_sync: MakeSync, state: StateStore) -> None:
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest())
    sync = make_sync()
    policy = sync.policy.policy.model_copy(update={"grade_downgrade_hold_days": 31})
    from crmqual.compiled import compile_policy

    sync.policy = compile_policy(policy)
    run = sync.run(SyncRequest())
    assert (run.mode, run.read) == ("full", 10)
    assert run.written == 10  # the policy version is an output: every record changes


def test_downgrade_is_a_warning_once_and_its_flag_survives_the_next_run(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock, state: StateStore
) -> None:
    make_sync().run(SyncRequest())
    clock.advance(days=1)
    crm.edit("A000", {"overdue_max_days": 75, "overdue_count": 8, "net_income": -900_000})
    run = make_sync().run(SyncRequest())
    assert run.events["downgraded"] == 1 and run.warnings >= 1
    assert "GRADE_DOWNGRADE" in crm.records["A000"]["crmqual_flags"]
    clock.advance(days=1)
    after = make_sync().run(SyncRequest())
    assert after.written == 0 and after.warnings == 0
    assert [e.kind for e in state.events("memory")].count("downgraded") == 1


def test_followups_are_created_once_per_warning(
    make_sync: MakeSync, crm: MemoryCrm, clock: Clock
) -> None:
    from crmqual.config import SyncSettings

    settings = SyncSettings(followups=True)
    make_sync(settings=settings).run(SyncRequest())
    clock.advance(days=1)
    crm.edit("A000", {"overdue_max_days": 75, "overdue_count": 8, "net_income": -900_000})
    make_sync(settings=settings).run(SyncRequest())
    make_sync(settings=settings).run(SyncRequest(full=True))
    assert len(crm.followups) >= 1
    assert all(f.account_id == "A000" for f in crm.followups.values())


def test_due_accounts_are_reread_by_id(make_sync: MakeSync, crm: MemoryCrm, clock: Clock) -> None:
    make_sync().run(SyncRequest())
    make_sync().run(SyncRequest())
    clock.advance(days=400)  # every grade is due for review; stale statements change results
    run = make_sync().run(SyncRequest())
    assert run.read == 10
    assert run.written > 0


def test_two_runs_at_once_the_second_is_refused(make_sync: MakeSync, state: StateStore) -> None:
    from crmqual.errors import LockHeldError

    first = make_sync()
    run_id = state.start_run(
        "memory", mode="full", dry_run=False, signpost=None, policy_version="x", mapping_hash="y"
    )
    state.acquire_lock("memory", run_id)
    with pytest.raises(LockHeldError):
        first.run(SyncRequest())
    assert [r.status for r in state.list_runs("memory")].count("locked") == 1
    _ = company


def test_followups_asked_of_a_crm_that_cannot_make_them_stop_before_anything_is_read(
    tmp_path: Path,
) -> None:
    """Capabilities are data: a sync is refused up front, never fails mid-run."""
    crm = MemoryCrm()
    adapter = MemoryAdapter(crm)
    adapter.capabilities = Capabilities()  # no follow-ups
    with StateStore(f"sqlite:///{tmp_path / 's.sqlite'}") as state:
        runner = Sync(
            adapter=adapter,
            mapping=load_mapping(None, "file")[0],
            mapping_source="mappings/file.yaml",
            policy=compiled(load_policy()),
            state=state,
            target="t",
            settings=SyncSettings(followups=True),
        )
        with pytest.raises(ConfigError, match=r"sync\.followups: memory cannot create follow-up"):
            runner.run(SyncRequest())
    assert adapter.api_calls == 0
