"""API calls, time and memory of `crmqual sync` against a served Zoho sandbox, next to the
minimum the documented sizes allow.

Run by hand: ``python bench/zoho_sync.py [--accounts N | --100k | --1m] [--latency-ms 50]
[--dir DIR] [--keep] [--revert] [--output FILE]``. Steps: seed N accounts into a fresh sandbox
file (clock frozen while seeding), serve it with ``crmqual sandbox serve --json --latency-ms L
--credits unlimited`` (a separate process; unlimited credits so the quota never stops a run),
provision crmqual's fields, then run ``crmqual sync --json`` as a subprocess four times: the
full sync, a settling run, and, after 1 % of the accounts got hand edits of their inputs in
the sandbox, the incremental run. For each run it prints wall time, accounts per second, the
sync process's peak RSS (its ``VmHWM``, polled every 20 ms), API calls by endpoint (the
sandbox's call counts, diffed per run) and credits spent (the sandbox's ledger), next to

    minimum = fixed per-run calls (token, describe)
            + ceil(accounts read / 200)                      (list pages, per_page 200)
            + (field groups - 1) * ceil(accounts read / 100) (further groups by ids, cap 100)
            + ceil(records written / 100)                    (PUT, 100 records a call)

(field groups: the mapping's native fields plus Modified_Time, 50 a call). When the adapter
took a bulk path (a job created under ``/crm/bulk/v8/``), that side counts its documented job
calls instead: per Bulk Read job of 200,000 records create, three status polls (the
sandbox's jobs answer ADDED, IN PROGRESS, then COMPLETED) and the download, plus one users
call a run (the CSV holds owner ids); per Bulk Write file of 25,000 rows upload, create,
three polls and the result, plus one ``/org`` call a run (the upload's ``X-CRM-ORG``).
``actions/count`` (how the adapter picks its path) is not in the minimum.
crmqual's modules are compiled to bytecode before the first run, as ``pip install`` does,
so each run's CPU holds no compiling (``installed_bytecode``).
1,000,000 accounts need the Bulk Read path (page_token reaches 100,000 records): without it
the bench says so and stops.

With ``--revert``, ``crmqual revert`` of the full run follows, measured the same way; its
minimum is the token, every row read by id in each field group (100 ids a call) and the
writes by the path taken.

With ``CRMQUAL_BENCH_PROFILE=DIR`` set, each crmqual run writes a cProfile to DIR; with
``CRMQUAL_BENCH_PYSPY=DIR`` (py-spy installed by hand), py-spy's samples of it, as collapsed
stacks (either way its figures are then not the plain run's).

Writes ``bench/results/zoho_sync.json``: ``{"accounts": n, "full": {"api_calls",
"min_api_calls", "duration_s", "peak_rss_mb", "credits"}, "incremental": {...}}`` plus the
settling run and the details (by endpoint, latency, machine) under further keys.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import importlib.util
import json
import math
import os
import platform
import random
import selectors
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from assess_throughput import AS_OF as ASSESS_AS_OF
from assess_throughput import rows as sample_rows
from assess_throughput import timed
from crmqual.adapters.zoho.read import field_groups
from crmqual.compiled import compiled
from crmqual.inputs import assess_row
from crmqual.mapping import load_mapping
from crmqual.policy import load_policy
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAPPING = ROOT / "mappings" / "zoho.yaml"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
TOKEN_PATH = "/oauth/v2/token"
PAGE, IDS, PUT, FIELDS = 200, 100, 100, 50
BULK_READ_RECORDS = 200_000
BULK_WRITE_ROWS = 25_000
#: Status polls a sandbox job needs: ADDED, IN PROGRESS, COMPLETED (sandbox README, Bulk).
JOB_POLLS = 3
PAGE_TOKEN_REACH = 100_000
SECRETS = {
    "client_id": "BENCH_ZOHO_CLIENT_ID",
    "client_secret": "BENCH_ZOHO_CLIENT_SECRET",
    "refresh_token": "BENCH_ZOHO_REFRESH_TOKEN",
}


@dataclass
class Run:
    name: str
    summary: dict[str, Any]
    seconds: float
    peak_rss_mb: float
    calls: Counter[str]
    credits: int
    minimum: int
    cpu_s: float = 0.0
    sandbox_cpu_s: float | None = None  # None: not measured (the Salesforce bench)

    def as_json(self) -> dict[str, Any]:
        read = self.summary.get("read") or 0
        return {
            "api_calls": sum(self.calls.values()),
            "min_api_calls": self.minimum,
            "duration_s": round(self.seconds, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "credits": self.credits,
            "read": self.summary.get("read"),
            "written": self.summary.get("written"),
            "accounts_per_second": round(read / self.seconds, 1),
            "cpu_s": round(self.cpu_s, 2),
            "sandbox_cpu_s": None if self.sandbox_cpu_s is None else round(self.sandbox_cpu_s, 2),
            "cpu_us_per_account": round(self.cpu_s / read * 1e6, 1) if read else None,
            "calls_by_endpoint": dict(sorted(self.calls.items())),
        }


def bulk_available() -> bool:
    """Is the Bulk Read path (issue 8 item 2) installed? Its adapter module is the sign."""
    return importlib.util.find_spec("crmqual.adapters.zoho.bulk_read") is not None


def field_group_count() -> int:
    mapping = load_mapping(MAPPING, "zoho")[0]
    return len(field_groups(mapping.read_fields, mapping.filter_rules, FIELDS))


def minimum(calls: Counter[str], read: int, written: int, groups: int) -> int:
    """The fewest calls the documented sizes allow for a run that read and wrote this much,
    by the path the adapter took (paged or Bulk Read; PUT or Bulk Write)."""
    fixed = 2  # token, describe
    if calls.get("POST /crm/bulk/v8/read", 0):
        # per job of 200,000 records: create, the polls to COMPLETED, the download; once a
        # run, the users behind the CSV's owner ids
        reads = (2 + JOB_POLLS) * math.ceil(read / BULK_READ_RECORDS) + 1
    else:
        reads = math.ceil(read / PAGE) + (groups - 1) * math.ceil(read / IDS)
    if calls.get("POST /crm/bulk/v8/write", 0):
        # per file of 25,000 rows: upload, create, the polls to COMPLETED, the result; once
        # a run, the org id the upload host needs
        writes = (3 + JOB_POLLS) * math.ceil(written / BULK_WRITE_ROWS) + 1
    else:
        writes = math.ceil(written / PUT)
    return fixed + reads + writes


def serve(box: ZohoSandbox, latency_ms: int, log: Path) -> tuple[subprocess.Popen[str], Any]:
    argv = [*box.serve_command(0), "--latency-ms", str(latency_ms), "--credits", "unlimited"]
    proc, credentials = serving(argv, log)
    return proc, ZohoCredentials(**credentials)


def serving(
    argv: list[str], log: Path, timeout: float = 120
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start ``crmqual sandbox serve ... --json`` (any dialect) and read the credentials it
    prints; its stderr goes to ``log``, which the error quotes when nothing is printed."""
    with log.open("w", encoding="utf-8") as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        proc.wait(timeout=10)
        raise SystemExit(f"`crmqual sandbox serve` printed nothing: {log.read_text('utf-8')}")
    credentials: dict[str, Any] = json.loads(line)
    return proc, credentials


