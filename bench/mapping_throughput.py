"""CPU time per record of the mapping's per-record functions, on Zoho sandbox records.

Run by hand: ``python bench/mapping_throughput.py [--accounts N] [--repeat K]
[--bad-rate R] [--label NAME]``. Seeds N accounts into a throw-away Zoho sandbox (the
seed's 10 % of accounts with missing inputs; ``--bad-rate`` adds malformed text values),
reads them through the Zoho adapter in-process with the shipped mapping
(``mappings/zoho.yaml``, input fields only: the outputs are not provisioned), assesses
them once, then times on one core, in CPU µs per record (``time.process_time``, the best
of K passes):

- ``read_record``: native record -> Account and unreadable values (validation included);
  for scale, ``validation``: the model's validation alone of the values read;
- ``to_native``: Assessment -> native output values;
- ``outputs_of`` + ``changed_fields`` as a sync calls them: against a record without
  outputs (the first full sync: everything changes) and against the outputs as written
  and read back (a settled account: nothing changes).

The figures are merged into ``bench/results/mapping_throughput.json`` under ``--label``
(default ``current``), so runs of two commits sit side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from crmqual.adapters.zoho import ZohoAdapter
from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.compiled import compiled
from crmqual.contract import ReadQuery
from crmqual.engine import assess
from crmqual.inputs import to_account
from crmqual.mapping import (
    Labels,
    RecordProblems,
    changed_fields,
    load_mapping,
    native_row,
    outputs_of,
    read_record,
    to_native,
)
from crmqual.policy import load_policy
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho
from crmqual.values import read_fields

HERE = Path(__file__).resolve().parent
MAPPING = HERE.parent / "mappings" / "zoho.yaml"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def zoho_records(accounts: int, bad_rate: float) -> list[dict[str, Any]]:
    """The seeded accounts as the Zoho adapter reads them (the mapping's input fields)."""
    mapping = load_mapping(MAPPING, "zoho")[0]
    fields = tuple(f for f in mapping.read_fields if f not in mapping.output_fields)
    with tempfile.TemporaryDirectory() as folder:
        box = ZohoSandbox(Path(folder) / "zoho.db")
        try:
            box.clock.freeze(START)
            seed_zoho(box.store, accounts, seed=7, bad_rate=bad_rate, workers=0)
            with box.inprocess() as creds:
                adapter = ZohoAdapter(
                    ZohoConnection(
                        client_id=creds.client_id,
                        client_secret=SecretStr(creds.client_secret),
                        refresh_token=SecretStr(creds.refresh_token),
                    )
                )
                return [r for page in adapter.read(ReadQuery(fields)) for r in page]
        finally:
            box.close()


def cpu_us(fn: Callable[[], object], n: int, repeat: int) -> float:
    """CPU µs per item of the best of ``repeat`` passes of ``fn`` over ``n`` items."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return round(best / n * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bad-rate", type=float, default=0.0)
    parser.add_argument("--label", default="current")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "mapping_throughput.json")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    mapping = load_mapping(MAPPING, "zoho")[0]
    policy = compiled(load_policy())
    labels = Labels.of(policy.policy)
    today = START.date()
    needed = policy.knockout_inputs
    records = zoho_records(args.accounts, args.bad_rate)
    n = len(records)

    read: list[tuple[dict[str, Any], Any]] = []
    failed = 0
    for record in records:
        try:
            read.append((record, read_record(mapping, record, today, needed)))
        except RecordProblems:
            failed += 1
    results = [assess(acc, policy, as_of=START, unreadable=lost) for _, (acc, lost) in read]
    natives = [to_native(mapping, labels, a) for a in results]
    # The record as read before crmqual wrote (no outputs), and after (the outputs written,
    # read back as JSON).
    first = [(r, x) for (r, _), x in zip(read, natives, strict=True)]
    settled = [(r | json.loads(json.dumps(x)), x) for r, x in first]

    def read_all() -> None:
        for record in records:
            with contextlib.suppress(RecordProblems):
                read_record(mapping, record, today, needed)

    rows = [native_row(mapping, record) for record, _ in read]
    values = [read_fields(row, mapping.readings, sources=mapping.sources)[0] for row, _ in rows]

    def validate_all() -> None:
        for row in values:
            to_account(row, today)

    def write_all() -> None:
        for a in results:
            to_native(mapping, labels, a)

    def compare(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> Callable[[], None]:
        def run() -> None:
            for record, native in pairs:
                changed_fields(mapping, native, outputs_of(mapping, record))

        return run

    figures = {
        "read_record_us": cpu_us(read_all, n, args.repeat),
        "validation_us": cpu_us(validate_all, len(values), args.repeat),
        "to_native_us": cpu_us(write_all, len(results), args.repeat),
        "outputs_of_changed_fields_first_us": cpu_us(compare(first), len(first), args.repeat),
        "outputs_of_changed_fields_settled_us": cpu_us(compare(settled), len(settled), args.repeat),
        "accounts": n,
        "failed_records": failed,
        "unreadable_values": sum(len(lost) for _, (_, lost) in read),
        "bad_rate": args.bad_rate,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"{args.label}: CPU µs per record, {n:,} Zoho sandbox records, best of {args.repeat}")
    for key in (
        "read_record_us",
        "validation_us",
        "to_native_us",
        "outputs_of_changed_fields_first_us",
        "outputs_of_changed_fields_settled_us",
    ):
        print(f"  {key.removesuffix('_us'):<40} {figures[key]:8.2f}")
    print(f"  ({failed} records failed, {figures['unreadable_values']} values unreadable)")
    stored = json.loads(args.out.read_text()) if args.out.exists() else {}
    stored[args.label] = figures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(stored, indent=2) + "\n")
    print(f"written to {args.out} under {args.label!r}")


if __name__ == "__main__":
    main()
