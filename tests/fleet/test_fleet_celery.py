"""The fleet on Celery against the real RabbitMQ and PostgreSQL: sandbox orgs served as
separate processes, two `crmqual fleet worker` processes on a queue named for the test.

Every org synced once, a second round writing 0; a worker SIGKILLed mid-sync and its org
finished by the other worker, each record written exactly once (the sandbox's write log);
the same org enqueued twice at once never runs twice at once; a quota stop deferred, not
retried; a broken org config failing alone (stopped) while the others finish.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from fleetutil import OrgSpec, World, broker_url, until, world

from crmqual.state import StateStore

pytestmark = pytest.mark.slow


def finished(w: World, org: str, n: int = 1) -> bool:
    return sum(r.status != "running" for r in w.runs(org)) >= n


def test_every_org_once_then_zero_and_a_broken_org_alone(tmp_path: Path) -> None:
    specs = [OrgSpec("a", 90), OrgSpec("b", 70), OrgSpec("c", broken=True)]
    with world(tmp_path, specs, broker=broker_url()) as w:
        w.start_worker("w1")
        w.start_worker("w2")
        w.enqueue()
        until(lambda: finished(w, "a") and finished(w, "b"), 120, "a and b synced")
        with StateStore(w.state_url) as store:
            until(lambda: store.fleet_stop("zoho:c"), 60, "c stopped")
            stop = store.fleet_stop("zoho:c")
        assert stop is not None and stop.exit_code == 2 and "batch_sise" in stop.reason
        for name in ("a", "b"):
            org = w.orgs[name]
            (run,) = w.runs(name)
            assert (run.status, run.counts["written"]) == ("ok", org.spec.accounts)
            assert set(org.written()) == org.ids() and max(org.written().values()) == 1
        w.enqueue("a", "b", "c")
        until(lambda: finished(w, "a", 2) and finished(w, "b", 2), 120, "the second round")
        assert [r.counts["written"] for r in w.runs("a")] == [90, 0]
        assert [r.counts["written"] for r in w.runs("b")] == [70, 0]
        time.sleep(2)  # c's second delivery: skipped (stopped), never a run
        assert w.runs("c") == []
        assert "org c is stopped, not run" in w.worker_log("w1") + w.worker_log("w2")
        status = json.loads(w.crmqual("status", "--json").stdout)
        assert {o["org"]: o["exit_code"] for o in status["orgs"]} == {"a": 0, "b": 0, "c": 2}


def test_a_worker_killed_mid_sync_hands_the_org_to_the_other(tmp_path: Path) -> None:
    specs = [OrgSpec("slow", 400, latency_ms=40, batch_size=10)]
    with world(tmp_path, specs, broker=broker_url()) as w:
        w1, w2 = w.start_worker("w1"), w.start_worker("w2")
        org = w.orgs["slow"]
        w.enqueue("slow")
        until(lambda: len(org.written()) >= 60, 120, "the first writes")
        with StateStore(w.state_url) as store:
            holder = store.lock_holder(org.target)
        assert holder is not None
        victim = w1 if os.getpgid(holder.pid) == w1.pid else w2
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool process, mid-sync
        victim.wait(timeout=30)
        written_when_killed = len(org.written())
        assert written_when_killed < org.spec.accounts
        until(lambda: any(r.status == "ok" for r in w.runs("slow")), 240, "the other worker")
        killed, *refused, resumed = w.runs("slow")
        assert killed.status == "running"  # its process died with it
        assert resumed.status == "ok"
        # A redelivery that came while the killed pool process was not yet reaped met its lock
        # (exit 4) and was retried after the lock's stale age: never dropped.
        assert all(r.status == "locked" for r in refused)
        assert resumed.counts["written"] + written_when_killed >= org.spec.accounts - 10
        written = org.written()
        assert set(written) == org.ids(), "a record was lost"
        assert max(written.values()) == 1, "a record was written twice"
        survivor = "w2" if victim is w1 else "w1"
        assert "crmqual.fleet.sync_org" in w.worker_log(survivor)


def test_the_same_org_enqueued_twice_never_runs_twice_at_once(tmp_path: Path) -> None:
    specs = [OrgSpec("twice", 200, latency_ms=20, batch_size=20)]
    retry = {"locked": {"times": 30, "delay_s": 1}}
    with world(tmp_path, specs, broker=broker_url(), retry=retry) as w:
        w.start_worker("w1")
        w.start_worker("w2")
        w.enqueue("twice", "twice")
        until(lambda: sum(r.status == "ok" for r in w.runs("twice")) == 2, 120, "both deliveries")
        runs = w.runs("twice")
        ran = [r for r in runs if r.status == "ok"]
        # The second delivery met the lock (exit 4), was retried after the delay until the
        # first was done, and then ran an incremental sync that wrote nothing.
        statuses = [r.status for r in runs]
        assert statuses[0] == statuses[-1] == "ok" and len(statuses) >= 3, statuses
        assert set(statuses[1:-1]) == {"locked"}, statuses
        assert [r.counts["written"] for r in ran] == [200, 0]
        assert ran[0].finished_at is not None and ran[0].finished_at <= ran[1].started_at
        written = w.orgs["twice"].written()
        assert len(written) == 200 and max(written.values()) == 1


def test_a_quota_stop_is_deferred_not_retried(tmp_path: Path) -> None:
    specs = [
        OrgSpec("quota", 300, credits=40, credit_reserve=12, batch_size=10),
        OrgSpec("fine", 50),
    ]
    with world(tmp_path, specs, broker=broker_url()) as w:
        w.start_worker("w1")
        w.start_worker("w2")
        w.enqueue()
        until(lambda: finished(w, "quota") and finished(w, "fine"), 120, "both orgs")
        time.sleep(5)  # a retry loop would have run again by now
        (run,) = w.runs("quota")
        assert run.status == "quota" and run.summary["exit_code"] == 5
        assert "deferred to its next window" in w.worker_log("w1") + w.worker_log("w2")
        (fine,) = w.runs("fine")
        assert fine.status == "ok"


def test_beat_sends_each_org_at_its_cron_time_and_skips_a_stopped_one(tmp_path: Path) -> None:
    specs = [OrgSpec("every", 40), OrgSpec("halted", 40)]
    with world(tmp_path, specs, broker=broker_url(), cron="* * * * *") as w:
        with StateStore(w.state_url) as store:
            store.stop_org("zoho:halted", "halted", 2, "a test's stop")
        w.start_worker("w1")
        w.start_beat(tmp_path / "beat-schedule")
        until(lambda: finished(w, "every"), 150, "beat's first minute")
        assert w.runs("halted") == []
        assert "Sending due task every" in (tmp_path / "beat.log").read_text("utf-8")
        assert "Sending due task halted" not in (tmp_path / "beat.log").read_text("utf-8")