def write_config(folder: Path, creds: ZohoCredentials) -> tuple[Path, dict[str, str]]:
    connection: dict[str, Any] = {
        "accounts_url": creds.token_url.removesuffix(TOKEN_PATH),
        "api_domain": creds.api_base,
        **{key: "${" + env + "}" for key, env in SECRETS.items()},
    }
    if bulk_available():  # Bulk Write uploads to the sandbox's upload host, not Zoho's
        # The sandbox's jobs advance a state per status poll, not per second: short waits
        # change no call count, only the time spent sleeping between polls.
        connection["bulk"] = {
            "upload_url": creds.upload_url,
            "poll_interval": 0.2,
            "poll_max_interval": 1.0,
        }
    config = {
        "crm": "zoho",
        "target": "bench",
        "connection": connection,
        "mapping": str(MAPPING),
        "state": "sqlite:///state.sqlite",
    }
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, **{env: getattr(creds, key) for key, env in SECRETS.items()}}
    return path, env


@functools.cache
def installed_bytecode() -> None:
    """Compile crmqual's modules once, as ``pip install`` does: each measured process then
    loads them as an installed copy does. Where ``PYTHONDONTWRITEBYTECODE`` is set (some
    machines and images), an editable install would otherwise compile every module again in
    every process, a fixed cost of its own no installed copy pays."""
    import crmqual as package

    compileall.compile_dir(Path(package.__file__).parent, quiet=1)


