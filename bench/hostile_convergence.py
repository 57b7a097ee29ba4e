"""How many reruns of `crmqual sync` under the sandbox's `hostile` fault profile, with SIGKILLs
between some of them, until one exits 0; how long that takes; and whether the values then
equal a fault-free run's of the same seed.

Run by hand: ``python bench/hostile_convergence.py [--accounts 300] [--fault-seed 1]
[--kill-after 30,150] [--between-min 10] [--max-runs 12] [--output FILE]``.

Two sandboxes are seeded alike (same seed, clock frozen while seeding). The reference is
served without faults: provision, one sync. The other is served with ``--faults hostile``
(429s, 5xx, dropped connections, expired tokens, 5 s answers, per-record validation errors,
50 ms on every call, and Zoho's token mint quota of ten per ten minutes): provision until it
exits 0, then `crmqual sync` as a subprocess again and again. The first runs are killed
with SIGKILL once the sandbox has logged ``--kill-after`` writes of crmqual's (one kill per
number); the others run to their end. Between two runs the sandbox's clock moves
``--between-min`` minutes, as a scheduler's retry would (a throttled token mint says to wait
ten minutes; the sandbox's clock otherwise stands still, and so would its mint window). Stops at
the first exit 0, or after ``--max-runs``.

Prints and writes (``bench/results/hostile_convergence.json``) the runs (exit code, seconds,
read / written / failed), the total, the number of crmqual's write entries that changed
nothing (a write resent blindly would show there), and whether every record's outputs (the
assessed-at stamp aside) equal the reference's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import selectors
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crmqual.mapping import load_mapping
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

HERE = Path(__file__).resolve().parent
MAPPING = HERE.parent / "mappings" / "zoho.yaml"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
AS_OF = "2026-03-02"
TOKEN_PATH = "/oauth/v2/token"
SEED = 11
SECRETS = {
    "client_id": "BENCH_ZOHO_CLIENT_ID",
    "client_secret": "BENCH_ZOHO_CLIENT_SECRET",
    "refresh_token": "BENCH_ZOHO_REFRESH_TOKEN",
}


class Org:
    """A seeded sandbox served in its own process, and a crmqual.yaml for it."""

    def __init__(self, folder: Path, accounts: int, faults: str | None, fault_seed: int) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.box = ZohoSandbox(folder / "zoho.db", fault_seed=fault_seed)
        self.box.clock.freeze(START)
        seed_zoho(self.box.store, accounts, seed=SEED)
        self.box.clock.advance(1)
        argv = self.box.serve_command(0, faults)
        with (folder / "serve.log").open("w") as errors:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=120)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise SystemExit(f"`crmqual sandbox serve` printed nothing in {folder}")
        creds = ZohoCredentials(**json.loads(line))
        connection = {
            "accounts_url": creds.token_url.removesuffix(TOKEN_PATH),
            "api_domain": creds.api_base,
            **{key: "${" + env + "}" for key, env in SECRETS.items()},
        }
        config = {
            "crm": "zoho",
            "target": "bench",
            "connection": connection,
            "mapping": str(MAPPING),
            "state": "sqlite:///state.sqlite",
            "sync": {"batch_size": 30},
        }
        self.config = folder / "crmqual.yaml"
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.env = {**os.environ, **{env: getattr(creds, key) for key, env in SECRETS.items()}}

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "crmqual", *args, "-c", str(self.config)]

    def run(self, *args: str) -> tuple[int, str]:
        done = subprocess.run(
            self.argv(*args), env=self.env, capture_output=True, text=True, timeout=1800
        )
        with (self.folder / "crmqual.log").open("a") as log:
            log.write(done.stderr)
        return done.returncode, done.stdout

    def ours(self) -> int:
        return sum(1 for w in self.box.write_log() if w.client.startswith("crmqual/"))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.box.close()


def outputs(box: ZohoSandbox) -> dict[str, dict[str, Any]]:
    mapping = load_mapping(MAPPING, "zoho")[0]
    stamp = mapping.outputs["assessed_at"].field
    names = sorted(set(mapping.output_fields) - {stamp})
    return {str(r["id"]): {f: r.get(f) for f in names} for r in box.records()}


def last_json(out: str) -> dict[str, Any]:
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def converge(org: Org, kill_after: list[int], between_min: float, max_runs: int) -> list[dict]:
    runs: list[dict[str, Any]] = []
    while len(runs) < max_runs:
        if runs:
            org.box.clock.advance(between_min * 60)
        began = time.perf_counter()
        if len(runs) < len(kill_after):
            target = org.ours() + kill_after[len(runs)]
            proc = subprocess.Popen(
                org.argv("sync", "--as-of", AS_OF),
                env=org.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while proc.poll() is None and org.ours() < target:
                time.sleep(0.01)
            killed = proc.poll() is None
            proc.kill()
            proc.wait(timeout=30)
            code = -9 if killed else proc.returncode
            runs.append({"exit": code, "killed": killed, "seconds": time.perf_counter() - began})
            continue
        code, out = org.run("sync", "--json", "--as-of", AS_OF)
        summary = last_json(out)
        runs.append(
            {
                "exit": code,
                "killed": False,
                "seconds": time.perf_counter() - began,
                **{k: summary.get(k) for k in ("read", "written", "failed", "overridden")},
                "message": (summary.get("message") or "")[:200],
            }
        )
        if code == 0:
            break
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--fault-seed", type=int, default=1)
    parser.add_argument("--kill-after", default="30,150", help="writes seen before each kill")
    parser.add_argument("--between-min", type=float, default=10.0)
    parser.add_argument("--max-runs", type=int, default=12)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "hostile_convergence.json"
    )
    args = parser.parse_args()
    kill_after = [int(n) for n in args.kill_after.split(",") if n.strip()]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="crmqual-hostile-"))
    reference = Org(folder / "reference", args.accounts, None, 0)
    try:
        assert reference.run("provision")[0] == 0
        code, out = reference.run("sync", "--json", "--as-of", AS_OF)
        assert code == 0, out
        expected = outputs(reference.box)
    finally:
        reference.close()
    org = Org(folder / "hostile", args.accounts, "hostile", args.fault_seed)
    try:
        began = time.perf_counter()
        provisions = 0
        while True:
            provisions += 1
            if org.run("provision")[0] == 0 or provisions >= args.max_runs:
                break
            org.box.clock.advance(args.between_min * 60)
        runs = converge(org, kill_after, args.between_min, args.max_runs)
        seconds = time.perf_counter() - began
        entries = [w for w in org.box.write_log() if w.client.startswith("crmqual/")]
        calls = org.box.calls()
        struck = Counter(c.status for c in calls if c.status >= 400 or c.status == 0)
        result = {
            "accounts": args.accounts,
            "fault_seed": args.fault_seed,
            "profile": "hostile",
            "provision_runs": provisions,
            "sync_runs": len(runs),
            "killed": sum(1 for r in runs if r["killed"]),
            "converged": runs[-1]["exit"] == 0,
            "equal_to_fault_free": outputs(org.box) == expected,
            "seconds": round(seconds, 1),
            "between_runs_min": args.between_min,
            "runs": [{**r, "seconds": round(r["seconds"], 1)} for r in runs],
            "write_entries": len(entries),
            "write_entries_without_changes": sum(1 for w in entries if not w.changes),
            "faults_struck": {str(k): v for k, v in sorted(struck.items())},
            "api_calls": len(calls),
            "machine": f"{platform.machine()} {platform.python_version()}",
            "date": datetime.now(UTC).date().isoformat(),
        }
    finally:
        org.close()
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
