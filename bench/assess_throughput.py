"""Accounts per second from a parsed input row to an Assessment, on one core.

Run by hand: ``python bench/assess_throughput.py [--accounts N] [--repeat K]``.
Each row is a dict of strings, as a CSV reader or a CRM page gives it; the path timed is
``crmqual.inputs.assess_row``, exactly what ``crmqual assess`` runs between reading a row
and writing its result (validation included; file reading and output formatting are not).
For scale, it also times validating the rows alone. Writes
``bench/results/assess_throughput.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from crmqual.compiled import compiled
from crmqual.inputs import RowError, assess_row, to_account
from crmqual.policy import load_policy

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "examples" / "accounts.csv"
AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def rows(n: int) -> list[dict[str, str]]:
    """n rows of strings: the sample accounts, ids made unique, amounts varied."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        base = list(csv.DictReader(f))
    out = []
    for i in range(n):
        row = dict(base[i % len(base)])
        row["id"] = f"B-{i}"
        scale = 1 + (i % 97) / 100
        for key in ("revenue", "total_assets", "expected_monthly_purchases"):
            if row[key]:
                row[key] = str(round(float(row[key]) * scale))
        out.append(row)
    return out


def timed(fn: object, n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "assess_throughput.json")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    policy = compiled(load_policy())
    data = rows(args.accounts)
    today = AS_OF.date()

    def full() -> None:
        for number, row in enumerate(data, start=2):
            if isinstance(assess_row(number, row, policy, AS_OF), RowError):
                raise SystemExit(f"row {number} failed")

    def validate_only() -> None:
        for row in data:
            to_account(row, today)

    per_second = timed(full, len(data), args.repeat)
    validation = timed(validate_only, len(data), args.repeat)
    result = {
        "accounts_per_second": round(per_second),
        "validation_only_per_second": round(validation),
        "engine_share_of_time": round(1 - per_second / validation, 3),
        "accounts": len(data),
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(
        f"{result['accounts_per_second']:,} accounts/s from row to assessment on one core"
        f" (validation alone: {result['validation_only_per_second']:,}/s;"
        f" the engine takes {result['engine_share_of_time']:.0%} of the time)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
