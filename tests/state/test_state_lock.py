"""The per-target lock: refusal with a clear message, recovery of locks left by killed runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from stateutil import FakeClock, new_run

from crmqual.errors import ExitCode, LockHeldError
from crmqual.state import LockHolder, StateStore
from crmqual.state.schema import locks

TARGET = "zoho:org1"

# A second process that takes the lock, says so, then sleeps or dies without releasing it.
CHILD = """
import os, sys, time
from crmqual.state import StateStore
store = StateStore(sys.argv[1])
run = store.start_run(sys.argv[2], mode="incremental", dry_run=False, signpost=None,
                      policy_version="p1", mapping_hash="m1")
store.acquire_lock(sys.argv[2], run)
print(run, flush=True)
if sys.argv[3] == "exit":
    os._exit(0)  # no release, no cleanup: as if killed
time.sleep(3600)
"""


@pytest.fixture
def child(state_url: str) -> Iterator[Callable[[str], tuple[subprocess.Popen[str], int]]]:
    started: list[subprocess.Popen[str]] = []

    def start(then: str) -> tuple[subprocess.Popen[str], int]:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, state_url, TARGET, then],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the child holds the lock (or dies)
        if not line:
            _, err = proc.communicate()
            pytest.fail(f"lock holder subprocess failed:\n{err}")
        return proc, int(line)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def holder_row(store: StateStore, target: str = TARGET) -> LockHolder | None:
    return store.lock_holder(target)


def test_second_run_is_refused_with_a_clear_message(store: StateStore, run_id: int) -> None:
    store.acquire_lock(TARGET, run_id)
    other = new_run(store)
    with pytest.raises(LockHeldError) as raised:
        store.acquire_lock(TARGET, other)
    message = str(raised.value)
    assert f"run {run_id}" in message
    assert f"pid {os.getpid()}" in message
    assert socket.gethostname() in message
    assert TARGET in message
    assert "since 2025-03-01 12:00:00 UTC" in message
    assert "Wait for it to finish" in message
    assert raised.value.exit_code == ExitCode.LOCKED
    row = holder_row(store)
    assert row is not None and row.run_id == run_id


def test_acquiring_again_for_the_same_run_refreshes_the_heartbeat(
    store: StateStore, run_id: int, clock: FakeClock
) -> None:
    store.acquire_lock(TARGET, run_id)
    clock.advance(timedelta(minutes=3))
    store.acquire_lock(TARGET, run_id)
    row = holder_row(store)
    assert row is not None and row.heartbeat_at == clock.now


def test_release_lets_the_next_run_in(store: StateStore, run_id: int) -> None:
    store.acquire_lock(TARGET, run_id)
    store.release_lock(TARGET, run_id)
    assert holder_row(store) is None
    second = new_run(store)
    store.acquire_lock(TARGET, second)
    row = holder_row(store)
    assert row is not None and row.run_id == second


def test_release_by_a_run_that_does_not_hold_the_lock_does_nothing(
    store: StateStore, run_id: int
) -> None:
    store.acquire_lock(TARGET, run_id)
    store.release_lock(TARGET, run_id + 100)
    row = holder_row(store)
    assert row is not None and row.run_id == run_id


def test_locks_of_different_targets_are_independent(store: StateStore, run_id: int) -> None:
    other = new_run(store, "salesforce:orgX")
    store.acquire_lock(TARGET, run_id)
    store.acquire_lock("salesforce:orgX", other)
    with pytest.raises(LockHeldError):
        store.acquire_lock("salesforce:orgX", run_id)


@pytest.mark.slow
def test_lock_held_by_another_process_is_refused_until_it_is_killed(
    open_store: Callable[..., StateStore],
    child: Callable[[str], tuple[subprocess.Popen[str], int]],
) -> None:
    proc, child_run = child("sleep")
    store = open_store()
    mine = new_run(store)
    with pytest.raises(LockHeldError) as raised:
        store.acquire_lock(TARGET, mine)
    assert f"pid {proc.pid}" in str(raised.value)
    assert f"run {child_run}" in str(raised.value)

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()  # reaped: a zombie would still count as alive
    store.acquire_lock(TARGET, mine)
    row = holder_row(store)
    assert row is not None
    assert (row.run_id, row.pid) == (mine, os.getpid())


@pytest.mark.slow
def test_lock_left_by_a_dead_process_on_this_host_is_taken_over(
    open_store: Callable[..., StateStore],
    child: Callable[[str], tuple[subprocess.Popen[str], int]],
    clock: FakeClock,
) -> None:
    proc, child_run = child("exit")
    proc.wait()
    store = open_store(clock)  # the fake clock is far in the past: no staleness involved
    mine = new_run(store)
    store.acquire_lock(TARGET, mine)
    row = holder_row(store)
    assert row is not None and row.run_id == mine and row.run_id != child_run


def test_another_host_is_taken_over_only_once_its_heartbeat_is_stale(
    open_store: Callable[..., StateStore], monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    stale_after = timedelta(minutes=10)
    elsewhere = open_store(clock)
    remote_run = new_run(elsewhere)
    monkeypatch.setattr("crmqual.state.runs._this_host", lambda: "other-host")
    elsewhere.acquire_lock(TARGET, remote_run, stale_after=stale_after)
    monkeypatch.undo()

    here = open_store(clock)
    mine = new_run(here)
    clock.advance(timedelta(minutes=8))
    elsewhere.heartbeat(TARGET, remote_run)  # heartbeat at +8 min
    clock.advance(timedelta(minutes=10))  # +18 min: heartbeat 10 min old, not yet stale
    with pytest.raises(LockHeldError, match="'other-host'"):
        here.acquire_lock(TARGET, mine, stale_after=stale_after)

    clock.advance(timedelta(seconds=1))
    here.acquire_lock(TARGET, mine, stale_after=stale_after)
    row = holder_row(here)
    assert row is not None
    assert (row.run_id, row.hostname) == (mine, socket.gethostname())

    # The displaced run learns it at its next heartbeat, and its release does not free ours.
    with pytest.raises(LockHeldError, match="no longer holds"):
        elsewhere.heartbeat(TARGET, remote_run)
    elsewhere.release_lock(TARGET, remote_run)
    row = holder_row(here)
    assert row is not None and row.run_id == mine


def test_another_host_with_a_fresh_heartbeat_is_not_judged_by_local_pids(
    store: StateStore, run_id: int, clock: FakeClock
) -> None:
    # A pid that cannot exist here: on another host it means nothing to us.
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(locks).values(
                target=TARGET,
                hostname="other-host",
                pid=2**22 + 7,
                run_id=run_id,
                acquired_at=clock.now,
                heartbeat_at=clock.now,
            )
        )
    mine = new_run(store)
    with pytest.raises(LockHeldError, match="other-host"):
        store.acquire_lock(TARGET, mine)


def test_heartbeat_without_the_lock_raises(store: StateStore, run_id: int) -> None:
    with pytest.raises(LockHeldError):
        store.heartbeat(TARGET, run_id)


# Each contender tries once, reports, and stays alive until told to go (stdin closed), so a
# winner's lock cannot be taken over as "dead" while the others are still trying.
CONTENDER = """
import sys
from crmqual.errors import LockHeldError
from crmqual.state import StateStore
store = StateStore(sys.argv[1])
run = store.start_run(sys.argv[2], mode="incremental", dry_run=False, signpost=None,
                      policy_version="p1", mapping_hash="m1")
