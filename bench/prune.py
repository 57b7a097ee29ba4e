"""Seconds and bytes of `crmqual prune` on a SQLite state store after two full runs.

Run by hand: ``python bench/prune.py [--accounts 200000] [--dir DIR]``. Builds a fresh store in
which a full run wrote every account a year ago and a second full run rewrote every account
a month ago (the rows are shaped like a sync's: a mapped account, outputs, native values and
reasons), then prunes what runs older than 90 days left: every row of the first run is
superseded. Prints the rows deleted, the seconds of the dry run and of the prune, and the
file's size before, after (and its write-ahead log's) and after ``VACUUM``; writes
``bench/results/prune.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crmqual.state import AssessmentIn, StateStore

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
TARGET = "zoho:bench"
BATCH = 5_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def row(account_id: str, grade: str, at: datetime) -> AssessmentIn:
    account: dict[str, Any] = {f"indicator_{i}": 1000.5 + i for i in range(40)}
    outputs = {"grade": grade, "score": 61.5, "credit_limit": 50000, "flags": ["OVERDUE"]}
    native = {f"Credit_Field_{i}": f"value {i}" for i in range(9)}
    reasons = [{"code": "CD_SEVERE_OVERDUE", "en": "A payment was 90 days overdue.", "zh": "逾期"}]
    return AssessmentIn(account_id, at, account, outputs, native, {}, "default@1", grade, reasons)


def full_run(store: StateStore, clock: Clock, accounts: int, grade: str) -> None:
    run = store.start_run(
        TARGET, mode="full", dry_run=False, signpost=clock.now, policy_version="p", mapping_hash="m"
    )
    for start in range(0, accounts, BATCH):
        ids = [f"{5725767000000000000 + i}" for i in range(start, min(start + BATCH, accounts))]
        store.record_pending(run, TARGET, [row(i, grade, clock.now) for i in ids])
        store.mark_written(TARGET, ids, run_id=run)
    store.finish_run(run, status="ok", counts={}, watermark=None, summary={})


def size_mb(db: Path, suffix: str = "") -> float:
    path = db.with_name(db.name + suffix)
    return path.stat().st_size / 2**20 if path.exists() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--keep-every",
        default="none",
        choices=("month", "quarter", "year", "none"),
        help="History prune keeps per account (none: the measurement before the policy lab; "
        "month: crmqual prune's default, which here keeps both runs' rows, a year apart)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="prune-bench-", dir=args.dir))
    db = folder / "state.sqlite"
    clock = Clock()
    try:
        with StateStore(f"sqlite:///{db}", clock=clock) as store:
            began = time.perf_counter()
            clock.now = NOW - timedelta(days=365)
            full_run(store, clock, args.accounts, "B")
            clock.now = NOW - timedelta(days=30)
            full_run(store, clock, args.accounts, "C")
            clock.now = NOW
            built = time.perf_counter() - began
            before_mb = size_mb(db)
            cutoff = NOW - timedelta(days=90)
            began = time.perf_counter()
            counted = store.prune(TARGET, cutoff, dry_run=True, keep_every=args.keep_every)
            dry_s = time.perf_counter() - began
            began = time.perf_counter()
            deleted = store.prune(TARGET, cutoff, keep_every=args.keep_every)
            prune_s = time.perf_counter() - began
            after_mb, wal_mb = size_mb(db), size_mb(db, "-wal")
        began = time.perf_counter()
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("VACUUM")
        conn.close()
        vacuum_s = time.perf_counter() - began
        vacuumed_mb = size_mb(db)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "accounts": args.accounts,
        "keep_every": args.keep_every,
        "rows_before": 2 * args.accounts,
        "deleted": deleted,
        "dry_run_counted": counted,
        "build_s": round(built, 1),
        "dry_run_s": round(dry_s, 2),
        "prune_s": round(prune_s, 2),
        "vacuum_s": round(vacuum_s, 2),
        "size_mb": {
            "before": round(before_mb, 1),
            "after": round(after_mb, 1),
            "wal_after_prune": round(wal_mb, 1),
            "vacuumed": round(vacuumed_mb, 1),
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    print(
        f"{args.accounts:,} accounts x 2 full runs: deleted {deleted:,} rows "
        f"(dry run counted {counted:,} in {dry_s:.1f} s) in {prune_s:.1f} s; "
        f"file {before_mb:,.0f} MB -> {after_mb:,.0f} MB (log {wal_mb:,.0f} MB), "
        f"{vacuumed_mb:,.0f} MB after VACUUM "
        f"({vacuum_s:.1f} s)"
    )
    out = HERE / "results" / "prune.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
