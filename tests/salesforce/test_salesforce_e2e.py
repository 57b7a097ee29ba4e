"""Issue 16's end-to-end evidence for the data path: `crmqual` commands against the sandbox's
Salesforce dialect, in-process (the CLI in this process, the sandbox answering Salesforce's own
hosts) and served (`crmqual sandbox serve --crm salesforce` as its own process over HTTPS on a
free loopback port, `crmqual` commands as subprocesses, configured by a crmqual.yaml whose
secrets are `${ENV}` references and whose `ca_file` is the sandbox's CA).

Full sync on the REST path (query_all_iter, sObject Collections) and on the bulk path (Bulk
API 2.0 query and update jobs), a second run writing 0, an incremental run after a hand edit,
SIGKILL mid-run and resume with each record written once, the `flaky` profile ending with the
values of a fault-free run, nothing written outside the output fields, and the daily API
allowance stopping a run (exit 5) that the next run finishes.

The output fields are made beforehand the way an admin makes them by hand
(`salesforce_backend.create_outputs_by_hand`: Tooling API and field-level security);
`crmqual provision` for Salesforce arrives with the provisioning part of issue 16.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from salesforce_backend import (
    SHIPPED_MAPPING,
    SalesforceBackend,
    adapter_of,
    create_outputs_by_hand,
    mapping_outputs,
    serve,
)

import served_sandbox
from crmqual.mapping import load_mapping
from crmqual.sandbox.faults import PROFILES
from crmqual.sandbox.salesforce.backend import (
    HAND_EDIT_CLIENT,
    SalesforceCredentials,
    SalesforceSandbox,
)
from crmqual.sandbox.salesforce.call import SalesforceLimits
from crmqual.sandbox.salesforce.seed import seed_salesforce
from crmqual.sandbox.store import WriteEntry
from served_sandbox import no_sleep, until_ok, wait_for_writes

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
AS_OF = "2026-03-02"
ACCOUNTS = 300
SEED = 11
BATCH = 30
MAPPING = load_mapping(SHIPPED_MAPPING)[0]
OUTPUTS = frozenset(MAPPING.output_fields)
STAMP = MAPPING.outputs["assessed_at"].field
STATUS = MAPPING.outputs["status"].field
SYSTEM = frozenset({"SystemModstamp", "LastModifiedDate", "LastModifiedById"})
#: the bulk path: reads and writes of 100 records or more are Bulk API 2.0 jobs
BULK = {"read_threshold": 100, "write_threshold": 100, "job_records": 120, "poll_interval": 0.05}


class Org(served_sandbox.Org[SalesforceSandbox, SalesforceBackend]):
    """A seeded sandbox org and a crmqual.yaml for it; `crmqual(...)` runs a command."""

    as_of = AS_OF

    def ours(self) -> list[WriteEntry]:
        """crmqual's writes to Accounts in the sandbox's write log."""
        return [
            w
            for w in self.box.writes()
            if w.module == "Account" and w.client.startswith("crmqual/")
        ]

    def ids(self) -> set[str]:
        return set(self.box.account_ids())


def _provision_by_hand(box: SalesforceSandbox) -> None:
    with box.inprocess() as creds:
        create_outputs_by_hand(adapter_of(creds, served=False), mapping_outputs())


@contextmanager
def open_org(
    tmp_path: Path,
    mode: str,
    *,
    faults: str | None = None,
    fault_seed: int = 0,
    latency_ms: int | None = None,
    batch_size: int | None = BATCH,
    connection: dict[str, Any] | None = None,
    serve_extra: Callable[[SalesforceSandbox], Sequence[str]] = lambda box: (),
    limits: SalesforceLimits | None = None,
) -> Iterator[Org]:
    inprocess = mode == "inprocess"
    box = SalesforceSandbox(
        tmp_path / "sf.db",
        limits=limits,
        faults=PROFILES[faults] if inprocess and faults else None,
        fault_seed=fault_seed,
        sleep=no_sleep if inprocess else time.sleep,
    )
    box.clock.freeze(START)
    seed_salesforce(box.store, ACCOUNTS, seed=SEED)
    box.clock.advance(1)
    _provision_by_hand(box)
    box.clock.advance(1)
    try:
        org_context: AbstractContextManager[SalesforceCredentials]
        if inprocess:
            org_context = box.inprocess()
        else:
            org_context = serve(
                box, tmp_path / "serve.log", faults=faults, latency_ms=latency_ms,
                extra=serve_extra(box),
            )  # fmt: skip
        with org_context as creds:
            backend = SalesforceBackend(box, creds, served=not inprocess, folder=tmp_path)
            backend.write_config(batch_size=batch_size, connection=connection)
            yield Org(mode, box, backend)
    finally:
        box.close()


def outputs(box: SalesforceSandbox) -> dict[str, dict[str, Any]]:
    """Every record's crmqual outputs but the assessed-at stamp."""
    found = {}
    for rid in box.account_ids():
        record = box.record(rid) or {}
        found[rid] = {f: record.get(f) for f in sorted(OUTPUTS - {STAMP})}
    return found


