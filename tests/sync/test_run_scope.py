"""One run scope for every kind of run: a sync, a revert and a prune that end in an error are
recorded with their kind, status and message and release the lock; revert and prune take
over a stale lock after `sync.lock_stale_minutes`, as a sync does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from backends import FileBackend
from click.testing import CliRunner
from syncutil import MakeSync, company

from crmqual.cli.main import main
from crmqual.config import SyncSettings
from crmqual.errors import (
    ApiError,
    AuthError,
    CrmUnavailableError,
    ExitCode,
    LockHeldError,
    QuotaReachedError,
)
from crmqual.revert import revert_run
from crmqual.runscope import run_scope
from crmqual.state import StateStore
from crmqual.sync import SyncRequest

TARGET = "memory"


def scope(state: StateStore, kind: str = "prune", **kw: Any) -> Any:
    return run_scope(
        state,
        TARGET,
        kind,
        stale_after=timedelta(minutes=10),
        policy_version="p1",
        mapping_hash="m1",
        **kw,
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (CrmUnavailableError("the CRM is down"), "failed"),
        (AuthError("credentials refused"), "failed"),
        (ApiError("HTTP 400 INVALID_REQUEST"), "failed"),
        (QuotaReachedError("quota reserve reached"), "quota"),
        (KeyboardInterrupt(), "interrupted"),
        (RuntimeError("a bug"), "error"),
    ],
)
@pytest.mark.parametrize("started", [True, False])
def test_an_error_leaving_a_run_records_its_status_and_message_and_frees_the_lock(
    state: StateStore, error: BaseException, status: str, started: bool
) -> None:
    with pytest.raises(type(error)), scope(state) as run:
        if started:
            run.start()
            run.counts = {"deleted": 7}
        raise error
    (recorded,) = state.list_runs(TARGET)
    assert (recorded.kind, recorded.status) == ("prune", status)
    assert recorded.message == (str(error) or type(error).__name__)
    assert recorded.counts == ({"deleted": 7} if started else {})
    assert recorded.finished_at is not None
    assert state.lock_holder(TARGET) is None


def test_a_run_ending_well_records_what_the_caller_set(state: StateStore) -> None:
    with scope(state) as run:
        run_id = run.start()
        assert state.lock_holder(TARGET).run_id == run_id  # type: ignore[union-attr]
        run.heartbeat()
        run.status, run.counts, run.summary = "partial", {"deleted": 3}, {"before": "x"}
    recorded = state.get_run(run_id)
    assert recorded is not None
    assert (recorded.status, recorded.counts, recorded.summary) == (
        "partial",
        {"deleted": 3},
        {"before": "x"},
    )
    assert (recorded.kind, recorded.mode, recorded.message) == ("prune", "prune", "")
    assert state.lock_holder(TARGET) is None


def test_a_run_that_never_starts_or_is_a_dry_run_leaves_no_row(state: StateStore) -> None:
    with scope(state, "revert"):
        pass  # e.g. a revert with nothing to restore
    with pytest.raises(CrmUnavailableError), scope(state, "sync", mode="full", record=False):
        raise CrmUnavailableError("down")  # a dry run stores nothing, even when it fails
    assert state.list_runs(TARGET) == []


def test_a_run_refused_the_lock_is_recorded_as_locked_and_leaves_the_lock(
    state: StateStore,
) -> None:
    with scope(state) as holder:
        holder_id = holder.start()
        with pytest.raises(LockHeldError), scope(state, "revert") as second:
            second.start()
        assert state.lock_holder(TARGET).run_id == holder_id  # type: ignore[union-attr]
    refused = state.list_runs(TARGET)[0]
    assert (refused.kind, refused.status) == ("revert", "locked")
    assert "holds the lock" in refused.message


def test_a_sync_run_needs_a_sync_mode(state: StateStore) -> None:
    with pytest.raises(ValueError, match="mode"), scope(state, "sync"):
        pass
    with pytest.raises(ValueError, match="mode"), scope(state, "revert", mode="full"):
        pass


# -- sync and revert, on the in-memory CRM -----------------------------------------------------
def test_a_sync_dying_of_an_api_error_is_failed_and_frees_the_lock(
    make_sync: MakeSync, state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = make_sync()

    def refuse(*_a: Any, **_kw: Any) -> Any:
        raise ApiError("HTTP 400 INVALID_REQUEST on the write")

    monkeypatch.setattr(sync.adapter, "write", refuse)
    with pytest.raises(ApiError) as caught:
        sync.run(SyncRequest())
    assert caught.value.exit_code == ExitCode.CRM_UNAVAILABLE
    (recorded,) = state.list_runs(TARGET)
    assert (recorded.kind, recorded.mode, recorded.status) == ("sync", "full", "failed")
    assert recorded.message == "HTTP 400 INVALID_REQUEST on the write"
    assert recorded.counts["read"] == 10
    assert state.lock_holder(TARGET) is None


def test_a_revert_dying_of_a_crm_error_is_failed_and_frees_the_lock(
    make_sync: MakeSync, state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = make_sync().run(SyncRequest())
    adapter = make_sync().adapter
    mapping = make_sync().mapping
    original = adapter.write
    calls: list[int] = []

    def second_batch_fails(updates: Any) -> Any:
        calls.append(len(updates))
        if len(calls) > 1:
            raise CrmUnavailableError("connection reset by the CRM")
        return original(updates)

    monkeypatch.setattr(adapter, "write", second_batch_fails)
    monkeypatch.setattr(adapter, "write_batch_for", lambda queued: 4)
    with pytest.raises(CrmUnavailableError):
        revert_run(
            adapter=adapter,
            mapping=mapping,
            state=state,
            target=TARGET,
            run_id=synced.run_id,  # type: ignore[arg-type]
            dry_run=False,
        )
    newest = state.list_runs(TARGET)[0]
    assert (newest.kind, newest.status) == ("revert", "failed")
    assert newest.message == "connection reset by the CRM"
    assert newest.counts == {"written": 4, "failed": 0}
    assert newest.summary["reverted_run"] == synced.run_id
    assert state.lock_holder(TARGET) is None


def test_revert_takes_over_a_stale_lock_after_lock_stale_minutes(
    make_sync: MakeSync, state: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = make_sync().run(SyncRequest())
    ages: list[timedelta] = []
    original = StateStore.acquire_lock

    def spy(self: StateStore, target: str, run_id: int, **kw: Any) -> None:
        ages.append(kw["stale_after"])
        original(self, target, run_id, **kw)

    monkeypatch.setattr(StateStore, "acquire_lock", spy)
    sync = make_sync()
    revert_run(
        adapter=sync.adapter,
        mapping=sync.mapping,
        state=state,
        target=TARGET,
        run_id=synced.run_id,  # type: ignore[arg-type]
        dry_run=False,
        settings=SyncSettings(lock_stale_minutes=3),
    )
    assert ages == [timedelta(minutes=3)]


# -- prune and `crmqual runs`, on the file adapter -------------------------------------------------
@pytest.fixture
def backend(tmp_path: Path) -> Iterator[FileBackend]:
    b = FileBackend(tmp_path)
    b.load([company(i) for i in range(6)])
    config = yaml.safe_load(b.config.read_text("utf-8"))
    config["sync"]["lock_stale_minutes"] = 7
    b.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    yield b


def cli(backend: FileBackend, *args: str) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_a_prune_is_a_run_of_its_own_and_its_errors_are_recorded(
    backend: FileBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(backend, "provision")[0] == 0
    assert cli(backend, "sync", "--quiet")[0] == 0
    ages: list[timedelta] = []
    original = StateStore.acquire_lock

    def spy(self: StateStore, target: str, run_id: int, **kw: Any) -> None:
        ages.append(kw["stale_after"])
        original(self, target, run_id, **kw)

    monkeypatch.setattr(StateStore, "acquire_lock", spy)
    code, out, _, _ = cli(backend, "prune", "--older-than", "0")
    assert code == 0 and "deleted" in out
    assert ages == [timedelta(minutes=7)]  # sync.lock_stale_minutes, as for a sync

    def disk_full(*_a: Any, **_kw: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(StateStore, "prune", disk_full)
    _, _, _, exc = cli(backend, "prune", "--older-than", "0")
    assert isinstance(exc, OSError)
    code, out, _, _ = cli(backend, "runs", "--json")
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(r["kind"], r["status"], r["message"]) for r in listed] == [
        ("prune", "error", "disk full"),
        ("prune", "ok", ""),
        ("sync", "ok", ""),
    ]
    code, out, _, _ = cli(backend, "runs")
    header, failed, pruned, synced = out.splitlines()
    assert header.split() == [
        "run", "started", "(UTC)", "kind", "status", "read", "written", "failed", "note"
    ]  # fmt: skip
    assert failed.split()[0] == str(listed[0]["run_id"])
    assert "prune" in failed and "error" in failed and failed.endswith("disk full")
    assert "prune" in pruned and " ok" in pruned
    assert "sync full" in synced
