"""A sync counts the accounts it writes into its stability snapshot as each write is
applied, and reads only the others from the store: the snapshot equals the one taken from
the store alone (each account's latest written row), failed writes and unchanged accounts
included."""

from __future__ import annotations

from syncutil import Clock, MakeSync

from crmqual.adapters.memory import MemoryCrm
from crmqual.stability import snapshot
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
