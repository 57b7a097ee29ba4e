"""Every org of a fleet in one place: its last run (exit code, counts), last success, next due
time, quota left, lock holder and stop, from the shared state store; and the same as a
Prometheus text file for node_exporter's textfile collector (written atomically)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crmqual.fleet.config import LoadedFleet
from crmqual.fleet.schedule import SETTLED, next_due
from crmqual.state import RunRecord, StateStore

#: How many of an org's newest runs are searched for its last sync and last success.
RECENT = 50
SUCCESS = frozenset({"ok", "partial"})


@dataclass
class OrgStatus:
    org: str
    target: str
    next_due: datetime
    run_id: int | None = None
    status: str | None = None
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    read: int | None = None
    written: int | None = None
    failed: int | None = None
    api_calls: int | None = None
    quota_left: int | None = None
    last_success_at: datetime | None = None
    #: The start of the last run that settled its window (``crmqual fleet run``'s "due").
    settled_at: datetime | None = None
    lock_holder: str | None = None
    stopped: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def _exit_code(run: RunRecord) -> int | None:
    code = run.summary.get("exit_code")
    return int(code) if isinstance(code, int) else None


def org_statuses(fleet: LoadedFleet, store: StateStore, now: datetime) -> list[OrgStatus]:
    statuses = []
    for org in fleet.fleet.orgs:
        found = OrgStatus(org.name, org.target, next_due(org.schedule, now))
        syncs = [r for r in store.list_runs(org.target, limit=RECENT) if r.kind == "sync"]
        if syncs:
            last = syncs[0]
            found.run_id, found.status, found.exit_code = last.run_id, last.status, _exit_code(last)
            found.started_at, found.finished_at = last.started_at, last.finished_at
            found.duration_s = last.summary.get("duration_s")
            for key in ("read", "written", "failed", "api_calls"):
                setattr(found, key, last.counts.get(key))
            found.quota_left = last.summary.get("quota_left")
        found.last_success_at = next(
            (r.finished_at for r in syncs if r.status in SUCCESS and r.finished_at), None
        )
        found.settled_at = next((r.started_at for r in syncs if r.status in SETTLED), None)
        holder = store.lock_holder(org.target)
        if holder is not None:
            found.lock_holder = f"run {holder.run_id}, pid {holder.pid} on {holder.hostname}"
        stop = store.fleet_stop(org.target)
        if stop is not None:
            found.stopped = f"exit {stop.exit_code} at {stop.stopped_at:%Y-%m-%d %H:%M} UTC: "
            found.stopped += stop.reason
            found.exit_code = stop.exit_code  # the stop came last: nothing ran since
        statuses.append(found)
    return statuses


def write_metrics(path: Path, statuses: list[OrgStatus]) -> None:
    """The fleet's metrics in Prometheus' text format; ``write_to_textfile`` writes a temporary
    file beside ``path`` and renames it, so the collector never reads half a file."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    labels = ["org", "target"]

    def gauge(name: str, text: str) -> Gauge:
        return Gauge(f"crmqual_fleet_{name}", text, labels, registry=registry)

    success = gauge("last_success_timestamp_seconds", "End of the org's last successful sync.")
    duration = gauge("last_run_duration_seconds", "Duration of the org's last sync.")
    written = gauge("last_run_records_written", "Records written by the org's last sync.")
    failed = gauge("last_run_records_failed", "Records failed in the org's last sync.")
    calls = gauge("last_run_api_calls", "API calls of the org's last sync.")
    code = gauge("last_run_exit_code", "Exit code of the org's last sync.")
    quota = gauge("quota_left", "API quota the CRM said was left after the org's last sync.")
    due = gauge("next_due_timestamp_seconds", "The org's next scheduled time.")
    stopped = gauge("org_stopped", "1 while the org is stopped (exit 2 or 6) until resumed.")
    for s in statuses:
        at = (s.org, s.target)
        due.labels(*at).set(s.next_due.timestamp())
        stopped.labels(*at).set(1 if s.stopped else 0)
        if s.last_success_at is not None:
            success.labels(*at).set(s.last_success_at.timestamp())
        if s.exit_code is not None:
            code.labels(*at).set(s.exit_code)
        for metric, value in (
            (duration, s.duration_s),
            (written, s.written),
            (failed, s.failed),
            (calls, s.api_calls),
            (quota, s.quota_left),
        ):
            if value is not None:
                metric.labels(*at).set(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def refresh_metrics(fleet: LoadedFleet, store: StateStore, now: datetime) -> None:
    """Rewrite the fleet's metrics file, when it has one."""
    path = fleet.metrics_path
    if path is not None:
        write_metrics(path, org_statuses(fleet, store, now))
