"""Runs and the per-target lock: a run's row (started, finished with status and counts), the
lock that lets one run at a time write to a target, its heartbeat and the takeover of a lock
left by a killed run."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crmqual.errors import LockHeldError
from crmqual.state.database import Database, require_aware
from crmqual.state.schema import locks, runs

logger = logging.getLogger("crmqual.state")

RUN_RUNNING = "running"
#: The modes of a sync run; any other mode is the kind of run itself ("revert", "prune").
SYNC_MODES = ("full", "incremental")
_LOCK_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: int
    target: str
    mode: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    signpost: datetime | None
    watermark: datetime | None
    policy_version: str
    mapping_hash: str
    counts: dict[str, int]
    summary: dict[str, Any]

    @property
    def kind(self) -> str:
        """What ran: "sync", "revert" or "prune". A sync's mode says how it read ("full" or
        "incremental"); any other run's mode is its kind."""
        return "sync" if self.mode in SYNC_MODES else self.mode

    @property
    def message(self) -> str:
        """The error the run ended with, if any (kept in its summary)."""
        return str(self.summary.get("message") or "")


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds the lock of a target."""

    hostname: str
    pid: int
    run_id: int
    acquired_at: datetime
    heartbeat_at: datetime


def _this_host() -> str:
    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as alive)."""
    if pid <= 0:  # 0 and negatives address process groups; never treat them as dead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to another user
        return True
    return True