def crmqual(config: Path, env: dict[str, str], *args: str) -> tuple[int, str, float, float, float]:
    """Run ``crmqual ARGS -c config``; exit code, stdout, wall seconds, peak RSS in MB and
    the process's CPU seconds (user + system, from its rusage)."""
    installed_bytecode()
    argv = [sys.executable, "-m", "crmqual", *args, "-c", str(config)]
    profiles = os.environ.get("CRMQUAL_BENCH_PROFILE")
    if profiles:  # a cProfile of each run, for finding where its CPU goes (slows it down)
        name = f"{args[0]}-{time.time_ns()}.prof"
        argv[1:3] = ["-m", "cProfile", "-o", str(Path(profiles) / name), "-m", "crmqual"]
    samples = os.environ.get("CRMQUAL_BENCH_PYSPY")
    if samples:  # py-spy's samples of each run (collapsed stacks; py-spy installed by hand)
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out = Path(samples) / f"{args[0]}-{time.time_ns()}.txt"
        argv = [spy, "record", "--format", "raw", "-r", "250", "-o", str(out), "--", *argv]
    out_path = config.with_name("out.txt")
    with out_path.open("w", encoding="utf-8") as out, (config.parent / "sync.log").open("a") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _hwm_kb(proc.pid))
            time.sleep(0.02)
        seconds = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    # The child's own high-water mark (VmHWM, reset at exec). ru_maxrss is only the fallback:
    # on Linux it keeps the RSS of the process that forked it, i.e. this bench's.
    peak = peak_kb or usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, out_path.read_text("utf-8"), seconds, peak / 1024, cpu


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # after the name: state is field 3, utime 14 and stime 15 (1-based; proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hwm_kb(pid: int) -> int:
    """``VmHWM`` of a live process in kB (0 when /proc does not say)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


@dataclass
class Measured:
    answer: dict[str, Any]
    seconds: float
    rss_mb: float
    calls: Counter[str]
    credits: int
    cpu_s: float
    sandbox_cpu_s: float


def measured(
    name: str, box: ZohoSandbox, sandbox_pid: int, config: Path, env: dict[str, str], *args: str
) -> Measured:
    """Run ``crmqual ARGS`` (which prints JSON): its last JSON line, wall seconds, peak RSS,
    CPU, the sandbox's calls by endpoint, CPU and the credits it spent meanwhile."""
    before, spent = Counter(box.call_counts()), box.credits()["spent"]
    sandbox_before = process_cpu_s(sandbox_pid)
    code, out, seconds, rss, cpu = crmqual(config, env, *args)
    sandbox_cpu = process_cpu_s(sandbox_pid) - sandbox_before
    lines = [x for x in out.strip().splitlines() if x.startswith("{")]
    answer = json.loads(lines[-1]) if lines else {}
    if code != 0:
        log = config.with_name("sync.log").read_text("utf-8")[-3000:]
        raise SystemExit(f"{name}: exit {code}: {answer or out}\n{log}")
    calls = Counter(box.call_counts())
    calls.subtract(before)
    calls = Counter({k: v for k, v in calls.items() if v})
    credits = int(box.credits()["spent"] - spent)
    return Measured(answer, seconds, rss, calls, credits, cpu, sandbox_cpu)


def as_run(name: str, m: Measured, summary: dict[str, Any], low: int) -> Run:
    return Run(
        name, summary, m.seconds, m.rss_mb, m.calls, m.credits, low, m.cpu_s, m.sandbox_cpu_s
    )


def sync_run(
    name: str, box: ZohoSandbox, pid: int, config: Path, env: dict[str, str], groups: int
) -> Run:
    args = ("sync", "--json", "--as-of", "2026-03-02")
    m = measured(name, box, pid, config, env, *args)
    summary = m.answer
    low = minimum(m.calls, int(summary["read"]), int(summary["written"]), groups)
    return as_run(name, m, summary, low)