def inputs(box: SalesforceSandbox) -> dict[str, dict[str, Any]]:
    """Every record's values of every field crmqual does not own."""
    found = {}
    for rid in box.account_ids():
        record = box.record(rid) or {}
        found[rid] = {k: v for k, v in record.items() if k not in OUTPUTS | SYSTEM}
    return found


def assert_only_outputs_written(org: Org) -> None:
    for w in org.ours():
        assert w.source == "api" and set(w.changes) <= OUTPUTS | SYSTEM, (
            f"record {w.record_id}: {sorted(w.changes)}"
        )


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A fault-free, uninterrupted sync of the same org: the values every other run ends with."""
    with open_org(tmp_path_factory.mktemp("reference"), "inprocess") as org:
        code, summary = org.sync()
        assert (code, summary["written"], summary["failed"]) == (0, ACCOUNTS, 0), summary
        values = outputs(org.box)
    assert len(values) == ACCOUNTS and all(v[STATUS] for v in values.values())
    return values


# -- full, second and incremental runs, REST and bulk ----------------------------------------
@pytest.mark.parametrize(
    ("mode", "path"), [("inprocess", "rest"), ("served", "rest"), ("served", "bulk")]
)
def test_full_second_and_incremental_sync(
    tmp_path: Path, mode: str, path: str, reference: dict[str, dict[str, Any]]
) -> None:
    bulk = path == "bulk"
    with open_org(
        tmp_path,
        mode,
        batch_size=None if bulk else BATCH,
        connection={"bulk": BULK} if bulk else None,
    ) as org:
        config = org.backend.config
        assert config is not None
        text = config.read_text("utf-8")
        for name, secret in org.backend.secrets().items():
            assert "${" + name + "}" in text and secret not in text
        before = inputs(org.box)

        code, dry = org.sync("--dry-run")
        assert (code, dry["status"], dry["changed"]) == (0, "dry_run", ACCOUNTS)
        assert org.ours() == []

        code, first = org.sync()
        assert (code, first["status"], first["mode"]) == (0, "ok", "full"), first
        assert (first["read"], first["written"], first["failed"]) == (ACCOUNTS, ACCOUNTS, 0)
        assert outputs(org.box) == reference
        assert (
            Counter(w.record_id for w in org.ours())
            == Counter({n: 1 for n in {w.record_id for w in org.ours()}})
            and len(org.ours()) == ACCOUNTS
        )
        jobs = org.box.bulk2_jobs()
        if bulk:
            assert {j["kind"] for j in jobs} == {"query", "ingest"}
            # 120 + 120 in jobs; the last 60, below the threshold, in one collection call
            assert len([j for j in jobs if j["kind"] == "ingest"]) == 2
            assert sum(1 for c in org.box.calls() if c.path.endswith("/composite/sobjects")) == 1
            assert first["api_calls"] < 40, first
        else:
            assert jobs == []
            calls = Counter(c.path.split("/v62.0/")[-1] for c in org.box.calls())
            assert calls["composite/sobjects"] >= ACCOUNTS // BATCH

        org.box.clock.advance(1)
        code, second = org.sync()
        assert (code, second["mode"], second["written"], second["changed"]) == (
            0, "incremental", 0, 0,
        ), second  # fmt: skip
        assert len(org.ours()) == ACCOUNTS

        target = next(i for i, v in sorted(reference.items()) if v[STATUS] == "approved")
        org.box.clock.advance(1)
        org.box.hand_edit(target, {"Defaults_Count__c": 1, "Overdue_Max_Days__c": 120})
        org.box.clock.advance(1)
        code, third = org.sync()
        assert (code, third["mode"]) == (0, "incremental")
        assert (third["read"], third["changed"], third["written"]) == (1, 1, 1), third
        assert (org.box.record(target) or {})[STATUS] == "rejected"
        assert len(org.ours()) == ACCOUNTS + 1

        code, fourth = org.sync()
        assert (code, fourth["written"]) == (0, 0)
        assert_only_outputs_written(org)
        after = inputs(org.box)
        edited = {k: v for k, v in after[target].items() if before[target].get(k) != v}
        assert set(edited) == {"Defaults_Count__c", "Overdue_Max_Days__c"}
        assert {k: v for k, v in after.items() if k != target} == {
            k: v for k, v in before.items() if k != target
        }
        assert {w.client for w in org.box.writes() if w.module == "Account"} - {
            HAND_EDIT_CLIENT
        } == {org.ours()[0].client}


# -- SIGKILL mid-run, then resume -------------------------------------------------------------
@pytest.mark.parametrize("kills", [(30,), (60, 180)], ids=lambda k: "-".join(map(str, k)))
def test_sigkill_mid_sync_then_resume_writes_each_record_once(
    tmp_path: Path, kills: tuple[int, ...], reference: dict[str, dict[str, Any]]
) -> None:
    with open_org(tmp_path, "served", latency_ms=40) as org:
        for records in kills:
            proc = org.spawn("sync", "--as-of", AS_OF)
            wait_for_writes(org, records, proc)
            assert proc.poll() is None, f"the sync ended before the kill: {org.spawned_log()}"
            proc.kill()
            proc.wait(timeout=30)
        landed = len({w.record_id for w in org.ours()})
        assert landed < ACCOUNTS
        resumed: list[tuple[int, dict[str, Any]]] = []
        while not resumed or (resumed[-1][0] != 0 and len(resumed) < 3):
            resumed.append(org.sync())
        assert resumed[-1][0] == 0, resumed
        written = Counter(w.record_id for w in org.ours())
        assert len(written) == ACCOUNTS, "a record was lost"
        twice = sorted(k for k, n in written.items() if n > 1)
        assert not twice, f"written twice: {twice}"
        assert outputs(org.box) == reference
        code, settle = org.sync()
        assert (code, settle["written"]) == (0, 0)


# -- the flaky fault profile ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "fault_seed", "path"),
    [("inprocess", 3, "rest"), ("inprocess", 8, "bulk"), ("served", 3, "rest")],
)
def test_flaky_faults_and_reruns_end_where_a_fault_free_run_does(
    tmp_path: Path, mode: str, fault_seed: int, path: str, reference: dict[str, dict[str, Any]]
) -> None:
    bulk = path == "bulk"
    with open_org(
        tmp_path, mode, faults="flaky", fault_seed=fault_seed, batch_size=None if bulk else 10,
        connection={"bulk": BULK} if bulk else None,
    ) as org:  # fmt: skip
        before = inputs(org.box)
        synced = until_ok(lambda: org.sync()[0])
        assert synced[-1] == 0, synced
        assert outputs(org.box) == reference
        struck = [c for c in org.box.calls() if c.status >= 400 or c.status == 0]
        assert struck, "no fault struck: this run proves nothing"
        assert inputs(org.box) == before, "a field crmqual does not own was changed"
        assert_only_outputs_written(org)
        assert len({w.record_id for w in org.ours()}) == ACCOUNTS
        code, settle = org.sync()
        assert (code, settle["written"]) == (0, 0)
        print(
            f"\nflaky {mode} {path} seed {fault_seed}: sync exits {synced}; {len(struck)} faults "
            f"in {len(org.box.calls())} calls ({dict(Counter(c.status for c in struck))})"
        )


# -- sessions that end mid-run ---------------------------------------------------------------
@pytest.mark.parametrize("path", ["rest", "bulk"])
def test_sessions_that_end_mid_run_are_renewed_and_the_run_completes(
    tmp_path: Path, path: str, reference: dict[str, dict[str, Any]]
) -> None:
    """Every session ends after 6 API calls (401 INVALID_SESSION_ID): each is renewed by
    logging in again and the refused request is sent once more, Bulk 2.0 jobs included."""
    bulk = path == "bulk"
    with open_org(
        tmp_path, "inprocess", limits=SalesforceLimits(session_calls=6),
        batch_size=None if bulk else BATCH, connection={"bulk": BULK} if bulk else None,
    ) as org:  # fmt: skip
        setup = len(org.box.calls())  # the fields made by hand, with sessions of their own
        code, summary = org.sync()
        assert (code, summary["written"], summary["failed"]) == (0, ACCOUNTS, 0), summary
        assert outputs(org.box) == reference
        calls = org.box.calls()[setup:]
        refused = [c for c in calls if c.status == 401]
        logins = [c for c in calls if c.path.endswith("/oauth2/token")]
        assert len(refused) >= 2 and len(logins) == len(refused) + 1
        assert len(org.ours()) == ACCOUNTS


# -- the daily API allowance --------------------------------------------------------------------
def test_the_daily_allowance_stops_a_run_with_exit_5_and_the_next_run_finishes(
    tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    """The org has 14 API calls left for the day; crmqual keeps 3 in reserve, so the run
    stops (exit 5, its state saved) part way through the writes. A day later (the sandbox's
    rolling 24 hours) the next run finishes: every record written once, the reference values."""

    def allowance(box: SalesforceSandbox) -> list[str]:
        return ["--credits", str(box.api_usage()["spent"] + 14)]

    with open_org(tmp_path, "served", connection={"api_reserve": 3}, serve_extra=allowance) as org:
        code, out, err = org.crmqual("sync", "--json", "--as-of", AS_OF)
        summary = json.loads(out.strip().splitlines()[-1])
        assert code == 5 == summary["exit_code"], (out, err)
        stopped_at = len(org.ours())
        assert 0 < stopped_at < ACCOUNTS, stopped_at
        assert "reserve of 3" in out + err
        assert org.box.api_usage()["remaining"] >= 3  # the reserve was left to others

        org.box.clock.advance(86_400)
        code, last = org.sync()
        assert code == 0, last
        written = Counter(w.record_id for w in org.ours())
        assert len(written) == ACCOUNTS and set(written.values()) == {1}
        assert outputs(org.box) == reference


# -- `crmqual sandbox serve --crm salesforce --write-config` ----------------------------------
def test_the_served_sandbox_writes_a_config_that_syncs(tmp_path: Path) -> None:
    """The rehearsal path: the config and env file the sandbox writes work as they are."""
    box = SalesforceSandbox(tmp_path / "sf.db")
    seed_salesforce(box.store, 40, seed=SEED)
    _provision_by_hand(box)
    box.close()
    config, env_file = tmp_path / "conf" / "crmqual.yaml", tmp_path / "sandbox.env"
    config.parent.mkdir()
    argv = [*SalesforceSandbox(tmp_path / "sf.db").serve_command(0)]
    argv += ["--write-config", str(config), "--env-file", str(env_file)]
    with (tmp_path / "serve.log").open("w") as log:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not (env_file.exists() and env_file.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.1)
        env = dict(os.environ)
        for line in env_file.read_text("utf-8").splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
        text = config.read_text("utf-8")
        assert "flow: jwt" in text and "${SALESFORCE_PRIVATE_KEY_FILE}" in text
        assert env["SALESFORCE_PRIVATE_KEY_FILE"] not in text
        done = subprocess.run(
            [sys.executable, "-m", "crmqual", "sync", "--json", "-c", str(config)],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert (done.returncode, summary["written"]) == (0, 40), done.stderr
    finally:
        proc.kill()
        proc.wait(timeout=10)