sys.stdin.readline()  # start together
try:
    store.acquire_lock(sys.argv[2], run)
    print("got", run, flush=True)
except LockHeldError:
    print("held", run, flush=True)
sys.stdin.read()
"""


@pytest.mark.slow
def test_of_many_processes_racing_for_the_lock_exactly_one_wins(
    state_url: str, open_store: Callable[..., StateStore]
) -> None:
    open_store()  # migrate first, so the contenders race for the lock, not the schema
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONTENDER, state_url, TARGET],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = []
        for proc in procs:
            assert proc.stdout is not None
            answers.append(proc.stdout.readline().split())
        assert all(answer for answer in answers), [p.communicate()[1] for p in procs]
        winners = [int(run) for word, run in answers if word == "got"]
        assert len(winners) == 1
        row = holder_row(open_store())
        assert row is not None and row.run_id == winners[0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def test_lock_holder_and_forced_release(store: StateStore, run_id: int, clock: FakeClock) -> None:
    assert store.lock_holder(TARGET) is None
    assert store.force_release_lock(TARGET) is None
    store.acquire_lock(TARGET, run_id)
    expected = LockHolder(socket.gethostname(), os.getpid(), run_id, clock.now, clock.now)
    assert store.lock_holder(TARGET) == expected
    assert store.force_release_lock(TARGET) == expected
    assert store.lock_holder(TARGET) is None
    with pytest.raises(LockHeldError):
        store.heartbeat(TARGET, run_id)