def revert_run(
    name: str, box: ZohoSandbox, pid: int, config: Path, env: dict[str, str], run_id: int
) -> Run:
    """`crmqual revert RUN_ID --json`: every record the run wrote is read by id (the field
    groups of the read fields), and the values from before it are written back."""
    args = ("revert", str(run_id), "--json")
    m = measured(name, box, pid, config, env, *args)
    report, calls = m.answer, m.calls
    rows = int(report["restored"]) + int(report["changed_since"]) + int(report["missing"])
    restored = int(report["restored"])
    summary = {"read": rows, "written": restored, "left_alone": report["changed_since"]}
    # token + every row read by id in each field group + the writes by the path taken
    by_id = field_group_count() * math.ceil(rows / IDS)
    low = 1 + by_id + minimum(calls, 0, restored, 1) - 2
    return as_run(name, m, summary, low)


def show(run: Run) -> None:
    total = sum(run.calls.values())
    over = (total - run.minimum) / run.minimum * 100 if run.minimum else 0.0
    print(
        f"{run.name:<12} {run.seconds:8.1f} s  {run.summary['read'] / run.seconds:8.0f} acc/s  "
        f"peak RSS {run.peak_rss_mb:6.1f} MB  read {run.summary['read']:>9,}  "
        f"written {run.summary['written']:>9,}  calls {total:>6,} (minimum {run.minimum:,}, "
        f"{over:+.1f} %)  credits {run.credits:,}  CPU {run.cpu_s:.1f} s "
        f"({run.cpu_s / max(run.summary['read'], 1) * 1e6:.0f} µs/account; sandbox "
        + ("not measured)" if run.sandbox_cpu_s is None else f"{run.sandbox_cpu_s:.1f} s)")
    )
    for endpoint, count in sorted(run.calls.items()):
        print(f"{'':14}{endpoint:<44} {count:>7,}")


def hand_edits(box: ZohoSandbox, accounts: int, share: float) -> int:
    """A person's edits of inputs on `share` of the accounts: more overdue days and counts."""
    ids = [str(r["id"]) for r in box.records()]
    chosen = random.Random(7).sample(ids, max(1, round(len(ids) * share)))
    for n, record_id in enumerate(chosen):
        current = box.record(record_id)
        days = int(current.get("Overdue_Max_Days") or 0)
        count = int(current.get("Overdue_Count") or 0)
        box.hand_edit(
            record_id, {"Overdue_Max_Days": days + 30 + n % 60, "Overdue_Count": count + 2}
        )
    return len(chosen)


def state_bytes_per_row(db: Path) -> float:
    """The state store's file size over its assessment rows (indexes and the schedule
    table included, as the file holds them)."""
    with sqlite3.connect(db) as connection:
        (rows,) = connection.execute("SELECT count(*) FROM assessments").fetchone()
    return db.stat().st_size / max(rows, 1)


def assessment_path_us(accounts: int = 20_000) -> float:
    """µs per account of `assess_row` (validation and `assess()`) in this process, on the
    rows `bench/assess_throughput.py` times: the work a sync exists for, for scale."""
    policy = compiled(load_policy())
    data = sample_rows(accounts)

    def assess_all() -> None:
        for number, row in enumerate(data, start=2):
            assess_row(number, row, policy, ASSESS_AS_OF)

    return 1e6 / timed(assess_all, len(data), 3)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


