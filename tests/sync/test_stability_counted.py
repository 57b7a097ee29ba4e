"""A sync counts the accounts it writes into its stability snapshot as each write is
applied, and reads only the others from the store: the snapshot equals the one taken from
the store alone (each account's latest written row), failed writes and unchanged accounts
included."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from syncutil import Clock, MakeSync

from crmqual.adapters.memory import MemoryAdapter, MemoryCrm
from crmqual.contract import RecordResult
from crmqual.stability import SnapshotCounts, snapshot
from crmqual.state import StateStore
from crmqual.sync import STABILITY_KEY, SyncRequest


def from_store(state: StateStore, make_sync: MakeSync, run_id: int) -> dict[str, object]:
    sync = make_sync()
    run = state.get_run(run_id)
    assert run is not None and run.signpost is not None
    return snapshot(state.iter_portfolio("memory"), sync.policy, run.signpost)


def test_the_counted_snapshot_is_the_stores(
    crm: MemoryCrm, clock: Clock, state: StateStore, make_sync: MakeSync
) -> None:
    first = make_sync().run(SyncRequest())
    assert first.written == 10
    run = state.get_run(first.run_id)  # type: ignore[arg-type]
    assert run is not None
    assert run.summary[STABILITY_KEY] == from_store(state, make_sync, run.run_id)

    clock.advance(seconds=60)
    crm.edit("A001", {"overdue_max_days": 120, "overdue_count": 7})  # written
    crm.edit("A002", {"overdue_max_days": 95, "overdue_count": 6})  # its write fails
    crm.edit("A003", {"employees": 41})  # read again, nothing to write
    crm.reject["A002"] = ("INVALID_DATA", "refused")
    second = make_sync().run(SyncRequest())
    assert (second.written, second.failed) == (1, 1)
    run = state.get_run(second.run_id)  # type: ignore[arg-type]
    assert run is not None
    counted = run.summary[STABILITY_KEY]
    assert counted == from_store(state, make_sync, run.run_id)
    assert counted["accounts"] == 10


def test_a_later_run_counts_the_accounts_it_left_from_their_kept_bins(
    crm: MemoryCrm, clock: Clock, state: StateStore, make_sync: MakeSync
) -> None:
    """The rows a sync writes keep their snapshot bins (personal data left out as ever); a
    run 120 days later counts the accounts it does not write from them, their ages binned
    for its own day, and its snapshot is still the store's."""
    for account_id, founded in (("A001", "2025-06-01"), ("A002", "2024-09-01")):
        crm.edit(account_id, {"founding_date": founded})
    first = make_sync().run(SyncRequest())
    assert first.written == 10
    key = SnapshotCounts(make_sync().policy).key
    assert sum(1 for _ in state.iter_kept_bins("memory", key)) == 10

    clock.advance(days=120)  # the two young companies age: some outputs change
    crm.edit("A005", {"overdue_max_days": 120, "overdue_count": 7})
    second = make_sync().run(SyncRequest())
    assert 1 <= second.written < 10
    run = state.get_run(second.run_id)  # type: ignore[arg-type]
    assert run is not None
    left = sum(1 for _ in state.iter_kept_bins("memory", key, not_of_run=run.run_id))
    assert left == 10 - second.written  # counted from their kept bins
    assert run.summary[STABILITY_KEY] == from_store(state, make_sync, run.run_id)


class Killed(BaseException):
    """The process dying mid-run (nothing after it runs, as after a SIGKILL)."""


#: The memory CRM's own write, which applies a batch.
LANDS = MemoryAdapter._write


def dies_after_writing(
    adapter: MemoryAdapter, updates: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[RecordResult]:
    """A write batch that lands in the CRM, then the run dies before recording it."""
    LANDS(adapter, updates)
    raise Killed


def test_rows_a_killed_run_kept_count_from_their_bins_once_found_written(
    crm: MemoryCrm,
    clock: Clock,
    state: StateStore,
    make_sync: MakeSync,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A killed run's pending rows keep their bins; the next run finds the writes that
    landed (the CRM shows their values), marks those rows written and counts them from the
    bins they kept: its snapshot and a later one are still the store's."""
    with monkeypatch.context() as patched:
        patched.setattr(MemoryAdapter, "_write", dies_after_writing)
        with pytest.raises(Killed):
            make_sync(write_batch=4).run(SyncRequest())
    landed = [e.record_id for e in crm.log if e.client == "crmqual"]
    assert len(landed) == 4

    clock.advance(seconds=60)
    resumed = make_sync().run(SyncRequest())
    assert resumed.written == 10 - len(landed)  # the landed four are not written again
    key = SnapshotCounts(make_sync().policy).key
    assert sum(1 for _ in state.iter_kept_bins("memory", key)) == 10
    run = state.get_run(resumed.run_id)  # type: ignore[arg-type]
    assert run is not None
    assert run.summary[STABILITY_KEY] == from_store(state, make_sync, run.run_id)
    # the landed rows were recorded by the killed run: the resumed run counts them from
    # their kept bins, not as its own writes
    kept_by_others = sum(1 for _ in state.iter_kept_bins("memory", key, not_of_run=run.run_id))
    assert kept_by_others == len(landed)

    clock.advance(days=120)
    later = make_sync().run(SyncRequest())
    run = state.get_run(later.run_id)  # type: ignore[arg-type]
    assert run is not None
    assert run.summary[STABILITY_KEY] == from_store(state, make_sync, run.run_id)
