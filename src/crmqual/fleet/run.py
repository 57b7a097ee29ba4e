"""One org's run in a fleet, the same on a Celery worker and in ``crmqual fleet run``: skip it
when stopped, take its concurrency class's lock, run exactly what ``crmqual sync`` runs
(:func:`crmqual.sync.sync_configured`), and settle what follows from its exit code
(:mod:`crmqual.fleet.decisions`): a stop is recorded in the state store and alerted (logged
at error level, and ``crmqual_fleet_org_stopped`` in the metrics file)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from crmqual.errors import ConfigError, CrmqualError, StateStoreError
from crmqual.fleet.config import LoadedFleet, Org, lock_stale
from crmqual.fleet.decisions import Action, Decision
from crmqual.state import StateStore
from crmqual.sync import SyncRequest, sync_configured

log = logging.getLogger("crmqual.fleet")

#: The lock a concurrency class takes in the locks table, beside its orgs' own.
CLASS_LOCK = "fleet-class:{}"
DEFAULT_STALE = timedelta(minutes=10)


@dataclass
class OrgOutcome:
    """How an org's run ended: its exit code, the run's summary (``crmqual sync --json``'s),
    or the error that ended it before a summary existed; ``skipped`` for a stopped org."""

    org: str
    target: str
    exit_code: int
    message: str = ""
    summary: dict[str, Any] | None = None
    skipped: bool = False
    #: The org's lock stale age (the delay of an exit-4 retry).
    lock_stale_s: float = DEFAULT_STALE.total_seconds()

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def error_text(exc: CrmqualError) -> str:
    if isinstance(exc, ConfigError):
        return "; ".join(str(p) for p in exc.problems)
    return str(exc)


@contextmanager
def class_lock(store: StateStore, org: Org, stale: timedelta) -> Iterator[Callable[[], None]]:
    """Hold the org's concurrency class (LockHeldError when another org of it runs); yields
    the heartbeat to call while the sync goes on. Its holder's "run" is a random claim id:
    the class has no run of its own, and the lock tells holders apart by it."""
    if org.concurrency_class is None:
        yield lambda: None
        return
    key, claim = CLASS_LOCK.format(org.concurrency_class), secrets.randbelow(2**31 - 2) + 1
    store.acquire_lock(key, claim, stale_after=stale)
    try:
        yield lambda: store.heartbeat(key, claim)
    finally:
        store.release_lock(key, claim)


def run_org(fleet: LoadedFleet, org: Org, store: StateStore) -> OrgOutcome:
    """Run one org once (no retry here: the caller applies the decision)."""
    outcome = OrgOutcome(org.name, org.target, 0)
    try:
        stop = store.fleet_stop(org.target)
        if stop is not None:
            outcome.exit_code, outcome.skipped = stop.exit_code, True
            outcome.message = f"stopped since {stop.stopped_at:%Y-%m-%d %H:%M} UTC: {stop.reason}"
            return outcome
        loaded = fleet.org_config(org)
        stale = lock_stale(loaded)
        outcome.lock_stale_s = stale.total_seconds()
        with class_lock(store, org, stale) as heartbeat:
            summary = sync_configured(loaded, SyncRequest(), on_progress=lambda _s: heartbeat())
        summary.plan.close()
        outcome.exit_code, outcome.message = summary.exit_code, summary.message
        outcome.summary = summary.as_json()
    except CrmqualError as exc:
        outcome.exit_code, outcome.message = exc.exit_code, error_text(exc)
    return outcome


def settle(store: StateStore, outcome: OrgOutcome, decision: Decision) -> None:
    """Record and tell what the decision means; a stop persists so every worker skips it."""
    name, code = outcome.org, outcome.exit_code
    if outcome.skipped:
        log.warning("org %s is stopped, not run: %s", name, outcome.message)
    elif decision.action == Action.STOP:
        log.error(
            "org %s stopped (exit %s): %s -- fix it, then `crmqual fleet resume %s`",
            name,
            code,
            outcome.message,
            name,
        )
        try:
            store.stop_org(outcome.target, name, code, outcome.message)
        except StateStoreError as exc:  # the store itself failed: the next run tries again
            log.error("org %s: the stop could not be recorded: %s", name, exc)
    elif decision.action == Action.RETRY:
        log.warning(
            "org %s exit %s: retry in %.0f s: %s", name, code, decision.delay_s, outcome.message
        )
    elif decision.action == Action.DEFER:
        log.warning("org %s exit %s: deferred to its next window: %s", name, code, outcome.message)
    else:
        log.info("org %s exit %s", name, code)
