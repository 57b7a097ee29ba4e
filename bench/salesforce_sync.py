"""API calls, time and memory of `crmqual sync` against a served Salesforce sandbox, next to
the minimum the documented sizes allow for the path the adapter took.

Run by hand: ``python bench/salesforce_sync.py [--accounts N | --100k | --1m] [--latency-ms 50]
[--dir DIR] [--keep] [--no-stability] [--output FILE]``. Steps: seed N accounts into a fresh
sandbox file (clock frozen while seeding), serve it with ``crmqual sandbox serve --crm
salesforce --json --latency-ms L --credits 100000000`` (a separate process, HTTPS on loopback;
an allowance the runs never reach), make crmqual's output fields (``crmqual provision`` where
the adapter provisions, else by hand through the Tooling API and field-level security, as the
tests do), then run ``crmqual sync --json`` as a subprocess three times: the full sync, a
settling run, and, after 1 % of the accounts got hand edits of their inputs in the sandbox, the
incremental run. The adapter keeps its default thresholds: reads of 10,000 records or more are
Bulk API 2.0 query jobs (results in pages of 10,000), writes of 2,000 or more Bulk API 2.0
update jobs of 10,000 rows; below them REST queries (batchSize 2,000) and sObject Collections
(200 records). For each run it prints wall time, accounts per second, the sync process's peak
RSS (its ``VmHWM``, polled every 20 ms), HTTP calls by endpoint (the sandbox's call log, diffed
per run) and the org's API usage (the sandbox's ledger: every call but the login), next to

    minimum = login + describe + SELECT COUNT() (the size that picks the path)
            + reads:  REST  ceil(read / 2,000)                        (query pages)
                      Bulk  per query job: create, 2 status polls, ceil(rows / 10,000) pages
            + writes: REST  ceil(written / 200)                       (collections)
                      Bulk  per update job of 10,000 rows: create, upload, close,
                            2 status polls, successful and failed results (7 calls)
                            + the rest below the threshold in collections

Counting assumed: an sObject Collections call counts as one API call, like ``/composite``
(salesforce.md 5: not confirmed for collections); the sandbox's jobs answer one state per
status poll (a query job InProgress then JobComplete, an ingest job likewise after its
close), so two polls are the fewest. ``SELECT COUNT()`` is in the minimum: choosing between
REST and Bulk 2.0 before the first record is read needs the size (it is also what
``expected()`` reports).

Writes ``bench/results/salesforce_sync.json`` with the keys of the Zoho benchmark:
``{"accounts": n, "full": {"api_calls", "min_api_calls", "duration_s", "peak_rss_mb",
"credits", ...}, "incremental": {...}, "settling": {...}, "sizes": {...}}``; ``credits`` is
the org's API usage.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import StepKind
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.seed import seed_salesforce

# The Zoho benchmark's runner (`crmqual` as a subprocess with its peak RSS), its run record
# and printout (`credits` there: the org's API usage here), and what the sync benchmarks
# share (options, seeding, serving, the result file); this file's folder is on the import
# path when it runs as a script.
from zoho_sync import (
    Run,
    crmqual,
    machine,
    provenance,
    run_options,
    save_result,
    seeded,
    serving,
    show,
    size_options,
    stop,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAPPING = ROOT / "mappings" / "salesforce.yaml"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
QUERY_PAGE, COLLECTION = 2_000, 200
DEFAULTS = SalesforceConnection(flow="client_credentials", client_id="x", client_secret="x",
                                login_url="https://x.my.salesforce.com").bulk  # fmt: skip
JOB_POLLS = 2
ALLOWANCE = 100_000_000
SECRETS = {
    "client_id": "BENCH_SF_CLIENT_ID",
    "username": "BENCH_SF_USERNAME",
    "private_key_file": "BENCH_SF_PRIVATE_KEY_FILE",
}


def _count(calls: Counter[str], method: str, tail: str) -> int:
    return sum(n for k, n in calls.items() if k.startswith(method + " ") and k.endswith(tail))


def minimum(calls: Counter[str], read: int, written: int) -> int:
    """The fewest calls the documented sizes allow for a run that read and wrote this much,
    by the path the adapter took (REST or a Bulk 2.0 query; collections or update jobs)."""
    fixed = 3  # login, describe, SELECT COUNT()
    if _count(calls, "POST", "/jobs/query"):
        reads = 1 + JOB_POLLS + max(1, math.ceil(read / DEFAULTS.page_records))
    else:
        reads = max(1, math.ceil(read / QUERY_PAGE))
    jobs = _count(calls, "POST", "/jobs/ingest")
    if jobs:
        in_jobs = min(written, jobs * DEFAULTS.job_records)
        writes = 7 * math.ceil(in_jobs / DEFAULTS.job_records)
        writes += math.ceil((written - in_jobs) / COLLECTION)
    else:
        writes = math.ceil(written / COLLECTION)
    return fixed + reads + writes


def serve(box: SalesforceSandbox, latency_ms: int, log: Path) -> tuple[subprocess.Popen[str], Any]:
    argv = [*box.serve_command(0), "--latency-ms", str(latency_ms), "--credits", str(ALLOWANCE)]
    proc, credentials = serving(argv, log)
    return proc, SalesforceCredentials(**credentials)


def write_config(
    folder: Path, creds: SalesforceCredentials, stability: bool
) -> tuple[Path, dict[str, str]]:
    connection: dict[str, Any] = {
        "flow": "jwt",
        "login_url": creds.login_url,
        "ca_file": creds.ca_file,
        **{key: "${" + env + "}" for key, env in SECRETS.items()},
        # The sandbox's jobs advance a state per status poll, not per second: short waits
        # change no call count, only the time spent sleeping between polls. It also does a
        # job's work inside that poll (100,000 rows take minutes on a loaded machine), so a
        # poll may take as long as Salesforce allows any call (ten minutes, salesforce.md 7).
        "read_timeout": 600,
        "bulk": {"poll_interval": 0.2, "poll_max_interval": 1.0},
    }
    config = {
        "crm": "salesforce",
        "target": "bench",
        "connection": connection,
        "mapping": str(MAPPING),
        "state": "sqlite:///state.sqlite",
        "sync": {"stability": stability},
    }
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, **{env: getattr(creds, key) for key, env in SECRETS.items()}}
    return path, env


def make_outputs(config: Path, env: dict[str, str], creds: SalesforceCredentials) -> str:
    """``crmqual provision`` where the adapter provisions; else the admin's way by hand."""
    adapter = SalesforceAdapter(
        SalesforceConnection(
            flow="jwt", login_url=creds.login_url, client_id=creds.client_id,
            username=creds.username, private_key_file=creds.private_key_file,
        ),
        ca_file=Path(creds.ca_file),
        key_file=Path(creds.private_key_file),
    )  # fmt: skip
    if StepKind.CREATE_FIELD in adapter.capabilities.provisioning:
        code, out, *_ = crmqual(config, env, "provision")
        if code != 0:
            raise SystemExit(f"provision: exit {code}: {out}")
        return "crmqual provision"
    sys.path[:0] = [str(ROOT / "tests" / "salesforce"), str(ROOT / "tests")]  # and its helpers
    from salesforce_backend import create_outputs_by_hand, mapping_outputs

    create_outputs_by_hand(adapter, mapping_outputs(MAPPING))
    return "by hand (Tooling API + field-level security)"


