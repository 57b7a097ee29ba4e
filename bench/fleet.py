"""A fleet of Zoho sandbox orgs synced sequentially in one process, then by 1, 2 and 4 Celery
workers, in one run: wall time, the ratio to sequential, and each org's API calls next to a
lone sync's (the sequential run's: one org at a time, nothing shared).

Run by hand: ``python bench/fleet.py [--orgs 12] [--accounts 10000] [--latency-ms 50]
[--workers 1,2,4] [--output bench/results/fleet.json]``. Needs RabbitMQ
($CRMQUAL_BROKER_URL, default amqp://guest:guest@127.0.0.1:5672//) and PostgreSQL
($CRMQUAL_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test).

Steps: seed one sandbox org (clock frozen), serve it once to provision crmqual's fields, and
copy its file for every org of every round, so each round starts from the same CRM. Each
round serves its orgs (``crmqual sandbox serve --latency-ms L --credits unlimited``, one
process each), writes their crmqual.yaml and a fleet.yaml with a fresh PostgreSQL schema as
the store and its own queue, and times a full sync of every org: sequentially with
``crmqual fleet run --parallel 1``; with N workers, from ``crmqual fleet enqueue`` until
every org's run is finished in the store (workers started and ready before, one pool process
each: ``crmqual fleet worker -- -c 1``).

Writes ``bench/results/fleet.json``: ``orgs``, ``accounts``, ``latency_ms``,
``sequential.wall_s``, ``workers`` keyed by count with ``wall_s``, ``ratio`` (sequential /
this) and ``api_calls`` (per org), and ``api_calls_equal`` (every round's per-org calls the
same as the lone syncs'), plus the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho
from crmqual.state import StateStore
from zoho_sync import MAPPING, TOKEN_PATH, bulk_available, serve

HERE = Path(__file__).resolve().parent
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
BROKER = os.environ.get("CRMQUAL_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
SECRETS = ("client_id", "client_secret", "refresh_token")


def secret_env(org: str, key: str) -> str:
    return f"BENCH_FLEET_{org.upper()}_{key.upper()}"


def org_config(folder: Path, org: str, creds: ZohoCredentials) -> Path:
    connection: dict[str, Any] = {
        "accounts_url": creds.token_url.removesuffix(TOKEN_PATH),
        "api_domain": creds.api_base,
        **{key: "${" + secret_env(org, key) + "}" for key in SECRETS},
    }
    if bulk_available():  # as bench/zoho_sync.py: Bulk Write uploads to the sandbox's host
        connection["bulk"] = {
            "upload_url": creds.upload_url,
            "poll_interval": 0.2,
            "poll_max_interval": 1.0,
        }
    config = {"crm": "zoho", "target": f"bench:{org}", "connection": connection}
    path = folder / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config | {"mapping": str(MAPPING)}), encoding="utf-8")
    return path


def template(folder: Path, accounts: int, latency_ms: int) -> Path:
    """One seeded, provisioned sandbox file every org of every round copies."""
    db = folder / "template.db"
    box = ZohoSandbox(db)
    box.clock.freeze(START)
    seed_zoho(box.store, accounts, seed=23)
    box.clock.advance(1)
    proc, creds = serve(box, latency_ms, folder / "template-serve.log")
    try:
        config = org_config(folder, "template", creds)
        env = os.environ | {secret_env("template", k): getattr(creds, k) for k in SECRETS}
        env["CRMQUAL_STATE_URL"] = f"sqlite:///{folder / 'template-state.sqlite'}"
        done = subprocess.run(
            [sys.executable, "-m", "crmqual", "provision", "-c", str(config)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"provision failed: {done.stderr}")
    finally:
        proc.kill()
        proc.wait()
        box.close()
    return db


def pg_schema(folder: Path) -> AbstractContextManager[str]:
    """A fresh PostgreSQL schema as the fleet's store (the tests' helper), dropped after."""
    sys.path.insert(0, str(HERE.parent / "tests" / "state"))
    from stateutil import state_url_for

    return state_url_for("postgresql", folder)


class Round:
    """A fresh copy of every org, served; their fleet file; the environment of a command."""

    def __init__(self, folder: Path, orgs: list[str], state: str) -> None:
        self.folder, self.orgs, self.state = folder, orgs, state
        self.queue = f"crmqual-bench-{uuid.uuid4().hex[:8]}"
        self.env = dict(os.environ) | {"CRMQUAL_BROKER_URL": BROKER}
        self.fleet = folder / "fleet.yaml"

    @contextmanager
    def served(self, db: Path, latency_ms: int) -> Iterator[None]:
        with ExitStack() as stack:
            entries = []
            for org in self.orgs:
                where = self.folder / org
                where.mkdir(parents=True)
                shutil.copy(db, where / "zoho.db")
                box = ZohoSandbox(where / "zoho.db")
                stack.callback(box.close)
                proc, creds = serve(box, latency_ms, where / "serve.log")
                stack.callback(proc.wait)
                stack.callback(proc.kill)
                self.env |= {secret_env(org, k): getattr(creds, k) for k in SECRETS}
                config = org_config(where, org, creds)
                entries.append(
                    {
                        "name": org,
                        "target": f"bench:{org}",
                        "config": str(config),
                        "schedule": {"cron": "0 2 * * *", "timezone": "Asia/Shanghai"},
                    }
                )
            fleet = {"state": self.state, "queue": self.queue, "broker": BROKER, "orgs": entries}
            self.fleet.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
            yield

    def fleet_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "crmqual", "fleet", *args, "-f", str(self.fleet)]

    def finished_runs(self) -> dict[str, dict[str, Any]]:
        found = {}
        with StateStore(self.state) as store:
            for org in self.orgs:
                runs = [r for r in store.list_runs(f"bench:{org}", limit=5) if r.kind == "sync"]
                done = [r for r in runs if r.status != "running"]
                if done:
                    found[org] = {"status": done[0].status, **done[0].counts}
        return found


def sequential(r: Round) -> tuple[float, dict[str, dict[str, Any]]]:
    started = time.monotonic()
    done = subprocess.run(r.fleet_command("run", "--parallel", "1"), env=r.env, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"crmqual fleet run exited {done.returncode}")
    return wall, r.finished_runs()


def with_workers(r: Round, count: int) -> tuple[float, dict[str, dict[str, Any]]]:
    workers = []
    try:
        for i in range(count):
            log = (r.folder / f"worker{i}.log").open("wb")
            argv = [*r.fleet_command("worker"), "--", "-c", "1", "-n", f"b{i}-{r.queue}@%h"]
            argv += ["-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"]
            workers.append(
                subprocess.Popen(argv, env=r.env, stdout=log, stderr=log, start_new_session=True)
            )
        for i in range(count):
            _wait(lambda i=i: "ready." in (r.folder / f"worker{i}.log").read_text("utf-8"), 120)
        started = time.monotonic()
        subprocess.run(r.fleet_command("enqueue"), env=r.env, check=True, capture_output=True)
        _wait(lambda: len(r.finished_runs()) == len(r.orgs), 7200, poll=0.5)
        return time.monotonic() - started, r.finished_runs()
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            proc.wait()
        from kombu import Connection

        with Connection(BROKER) as conn:
            conn.default_channel.queue_delete(r.queue)


def _wait(check: Any, timeout: float, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(poll)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=12)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "fleet.json")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    orgs = [f"org{i:02d}" for i in range(1, args.orgs + 1)]
    result: dict[str, Any] = {
        "orgs": args.orgs,
        "accounts": args.accounts,
        "latency_ms": args.latency_ms,
        "workers": {},
    }
    with tempfile.TemporaryDirectory(prefix="crmqual-bench-fleet-") as tmp:
        root = Path(tmp)
        began = time.monotonic()
        db = template(root, args.accounts, args.latency_ms)
        print(
            f"seeded and provisioned {args.accounts:,} accounts in {time.monotonic() - began:.0f} s"
        )
        lone: dict[str, int] = {}
        for label in ["sequential", *counts]:
            with pg_schema(root) as state:
                r = Round(root / f"round-{label}", orgs, state)
                with r.served(db, args.latency_ms):
                    if label == "sequential":
                        wall, runs = sequential(r)
                    else:
                        wall, runs = with_workers(r, int(label))
            bad = {o: v for o, v in runs.items() if v["status"] != "ok"}
            if bad or len(runs) != len(orgs):
                raise SystemExit(f"{label}: not every org synced ok: {runs}")
            calls = {o: v["api_calls"] for o, v in sorted(runs.items())}
            written = sum(v["written"] for v in runs.values())
            if label == "sequential":
                lone = calls
                result["sequential"] = {"wall_s": round(wall, 1), "api_calls": calls}
                print(f"sequential: {wall:.1f} s, {written:,} records written")
            else:
                ratio = result["sequential"]["wall_s"] / wall
                result["workers"][str(label)] = {
                    "wall_s": round(wall, 1),
                    "ratio": round(ratio, 2),
                    "api_calls": calls,
                }
                same = "same as" if calls == lone else "DIFFERENT from"
                print(
                    f"{label} worker(s): {wall:.1f} s, {ratio:.2f}x sequential, "
                    f"{written:,} written, API calls per org {same} a lone sync's"
                )
    result["api_calls_equal"] = all(w["api_calls"] == lone for w in result["workers"].values())
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    result["load_average_at_end"] = [round(n, 1) for n in os.getloadavg()]
    if (args.orgs, args.accounts) != (12, 10_000):
        result["note"] = (
            f"run at {args.orgs} orgs of {args.accounts:,} accounts, not issue 23's 12 of 10,000"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
