"""API calls, time, CPU and memory of `crmqual sync` against a served Fxiaoke sandbox, next to
the minimum the documented sizes allow.

Run by hand: ``python bench/fxiaoke_sync.py [--accounts N | --100k] [--rate 50] [--dir DIR]
[--keep] [--output FILE]``. Steps: seed N accounts into a fresh sandbox file (clock frozen
while seeding), serve it with ``crmqual sandbox serve --crm fxiaoke --json --rate R`` (a
separate process; R calls a second per tenant, the sandbox's default 50: Fxiaoke documents no
number), the output fields created as the admin does in the console (the sandbox's
``add_field``, from ``crmqual provision --json``), then ``crmqual sync --json`` as a subprocess
three times: the full sync, a settling run (it reads back the records the full run wrote,
writing none), and, after 1 % of the accounts got hand edits of their inputs in the sandbox,
the incremental run. crmqual's own rate limit is set just under the sandbox's
(``rate_per_second: R - 2``), so the wall time is the rate limit's: one ``data/update`` per
record written. For each run it prints wall time, accounts per second, crmqual's own CPU time
(user + system of the sync process), its peak RSS (``VmHWM``, polled every 20 ms) and the
sandbox's calls by endpoint, next to

    minimum = token + describe
            + ceil(accounts read / 100)      (data/query pages, limit 100)
            + accounts written               (data/update, one record a call)

Writes ``bench/results/fxiaoke_sync.json``: ``{"accounts": n, "full": {"api_calls",
"min_api_calls", "duration_s", "cpu_s", "peak_rss_mb", ...}, "incremental": {...},
"settling": {...}}``, earlier sizes under ``sizes``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crmqual.sandbox.fxiaoke.backend import FxiaokeCredentials, FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from zoho_sync import (
    crmqual,
    machine,
    provenance,
    run_options,
    save_result,
    seeded,
    serving,
    size_options,
    stop,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAPPING = ROOT / "mappings" / "fxiaoke.yaml"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PAGE = 100
SECRETS = {
    "app_id": "BENCH_FX_APP_ID",
    "app_secret": "BENCH_FX_APP_SECRET",
    "permanent_code": "BENCH_FX_PERMANENT_CODE",
    "employee_id": "BENCH_FX_USER",
}


@dataclass
class Run:
    name: str
    summary: dict[str, Any]
    seconds: float
    cpu_s: float
    peak_rss_mb: float
    calls: Counter[str]

    @property
    def minimum(self) -> int:
        read, written = int(self.summary["read"]), int(self.summary["written"])
        return 2 + math.ceil(read / PAGE) + written

    def as_json(self) -> dict[str, Any]:
        total = sum(self.calls.values())
        return {
            "api_calls": total,
            "min_api_calls": self.minimum,
            "over_minimum_pct": round((total - self.minimum) / self.minimum * 100, 2),
            "duration_s": round(self.seconds, 2),
            "cpu_s": round(self.cpu_s, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "read": self.summary.get("read"),
            "written": self.summary.get("written"),
            "failed": self.summary.get("failed"),
            "accounts_per_second": round(self.summary.get("read", 0) / self.seconds, 1),
            "calls_by_endpoint": dict(sorted(self.calls.items())),
        }


def serve(box: FxiaokeSandbox, rate: int, log: Path) -> tuple[subprocess.Popen[str], Any]:
    argv = [*box.serve_command(0), "--rate", str(rate)]
    proc, credentials = serving(argv, log, 300)
    return proc, FxiaokeCredentials(**credentials)


def write_config(folder: Path, creds: FxiaokeCredentials, rate: int) -> tuple[Path, dict[str, str]]:
    config = {
        "crm": "fxiaoke",
        "target": "bench",
        "connection": {
            "base_url": creds.base_url,
            **{
                key if key != "employee_id" else "user": "${" + env + "}"
                for key, env in SECRETS.items()
            },
            "limits": {"rate_per_second": max(rate - 2, 1)},
        },
        "mapping": str(MAPPING),
        "state": "sqlite:///state.sqlite",
    }
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, **{env: getattr(creds, key) for key, env in SECRETS.items()}}
    return path, env


def sync_run(name: str, box: FxiaokeSandbox, config: Path, env: dict[str, str]) -> Run:
    before = Counter(box.call_counts())
    code, out, seconds, rss, cpu = crmqual(config, env, "sync", "--json", "--as-of", "2026-03-02")
    lines = out.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if code not in (0, 1):
        log = config.with_name("sync.log").read_text("utf-8")[-3000:]
        raise SystemExit(f"{name}: exit {code}: {summary or out}\n{log}")
    calls = Counter(box.call_counts())
    calls.subtract(before)
    return Run(name, summary, seconds, cpu, rss, Counter({k: v for k, v in calls.items() if v}))


def show(run: Run) -> None:
    data = run.as_json()
    print(
        f"{run.name:<12} {run.seconds:8.1f} s  {data['accounts_per_second']:8.1f} acc/s  "
        f"crmqual CPU {run.cpu_s:7.1f} s  peak RSS {run.peak_rss_mb:6.1f} MB  "
        f"read {data['read']:>8,}  written {data['written']:>8,}  calls {data['api_calls']:>7,} "
        f"(minimum {run.minimum:,}, {data['over_minimum_pct']:+.2f} %)"
    )
    for endpoint, count in sorted(run.calls.items()):
        print(f"{'':14}{endpoint:<44} {count:>7,}")


def create_fields(box: FxiaokeSandbox, config: Path, env: dict[str, str]) -> int:
    """What the admin does in the console from `crmqual provision --json`'s list."""
    code, out, *_ = crmqual(config, env, "provision", "--json")
    if code != 0:
        raise SystemExit(f"provision: exit {code}: {out}")
    listed = json.loads(out)["manual_fields"]
    for f in listed:
        decimals = 0 if f["type"] == "integer" else None
        box.add_field(f["label_zh"], f["crm_type"], f["options"], decimals=decimals)
    return len(listed)