def sync_run(name: str, box: SalesforceSandbox, config: Path, env: dict[str, str]) -> Run:
    before, spent = Counter(box.call_counts()), int(box.api_usage()["spent"])
    code, out, seconds, rss, cpu = crmqual(config, env, "sync", "--json", "--as-of", "2026-03-02")
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if code != 0:
        log = config.with_name("sync.log").read_text("utf-8")[-3000:]
        raise SystemExit(f"{name}: exit {code}: {summary or out}\n{log}")
    calls = Counter(box.call_counts())
    calls.subtract(before)
    calls = Counter({k: v for k, v in calls.items() if v})
    usage = int(box.api_usage()["spent"]) - spent
    low = minimum(calls, int(summary["read"]), int(summary["written"]))
    return Run(name, summary, seconds, rss, calls, usage, low, cpu_s=cpu)


def hand_edits(box: SalesforceSandbox, share: float) -> int:
    """A person's edits of inputs on `share` of the accounts: more overdue days and counts."""
    ids = box.account_ids()
    chosen = random.Random(7).sample(ids, max(1, round(len(ids) * share)))
    for n, record_id in enumerate(chosen):
        current = box.record(record_id) or {}
        days = int(current.get("Overdue_Max_Days__c") or 0)
        count = int(current.get("Overdue_Count__c") or 0)
        box.hand_edit(
            record_id, {"Overdue_Max_Days__c": days + 30 + n % 60, "Overdue_Count__c": count + 2}
        )
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    size_options(parser)
    parser.add_argument("--latency-ms", type=int, default=50, help="per API call (default 50)")
    run_options(parser)
    parser.add_argument(
        "--no-stability",
        action="store_true",
        help="sync.stability: false (the end-of-run portfolio snapshot, which loads every "
        "account's latest assessment, is left out: the adapter's and the sync's own memory)",
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "salesforce_sync.json")
    args = parser.parse_args()
    n: int = args.accounts
    folder = Path(tempfile.mkdtemp(prefix="salesforce-sync-bench-", dir=args.dir))
    box = SalesforceSandbox(folder / "sf.db")
    proc: subprocess.Popen[str] | None = None
    try:
        seeded(box, seed_salesforce, n, folder)
        proc, creds = serve(box, args.latency_ms, folder / "serve.log")
        config, env = write_config(folder, creds, not args.no_stability)
        how = make_outputs(config, env, creds)
        print(f"latency {args.latency_ms} ms a call; output fields made {how}")
        full = sync_run("full", box, config, env)
        show(full)
        settle = sync_run("settling", box, config, env)
        show(settle)
        edited = hand_edits(box, args.changed)
        print(f"hand-edited the inputs of {edited:,} accounts")
        incremental = sync_run("incremental", box, config, env)
        show(incremental)
    finally:
        stop(proc)
        box.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result = {
        "accounts": n,
        "full": full.as_json(),
        "incremental": incremental.as_json(),
        "settling": settle.as_json(),
        "hand_edited": edited,
        "latency_ms": args.latency_ms,
        "output_fields_made": how,
        "stability_snapshot": not args.no_stability,
        "counting": "login, describe and SELECT COUNT() per run; a Collections call as one API "
        "call (not confirmed); two status polls per Bulk 2.0 job",
        **provenance(),
        "machine": machine(),
    }
    size = str(n) + (" without stability" if args.no_stability else "")
    kept = ("full", "settling", "incremental", "commit")
    save_result(args.output, result, size, kept, rss_ratio=True)


if __name__ == "__main__":
    main()