class Runs(Database):
    """The runs table and the locks table."""

    def acquire_lock(
        self, target: str, run_id: int, *, stale_after: timedelta = timedelta(minutes=10)
    ) -> None:
        """Take the lock of ``target`` for ``run_id``, or raise :class:`LockHeldError`.

        A lock left by a killed run is taken over: at once when it was taken on this host and
        its process is gone; from another host once its heartbeat is older than
        ``stale_after``. Taking it again for the same run and process only refreshes it.
        """
        host, pid = _this_host(), os.getpid()
        holder: LockHolder | None = None
        for _attempt in range(_LOCK_ATTEMPTS):
            now = self._clock()
            mine = {
                "hostname": host,
                "pid": pid,
                "run_id": run_id,
                "acquired_at": now,
                "heartbeat_at": now,
            }
            with self._write() as conn:
                insert = (
                    self._insert(locks)
                    .values(target=target, **mine)
                    .on_conflict_do_nothing(index_elements=["target"])
                )
                if conn.execute(insert).rowcount == 1:
                    return
                row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
                if row is None:  # released between our INSERT and SELECT: try again
                    continue
                holder = _lock_holder(row)
                if (holder.hostname, holder.pid, holder.run_id) == (host, pid, run_id):
                    self._touch_lock(conn, target, run_id, now)
                    return
                if not self._may_take_over(holder, host, now, stale_after):
                    raise LockHeldError(self._lock_message(target, holder, stale_after))
                # Compare-and-swap: only if nobody changed the row since we read it.
                swap = (
                    sa.update(locks)
                    .where(
                        locks.c.target == target,
                        locks.c.hostname == holder.hostname,
                        locks.c.pid == holder.pid,
                        locks.c.run_id == holder.run_id,
                        locks.c.heartbeat_at == holder.heartbeat_at,
                    )
                    .values(**mine)
                )
                if conn.execute(swap).rowcount == 1:
                    logger.warning(
                        "took over the lock of %r left by run %s (pid %s on %s, last heartbeat %s)",
                        target,
                        holder.run_id,
                        holder.pid,
                        holder.hostname,
                        holder.heartbeat_at.isoformat(),
                    )
                    return
        if holder is None:  # pragma: no cover - the row kept appearing and vanishing
            raise LockHeldError(f"could not take the lock of {target!r}: too much contention")
        raise LockHeldError(self._lock_message(target, holder, stale_after))

    @staticmethod
    def _may_take_over(
        holder: LockHolder, host: str, now: datetime, stale_after: timedelta
    ) -> bool:
        if holder.hostname == host:
            # Same host: the process table is the truth, no need to wait for staleness.
            return not _pid_alive(holder.pid)
        return now - holder.heartbeat_at > stale_after

    def _lock_message(self, target: str, holder: LockHolder, stale_after: timedelta) -> str:
        minutes = stale_after.total_seconds() / 60
        return (
            f"another crmqual run holds the lock of {target!r}: run {holder.run_id}, "
            f"pid {holder.pid} on host {holder.hostname!r}, since "
            f"{holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC (last heartbeat "
            f"{holder.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC). Wait for it to finish and try "
            f"again. If that run was killed, its lock is taken over automatically: on host "
            f"{holder.hostname!r} as soon as pid {holder.pid} is gone, from any other host once "
            f"its heartbeat is older than {minutes:g} minutes. State store: {self.safe_url}"
        )

    @staticmethod
    def _touch_lock(conn: Connection, target: str, run_id: int, now: datetime) -> int:
        result = conn.execute(
            sa.update(locks)
            .where(locks.c.target == target, locks.c.run_id == run_id)
            .values(heartbeat_at=now)
        )
        return result.rowcount

    def heartbeat(self, target: str, run_id: int) -> None:
        """Show that ``run_id`` is alive; call it after every batch, well within ``stale_after``.

        Raises :class:`LockHeldError` when the run no longer holds the lock (another run
        took it over as stale): the caller must stop writing.
        """
        with self._write() as conn:
            if self._touch_lock(conn, target, run_id, self._clock()) == 0:
                raise LockHeldError(
                    f"run {run_id} no longer holds the lock of {target!r} (it was taken over "
                    "after its heartbeat went stale); stopping so two runs do not write at once"
                )

    def lock_holder(self, target: str) -> LockHolder | None:
        """Who holds the lock of ``target`` now, if anyone (alive or not)."""
        with self._read() as conn:
            row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
        return None if row is None else _lock_holder(row)

    def force_release_lock(self, target: str) -> LockHolder | None:
        """Remove the lock of ``target`` whoever holds it; returns who held it.

        For an operator who knows the holder is gone but it cannot be detected (its pid
        was reused on the same host, or its host is gone and waiting is not an option).
        """
        with self._write() as conn:
            row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
            if row is None:
                return None
            holder = _lock_holder(row)
            conn.execute(
                sa.delete(locks).where(
                    locks.c.target == target,
                    locks.c.run_id == holder.run_id,
                    locks.c.heartbeat_at == holder.heartbeat_at,
                )
            )
        logger.warning(
            "removed the lock of %r held by run %s (pid %s on %s)",
            target,
            holder.run_id,
            holder.pid,
            holder.hostname,
        )
        return holder

    def release_lock(self, target: str, run_id: int) -> None:
        """Release the lock of ``target`` if ``run_id`` still holds it; otherwise do nothing."""
        with self._write() as conn:
            conn.execute(sa.delete(locks).where(locks.c.target == target, locks.c.run_id == run_id))

    def start_run(
        self,
        target: str,
        *,
        mode: str,
        dry_run: bool,
        signpost: datetime | None,
        policy_version: str,
        mapping_hash: str,
    ) -> int:
        """Record a new run with status ``"running"``; returns its id (increasing)."""
        require_aware(signpost, "signpost")
        with self._write() as conn:
            result = conn.execute(
                sa.insert(runs).values(
                    target=target,
                    mode=mode,
                    dry_run=dry_run,
                    status=RUN_RUNNING,
                    started_at=self._clock(),
                    signpost=signpost,
                    policy_version=policy_version,
                    mapping_hash=mapping_hash,
                    counts={},
                    summary={},
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict[str, int],
        watermark: datetime | None,
        summary: dict[str, Any],
    ) -> None:
        """Store the end of a run. Raises ``KeyError`` for an unknown run."""
        require_aware(watermark, "watermark")
        with self._write() as conn:
            result = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=self._clock(),
                    counts=dict(counts),
                    watermark=watermark,
                    summary=summary,
                )
            )
            if result.rowcount == 0:
                raise KeyError(f"no run {run_id} in the state store")

    def list_runs(self, target: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs (of ``target``, or of every target), newest first."""
        query = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(runs.c.target == target)
        with self._read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def get_run(self, run_id: int) -> RunRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one_or_none()
        return None if row is None else _run(row)


def _lock_holder(row: sa.Row[Any]) -> LockHolder:
    return LockHolder(
        hostname=row.hostname,
        pid=row.pid,
        run_id=row.run_id,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
    )


def _run(row: sa.Row[Any]) -> RunRecord:
    return RunRecord(
        run_id=row.id,
        target=row.target,
        mode=row.mode,
        dry_run=bool(row.dry_run),
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        signpost=row.signpost,
        watermark=row.watermark,
        policy_version=row.policy_version,
        mapping_hash=row.mapping_hash,
        counts=dict(row.counts),
        summary=dict(row.summary),
    )