def hand_edits(box: FxiaokeSandbox, share: float) -> int:
    """A salesperson's edits of inputs on ``share`` of the accounts: overdue days and counts."""
    days, count = box.field("最长逾期天数").api_name, box.field("逾期次数").api_name
    ids = [str(r["_id"]) for r in box.records()]
    chosen = random.Random(7).sample(ids, max(1, round(len(ids) * share)))
    for n, record_id in enumerate(chosen):
        current = box.record(record_id)
        box.hand_edit(
            record_id,
            {
                days: int(current.get(days) or 0) + 30 + n % 60,
                count: int(current.get(count) or 0) + 2,
            },
        )
    return len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size_options(parser, million=False)
    parser.add_argument("--rate", type=int, default=50, help="sandbox calls a second (50)")
    run_options(parser)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "fxiaoke_sync.json")
    args = parser.parse_args()
    n: int = args.accounts
    folder = Path(tempfile.mkdtemp(prefix="fxiaoke-sync-bench-", dir=args.dir))
    box = FxiaokeSandbox(folder / "fx.db")
    proc: subprocess.Popen[str] | None = None
    try:
        seeded(box, seed_fxiaoke, n, folder)
        proc, creds = serve(box, args.rate, folder / "serve.log")
        config, env = write_config(folder, creds, args.rate)
        fields = create_fields(box, config, env)
        print(f"{fields} output fields created in the console; sandbox rate {args.rate}/s")
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
        "sandbox_rate_per_second": args.rate,
        "crmqual_rate_per_second": max(args.rate - 2, 1),
        **provenance(),
        "machine": {**machine(), "load_average": os.getloadavg()},
    }
    kept = ("full", "settling", "incremental", "commit")
    save_result(args.output, result, str(n), kept, rss_ratio=False)


if __name__ == "__main__":
    main()
