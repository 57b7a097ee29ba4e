"""CPU time of the stability snapshot a sync takes at its end, and of the policy lab's read of
the portfolio, per account in the state store.

Run by hand: ``python bench/stability_snapshot.py [--accounts N] [--repeat K] [--out FILE]``.
Builds a SQLite state store in a temporary folder as a sync fills it (one run's rows from
the sample accounts, ids made unique and amounts varied, recorded pending with the engine's
results and marked written), then times, best of K, in CPU seconds of this process:

* the snapshot: ``stability.portfolio_snapshot``, what a settling or nightly run does for
  every account it did not write itself: counted from the bins each row kept, its age
  binned anew for the day;
* the snapshot from the inputs: ``stability.snapshot`` over
  ``iter_portfolio(scores_only=True)``, each row's inputs read back and its indicators
  worked out again (what rows that kept no bins cost, and every row before schema 0008);
* the lab's read: ``portfolio()`` and each row's inputs validated as an Account
  (``backtest.stored_account``), what ``policy diff`` does before scoring;
* the backtest's read: ``portfolio(scores_only=True)``, each row's inputs as the Account
  kept (``backtest.row_account``), what ``policy backtest`` and ``policy fit`` do.

Writes ``bench/results/stability_snapshot.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assess_throughput import AS_OF
from crmqual.backtest import row_account, stored_account
from crmqual.compiled import compiled
from crmqual.policy import load_policy
from crmqual.stability import portfolio_snapshot, snapshot
from crmqual.state import StateStore
from state_rows import TARGET, pending_rows, started_run

HERE = Path(__file__).resolve().parent
BATCH = 2_000


def fill(store: StateStore, accounts: int) -> None:
    """One sync's rows for ``accounts`` accounts, written."""
    run_id = started_run(store)
    made = pending_rows(accounts)
    for start in range(0, accounts, BATCH):
        batch = made[start : start + BATCH]
        store.record_pending(run_id, TARGET, batch)
        store.mark_written(TARGET, [row.account_id for row in batch], run_id=run_id)


def cpu_seconds(work: Callable[[], int], repeat: int) -> tuple[float, int]:
    """The least CPU time of ``repeat`` calls, and what the last one counted."""
    best, counted = float("inf"), 0
    for _ in range(repeat):
        began = time.process_time()
        counted = work()
        best = min(best, time.process_time() - began)
    return best, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "stability_snapshot.json")
    args = parser.parse_args()
    policy = compiled(load_policy())
    with tempfile.TemporaryDirectory() as folder:
        store = StateStore(f"sqlite:///{Path(folder) / 'state.sqlite'}")
        try:
            fill(store, args.accounts)

            def take_snapshot() -> int:
                return int(portfolio_snapshot(store, TARGET, policy, AS_OF)["accounts"])

            def from_inputs() -> int:
                portfolio = store.iter_portfolio(TARGET, scores_only=True)
                return int(snapshot(portfolio, policy, AS_OF)["accounts"])

            def read_for_lab() -> int:
                return sum(1 for row in store.portfolio(TARGET) if stored_account(row.account).id)

            snap_s, snapped = cpu_seconds(take_snapshot, args.repeat)
            inputs_s, recounted = cpu_seconds(from_inputs, args.repeat)
            lab_s, read = cpu_seconds(read_for_lab, args.repeat)

            def read_for_backtest() -> int:
                rows = store.portfolio(TARGET, scores_only=True)
                return sum(1 for row in rows if row_account(row).id)

            backtest_s, kept = cpu_seconds(read_for_backtest, args.repeat)
        finally:
            store.close()
    if {snapped, recounted, read, kept} != {args.accounts}:
        raise SystemExit(f"counted {snapped}, {recounted}, {read}, {kept}, not {args.accounts}")
    result = {
        "accounts": args.accounts,
        "repeat": args.repeat,
        "snapshot_cpu_s": round(snap_s, 3),
        "snapshot_us_per_account": round(snap_s / args.accounts * 1e6, 1),
        "snapshot_from_inputs_cpu_s": round(inputs_s, 3),
        "snapshot_from_inputs_us_per_account": round(inputs_s / args.accounts * 1e6, 1),
        "lab_read_cpu_s": round(lab_s, 3),
        "lab_read_us_per_account": round(lab_s / args.accounts * 1e6, 1),
        "backtest_read_cpu_s": round(backtest_s, 3),
        "backtest_read_us_per_account": round(backtest_s / args.accounts * 1e6, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(
        f"{args.accounts:,} accounts: stability snapshot {snap_s:.2f} s of CPU"
        f" ({result['snapshot_us_per_account']} µs an account; from the inputs"
        f" {inputs_s:.2f} s, {result['snapshot_from_inputs_us_per_account']} µs); the lab's"
        f" read of the portfolio {lab_s:.2f} s ({result['lab_read_us_per_account']} µs an"
        f" account), a backtest's {backtest_s:.2f} s"
        f" ({result['backtest_read_us_per_account']} µs)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
