"""Seconds to seed N accounts into a fresh Zoho sandbox file, as `crmqual sandbox seed` does.

Run by hand: ``python bench/seed.py [--sizes 100000 1000000] [--workers W] [--dir DIR]
[--crm zoho|fxiaoke]`` (Fxiaoke's figure goes to ``bench/results/seed-fxiaoke.json``).
Each size seeds a new SQLite file (default rates: 10 % of accounts with inputs missing, no bad
values) with the sandbox clock frozen, then deletes it. Prints one line per size and writes
``bench/results/seed.json``: ``{"accounts": largest, "seconds": its time, "runs": [...]}``.
The target is a million accounts in at most ten minutes on a two-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

HERE = Path(__file__).resolve().parent
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def run(accounts: int, workers: int | None, where: Path, crm: str) -> dict[str, float | int]:
    db = where / f"seed-{accounts}.db"
    box = FxiaokeSandbox(db) if crm == "fxiaoke" else ZohoSandbox(db)
    box.clock.freeze(START)
    began = time.perf_counter()
    if isinstance(box, FxiaokeSandbox):
        seed_fxiaoke(box.store, accounts, seed=1, workers=workers)
    else:
        seed_zoho(box.store, accounts, seed=1, workers=workers)
    seconds = time.perf_counter() - began
    assert box.count() == accounts
    size = db.stat().st_size + sum(p.stat().st_size for p in where.glob(f"{db.name}-*"))
    box.close()
    for path in where.glob(f"{db.name}*"):
        path.unlink()
    return {
        "accounts": accounts,
        "seconds": round(seconds, 1),
        "accounts_per_second": round(accounts / seconds),
        "megabytes": round(size / 1e6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=None, help="default: CPUs - 1")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--crm", choices=["zoho", "fxiaoke"], default="zoho")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(dir=args.dir))
    runs = []
    try:
        for size in args.sizes:
            result = run(size, args.workers, where, args.crm)
            runs.append(result)
            print(
                f"{result['accounts']:>9,} accounts  {result['seconds']:>7.1f} s  "
                f"{result['accounts_per_second']:>6,}/s  {result['megabytes']:,} MB",
                flush=True,
            )
    finally:
        shutil.rmtree(where, ignore_errors=True)
    largest = max(runs, key=lambda r: r["accounts"])
    summary = {
        "crm": args.crm,
        "accounts": largest["accounts"],
        "seconds": largest["seconds"],
        "runs": runs,
        "workers": args.workers if args.workers is not None else max(0, (os.cpu_count() or 1) - 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    out = HERE / "results" / ("seed.json" if args.crm == "zoho" else f"seed-{args.crm}.json")
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
