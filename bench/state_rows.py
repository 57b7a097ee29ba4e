"""CPU time of a sync's bookkeeping in the state store, per account: recording its writes as
pending, then marking them written.

Run by hand: ``python bench/state_rows.py [--accounts N] [--repeat K] [--plain-binds]``.
Makes one run's rows from the sample accounts (ids made unique, amounts varied), assessed by
the engine and rendered with the Zoho mapping, as a full sync hands them to the store; then,
best of K, each time in a fresh SQLite store in a temporary folder and in CPU seconds of this
process, times

* ``record_pending``: a page of 2,000 rows at a time (a Bulk Read page), each page one
  durable transaction;
* marking them written: ``pending_rows_of_run`` and ``mark_rows_written``, 25,000 rows at a
  time (a Bulk Write job).

``--plain-binds`` takes away the adapters the store registers for None and bytes
(``crmqual.state.database._bind_plainly``), so the sqlite3 module binds those values its own
way, to compare. Writes ``bench/results/state_rows.json`` (not with ``--plain-binds``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from assess_throughput import AS_OF, rows
from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.inputs import to_account
from crmqual.mapping import Labels, load_mapping, to_native
from crmqual.policy import load_policy
from crmqual.stability import SnapshotCounts
from crmqual.state import AssessmentIn, StateStore
from crmqual.state.reading import Layout
from crmqual.state.rows import PERSONAL

HERE = Path(__file__).resolve().parent
TARGET = "bench"
PAGE = 2_000
WRITE_BATCH = 25_000


def pending_rows(accounts: int) -> list[AssessmentIn]:
    """A full sync's rows for ``accounts`` accounts, as ``_Runner._pending_row`` makes them."""
    policy = compiled(load_policy())
    mapping = load_mapping(None, "zoho")[0]
    labels = Labels.of(policy.policy)
    counts = SnapshotCounts(policy)
    nothing = dict.fromkeys(mapping.compiled.natives)  # what a CRM shows before the first write
    made = []
    for row in rows(accounts):
        account = to_account(row, AS_OF.date())
        result = assess(account, policy, as_of=AS_OF)
        bins = counts.bins(result.indicators, result.score)
        made.append(
            AssessmentIn(
                account_id=account.id,
                assessed_at=AS_OF,
                account=account,
                outputs={},
                native=to_native(mapping, labels, result),
                previous_native=nothing,
                policy_version=result.policy_version,
                grade=result.grade,
                reasons=[],
                result=result,
                leave_out=frozenset(PERSONAL),
                snapshot=(counts.key, counts.kept(bins, account)),
            )
        )
    return made


def started_run(store: StateStore) -> int:
    """A full sync's run in ``store``, its output layout (the Zoho mapping's) recorded."""
    policy = compiled(load_policy())
    mapping = load_mapping(None, "zoho")[0]
    run_id = store.start_run(
        TARGET,
        mode="full",
        dry_run=False,
        signpost=AS_OF,
        policy_version=policy.version,
        mapping_hash=mapping.hash,
    )
    store.record_layout(run_id, Layout(dict(mapping.outputs), Labels.of(policy.policy)))
    return run_id


def timed_once(made: list[AssessmentIn], folder: Path, plain_binds: bool) -> tuple[float, float]:
    """CPU seconds of recording ``made`` as pending, and of marking them written."""
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    if plain_binds:
        for kind in (type(None), bytes):
            sqlite3.adapters.pop((kind, sqlite3.PrepareProtocol), None)
    try:
        run_id = started_run(store)
        began = time.process_time()
        for start in range(0, len(made), PAGE):
            store.record_pending(run_id, TARGET, made[start : start + PAGE])
        pending = time.process_time() - began
        began = time.process_time()
        after = 0
        while True:
            found = store.pending_rows_of_run(TARGET, run_id, after_id=after, limit=WRITE_BATCH)
            if not found:
                break
            store.mark_rows_written(TARGET, found, run_id=run_id)
            after = found[-1][0]
        written = time.process_time() - began
    finally:
        store.close()
        (folder / "state.sqlite").unlink()
    return pending, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plain-binds", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "state_rows.json")
    args = parser.parse_args()
    made = pending_rows(args.accounts)
    best_pending = best_written = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            pending, written = timed_once(made, Path(folder), args.plain_binds)
            best_pending, best_written = min(best_pending, pending), min(best_written, written)
    n = len(made)
    result = {
        "accounts": n,
        "repeat": args.repeat,
        "record_pending_us_per_account": round(best_pending / n * 1e6, 1),
        "mark_written_us_per_account": round(best_written / n * 1e6, 1),
        "plain_binds": args.plain_binds,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
    }
    print(
        f"{n:,} accounts: record_pending {result['record_pending_us_per_account']} µs an account,"
        f" marking written {result['mark_written_us_per_account']} µs"
        + (" (the sqlite3 module's own binds)" if args.plain_binds else "")
    )
    if not args.plain_binds:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
