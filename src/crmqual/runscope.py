"""One run's life in the state store, the same for every kind of run (sync, revert, prune).

    with run_scope(state, target, "prune", stale_after=..., policy_version=..., ...) as run:
        run.start()        # the run's row, then the target's lock
        ...                # run.heartbeat() after every batch
        run.status, run.counts, run.summary = "partial", {"deleted": n}, {...}

``start()`` records the run as ``running`` and takes the lock; a run refused the lock is
finished as ``locked`` (the lock is not touched) and :class:`LockHeldError` goes on. A sync
or a revert calls it once the CRM's clock is known, since that is the run's signpost.

Leaving the block finishes the run: ``on_end`` (if any) fills in counts and summary from
the caller's own report, then status, counts, summary (with ``message`` when there is one)
and watermark are stored and the lock is released. An exception leaving the block sets the
status from what it is (:func:`status_of`) and the message from its text, and goes on (when
the state store fails to record that end as well, the first error is the one that goes on). A
run that ends in an error before it started is still recorded (its row is started and
finished at once, without the lock), so every run that failed shows in ``crmqual runs``;
one that ends normally without starting (a revert with nothing to restore) leaves no row.
With ``record=False`` (a dry run) nothing is stored at all; ``on_end`` is still called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmqual.errors import (
    CrmqualError,
    CrmUnavailableError,
    ErrorKind,
    LockHeldError,
    QuotaReachedError,
    StateStoreError,
)
from crmqual.state import StateStore
from crmqual.state.runs import SYNC_MODES

__all__ = ["RunScope", "run_scope", "status_of"]


def status_of(exc: BaseException) -> str:
    """The status of a run that ``exc`` ended."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, QuotaReachedError):
        return "quota"
    if isinstance(exc, CrmUnavailableError):  # unreachable, credentials refused, API errors
        return "failed"
    return "error"


@dataclass
class RunScope:
    """A run in progress: its id once started, and what it ends with (set by the caller)."""

    state: StateStore
    target: str
    kind: str
    mode: str
    stale_after: timedelta
    policy_version: str
    mapping_hash: str
    record: bool = True
    run_id: int | None = None
    signpost: datetime | None = None
    status: str = "ok"
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    watermark: datetime | None = None
    locked: bool = False  # whether this run holds the target's lock
    #: The kind of the error that ended the run (its exit code follows from it), if any.
    error_kind: ErrorKind | None = None

    def start(self, *, signpost: datetime | None = None) -> int:
        """Record the run as running and take the target's lock; the run's id."""
        self.signpost = signpost
        run_id = self._start_row()
        try:
            self.state.acquire_lock(self.target, run_id, stale_after=self.stale_after)
        except LockHeldError as exc:
            self.status, self.message = "locked", str(exc)
            raise
        self.locked = True
        return run_id

    def heartbeat(self) -> None:
        """Show the run is alive; :class:`LockHeldError` when its lock was taken over."""
        assert self.run_id is not None, "heartbeat() before start()"
        self.state.heartbeat(self.target, self.run_id)

    def _start_row(self) -> int:
        self.run_id = self.state.start_run(
            self.target,
            mode=self.mode,
            dry_run=False,
            signpost=self.signpost,
            policy_version=self.policy_version,
            mapping_hash=self.mapping_hash,
        )
        return self.run_id

    def _end(self, exc: BaseException | None, on_end: Callable[[RunScope], None] | None) -> None:
        if exc is not None and self.status != "locked":
            self.status, self.message = status_of(exc), str(exc) or type(exc).__name__
        if isinstance(exc, CrmqualError):
            self.error_kind = exc.kind
        if exc is not None and self.record and self.run_id is None:
            self._start_row()  # a run that died before it started is recorded all the same
        if on_end is not None:
            on_end(self)
        if self.run_id is None:  # a dry run, or a run that had nothing to do
            return
        summary = dict(self.summary)
        if self.message:
            summary.setdefault("message", self.message)
        failed: StateStoreError | None = None
        try:
            self.state.finish_run(
                self.run_id,
                status=self.status,
                counts=self.counts,
                watermark=self.watermark,
                summary=summary,
            )
        except StateStoreError as store_error:
            failed = store_error
        if self.locked:
            try:
                self.state.release_lock(self.target, self.run_id)
            except StateStoreError as store_error:
                failed = failed or store_error
        # A run already ending in an error (often the store's own) keeps that error; its row
        # stays "running" and its lock is taken over by the next run once this process is gone.
        if failed is not None and exc is None:
            raise failed


@contextmanager
def run_scope(
    state: StateStore,
    target: str,
    kind: str,
    *,
    mode: str | None = None,
    stale_after: timedelta,
    policy_version: str,
    mapping_hash: str,
    record: bool = True,
    on_end: Callable[[RunScope], None] | None = None,
) -> Iterator[RunScope]:
    """A run of ``kind`` ("sync", "revert", "prune") on ``target``; see the module docstring.

    ``mode`` is what the runs table keeps as the run's mode: "full" or "incremental" for a
    sync, the kind itself (the default) for the others. ``stale_after`` is how old another
    host's lock must be to be taken over (``sync.lock_stale_minutes``).
    """
    mode = mode or kind
    if (kind == "sync") != (mode in SYNC_MODES):
        raise ValueError(f"a {kind} run cannot have the mode {mode!r}")
    scope = RunScope(
        state,
        target,
        kind,
        mode,
        stale_after,
        policy_version,
        mapping_hash,
        record=record,
    )
    try:
        yield scope
    except BaseException as exc:
        scope._end(exc, on_end)
        raise
    scope._end(None, on_end)
