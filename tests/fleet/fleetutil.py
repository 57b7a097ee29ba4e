"""Sandbox orgs for a fleet: each a seeded Zoho sandbox served by `crmqual sandbox serve` in its
own process, with its own crmqual.yaml (secrets as `${ENV}` references named after the org)
and crmqual's output fields provisioned; a fleet.yaml over them with a fresh PostgreSQL
schema as the shared store; Celery workers as subprocesses on a queue named for the test.

RabbitMQ at $CRMQUAL_TEST_BROKER_URL (default amqp://guest:guest@127.0.0.1:5672//): the
tests skip when it does not answer, and fail instead under CRMQUAL_REQUIRE_BROKER=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from zoho_backend import SHIPPED_MAPPING, TOKEN_PATH, serve

from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.quota import Quota
from crmqual.sandbox.zoho.seed import seed_zoho
from crmqual.state import RunRecord, StateStore

BROKER_ENV = "CRMQUAL_TEST_BROKER_URL"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
SECRETS = ("client_id", "client_secret", "refresh_token")


def broker_url() -> str:
    """The test broker, or skip (fail under CRMQUAL_REQUIRE_BROKER=1) when it does not answer."""
    from kombu import Connection

    url = os.environ.get(BROKER_ENV, DEFAULT_BROKER)
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        if os.environ.get("CRMQUAL_REQUIRE_BROKER") == "1":
            pytest.fail(f"CRMQUAL_REQUIRE_BROKER=1 but no broker at {url}: {exc}")
        pytest.skip(f"no broker at {url}: {exc}")
    return url


@dataclass
class OrgSpec:
    name: str
    accounts: int = 120
    latency_ms: int | None = None
    batch_size: int = 50
    credits: int | None = -1  # -1: unlimited
    credit_reserve: int = 0
    broken: bool = False  # a crmqual.yaml with an unknown key: exit 2
    concurrency_class: str | None = None
    priority: int = 5


@dataclass
class SandboxOrg:
    spec: OrgSpec
    box: ZohoSandbox
    creds: ZohoCredentials
    config: Path

    @property
    def target(self) -> str:
        return f"zoho:{self.spec.name}"

    def env(self) -> dict[str, str]:
        return {_env_name(self.spec.name, k): getattr(self.creds, k) for k in SECRETS}

    def written(self) -> Counter[str]:
        """How many times crmqual wrote each record (the sandbox's write log)."""
        return Counter(
            str(w.record_id) for w in self.box.write_log() if w.client.startswith("crmqual/")
        )

    def ids(self) -> set[str]:
        return {str(r["id"]) for r in self.box.records()}


def _env_name(org: str, key: str) -> str:
    return f"FLEET_TEST_{org.upper().replace('-', '_')}_{key.upper()}"


@contextmanager
def sandbox_org(spec: OrgSpec, folder: Path, state_url: str) -> Iterator[SandboxOrg]:
    folder.mkdir(parents=True)
    credits = None if spec.credits is None else spec.credits
    box = ZohoSandbox(folder / "zoho.db", quota=Quota(credits=credits))
    box.clock.freeze(START)
    seed_zoho(box.store, spec.accounts, seed=len(spec.name))
    box.clock.advance(1)
    try:
        with serve(box, folder / "serve.log", latency_ms=spec.latency_ms) as creds:
            connection: dict[str, Any] = {
                "accounts_url": creds.token_url.removesuffix(TOKEN_PATH),
                "api_domain": creds.api_base,
                **{k: "${" + _env_name(spec.name, k) + "}" for k in SECRETS},
                "credit_reserve": spec.credit_reserve,
            }
            config: dict[str, Any] = {
                "crm": "zoho",
                "target": f"zoho:{spec.name}",
                "connection": connection,
                "mapping": str(SHIPPED_MAPPING),
                "sync": {"batch_size": spec.batch_size, "lock_stale_minutes": 1},
            }
            org = SandboxOrg(spec, box, creds, folder / "crmqual.yaml")
            org.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            provision = subprocess.run(
                [sys.executable, "-m", "crmqual", "provision", "-c", str(org.config)],
                env=os.environ | org.env() | {"CRMQUAL_STATE_URL": state_url},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert provision.returncode == 0, provision.stderr
            if spec.broken:
                config["sync"]["batch_sise"] = 10  # a typo: the org's config fails (exit 2)
                org.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            yield org
    finally:
        box.close()


@dataclass
class World:
    """Sandbox orgs, their fleet file and the shared store; workers started on demand."""

    folder: Path
    orgs: dict[str, SandboxOrg]
    fleet_file: Path
    state_url: str
    queue: str
    broker: str | None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for org in self.orgs.values():
            env |= org.env()
        if self.broker is not None:
            env["CRMQUAL_BROKER_URL"] = self.broker
        return env

    def crmqual(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "crmqual", "fleet", *args, "-f", str(self.fleet_file)],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        """`crmqual fleet worker` with one pool process, in its own process group."""
        log = (self.folder / f"{name}.log").open("wb")
        argv = [sys.executable, "-m", "crmqual", "fleet", "worker", "-f", str(self.fleet_file)]
        argv += ["--", "-c", "1", "-n", f"{name}-{self.queue}@%h", "-l", "info"]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        proc = subprocess.Popen(
            argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers.append(proc)
        until(lambda: "ready." in self.worker_log(name), 60, f"worker {name} ready")
        return proc

    def start_beat(self, schedule_file: Path) -> subprocess.Popen[bytes]:
        """`crmqual fleet beat`, its schedule kept in ``schedule_file``."""
        log = (self.folder / "beat.log").open("wb")
        argv = [sys.executable, "-m", "crmqual", "fleet", "beat", "-f", str(self.fleet_file)]
        argv += ["--", "-s", str(schedule_file), "-l", "info"]
        proc = subprocess.Popen(
            argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers.append(proc)
        return proc

    def worker_log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def enqueue(self, *names: str) -> None:
        done = self.crmqual("enqueue", *names)
        assert done.returncode == 0, done.stderr

    def runs(self, org: str) -> list[RunRecord]:
        with StateStore(self.state_url) as store:
            return list(reversed(store.list_runs(self.orgs[org].target, limit=100)))

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def world(
    tmp_path: Path,
    specs: Sequence[OrgSpec],
    *,
    broker: str | None,
    metrics: bool = True,
    retry: dict[str, Any] | None = None,
    cron: str = "0 2 * * *",
) -> Iterator[World]:
    from stateutil import state_url_for

    with ExitStack() as stack:
        state_url = stack.enter_context(state_url_for("postgresql", tmp_path))
        orgs = {
            s.name: stack.enter_context(sandbox_org(s, tmp_path / s.name, state_url)) for s in specs
        }
        queue = f"crmqual-test-{uuid.uuid4().hex[:12]}"
        fleet: dict[str, Any] = {
            "state": state_url,
            "queue": queue,
            "orgs": [
                {
                    "name": s.name,
                    "target": orgs[s.name].target,
                    "config": str(orgs[s.name].config),
                    "schedule": {"cron": cron, "timezone": "Asia/Shanghai"},
                    "priority": s.priority,
                    **({"concurrency_class": s.concurrency_class} if s.concurrency_class else {}),
                }
                for s in specs
            ],
        }
        if broker is not None:
            fleet["broker"] = broker
        if metrics:
            fleet["metrics_file"] = str(tmp_path / "metrics" / "crmqual.prom")
        if retry is not None:
            fleet["retry"] = retry
        fleet_file = tmp_path / "fleet.yaml"
        fleet_file.write_text(yaml.safe_dump(fleet, sort_keys=False), encoding="utf-8")
        found = World(tmp_path, orgs, fleet_file, state_url, queue, broker)
        try:
            yield found
        finally:
            found.stop_workers()
            if broker is not None:
                _delete_queue(broker, queue)


def _delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker, connect_timeout=3) as conn:
        conn.default_channel.queue_delete(queue)