# -- what the Zoho, Salesforce and Fxiaoke sync benchmarks share ----------------------------
def size_options(parser: argparse.ArgumentParser, *, million: bool = True) -> None:
    """`--accounts N` (default 10,000), `--100k` and, with `million`, `--1m`."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--accounts", type=int, default=10_000)
    size.add_argument("--100k", dest="accounts", action="store_const", const=100_000)
    if million:
        size.add_argument("--1m", dest="accounts", action="store_const", const=1_000_000)


def run_options(parser: argparse.ArgumentParser) -> None:
    """`--changed` (the share hand-edited), `--dir` and `--keep` (where the files go)."""
    parser.add_argument("--changed", type=float, default=0.01, help="share hand-edited")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox and state files")


def seeded(box: Any, seed: Callable[..., int], accounts: int, folder: Path) -> None:
    """Seed `accounts` into `box` with its clock frozen at START (the seed's dates are
    relative to it), printing how long it took; the clock runs again afterwards."""
    box.clock.freeze(START)
    began = time.perf_counter()
    seed(box.store, accounts, seed=1)
    print(f"seeded {accounts:,} accounts in {time.perf_counter() - began:.1f} s ({folder})")
    box.clock.resume()


def stop(proc: subprocess.Popen[str] | None) -> None:
    """Kill a served sandbox, if one was started, and close its pipe."""
    if proc is None:
        return
    proc.kill()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def provenance() -> dict[str, Any]:
    """The commit measured and what was changed in the code since it."""
    return {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "adapter_files_changed_since": _git("status", "--short", "adapters", "src/crmqual"),
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def save_result(
    output: Path, result: dict[str, Any], size: str, kept: Sequence[str], *, rss_ratio: bool
) -> None:
    """Write `result` to `output` with this run's `kept` figures under `sizes` by `size` (a
    count, maybe followed by words) next to earlier runs' of other sizes, so that sizes can be
    compared; with `rss_ratio`, the 1,000,000 run's peak RSS over the 100,000 run's too."""
    sizes: dict[str, Any] = {}
    if output.exists():
        sizes = json.loads(output.read_text(encoding="utf-8")).get("sizes", {})
    sizes[size] = {k: result[k] for k in kept if k in result}
    result["sizes"] = dict(sorted(sizes.items(), key=lambda kv: (int(kv[0].split()[0]), kv[0])))
    if rss_ratio and "100000" in sizes and "1000000" in sizes:
        result["peak_rss_1m_over_100k"] = round(
            sizes["1000000"]["full"]["peak_rss_mb"] / sizes["100000"]["full"]["peak_rss_mb"], 2
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_options(parser)
    parser.add_argument("--latency-ms", type=int, default=50, help="per API call (default 50)")
    run_options(parser)
    parser.add_argument(
        "--revert", action="store_true", help="then revert the full run, and measure that"
    )
    parser.add_argument("--output", type=Path, default=HERE / "results" / "zoho_sync.json")
    args = parser.parse_args()
    n: int = args.accounts
    if n > PAGE_TOKEN_REACH and not bulk_available():
        raise SystemExit(
            f"{n:,} accounts need Zoho's Bulk Read path (page_token reaches {PAGE_TOKEN_REACH:,} "
            "records) and crmqual.adapters.zoho.bulk_read is not installed yet (issue 8 item 2): "
            "nothing was measured."
        )
    folder = Path(tempfile.mkdtemp(prefix="zoho-sync-bench-", dir=args.dir))
    box = ZohoSandbox(folder / "zoho.db")
    proc: subprocess.Popen[str] | None = None
    try:
        seeded(box, seed_zoho, n, folder)
        proc, creds = serve(box, args.latency_ms, folder / "serve.log")
        config, env = write_config(folder, creds)
        code, out, *_ = crmqual(config, env, "provision")
        if code != 0:
            raise SystemExit(f"provision: exit {code}: {out}")
        groups = field_group_count()
        print(f"latency {args.latency_ms} ms a call; {groups} field groups of at most {FIELDS}")
        full = sync_run("full", box, proc.pid, config, env, groups)
        show(full)
        bytes_per_row = state_bytes_per_row(folder / "state.sqlite")
        print(f"state store after the full run: {bytes_per_row:,.0f} bytes per assessment row")
        settle = sync_run("settling", box, proc.pid, config, env, groups)
        show(settle)
        edited = hand_edits(box, n, args.changed)
        print(f"hand-edited the inputs of {edited:,} accounts")
        incremental = sync_run("incremental", box, proc.pid, config, env, groups)
        show(incremental)
        reverted = None
        if args.revert:
            reverted = revert_run("revert", box, proc.pid, config, env, int(full.summary["run_id"]))
            show(reverted)
    finally:
        stop(proc)
        box.close()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    assess_us = assessment_path_us()
    print(f"the assessment path alone (assess_row): {assess_us:.1f} µs per account")
    result = {
        "accounts": n,
        "state_bytes_per_row": round(bytes_per_row),
        "assess_row_us_per_account": round(assess_us, 1),
        "full": full.as_json(),
        "incremental": incremental.as_json(),
        "settling": settle.as_json(),
        **({"revert": reverted.as_json()} if reverted else {}),
        "hand_edited": edited,
        "latency_ms": args.latency_ms,
        "field_groups": groups,
        **provenance(),
        "bulk_path_installed": bulk_available(),
        "machine": machine(),
    }
    kept = (
        "full",
        "settling",
        "incremental",
        "revert",
        "commit",
        "state_bytes_per_row",
        "assess_row_us_per_account",
    )
    save_result(args.output, result, str(n), kept, rss_ratio=True)


if __name__ == "__main__":
    main()
