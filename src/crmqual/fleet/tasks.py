"""The fleet on Celery: ``sync_org`` (one org's sync, acknowledged late and rejected when its
worker is lost, so a worker that dies mid-run hands the org to another) and beat's schedule
from the fleet file.

A second delivery of an org that is running meets the org's lock (exit 4) and is retried
after the lock's stale age, never dropped. The task returns the org's outcome; nothing reads
it back (``task_ignore_result``): what ran is in the shared state store.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from kombu import Queue  # type: ignore[attr-defined]

from crmqual.fleet.config import LoadedFleet, Org
from crmqual.fleet.decisions import Action, decide
from crmqual.fleet.run import run_org, settle
from crmqual.fleet.schedule import OrgCron
from crmqual.fleet.status import refresh_metrics
from crmqual.state import StateStore

log = logging.getLogger("crmqual.fleet")

SYNC_ORG = "crmqual.fleet.sync_org"
MAX_PRIORITY = 9


def make_app(fleet: LoadedFleet) -> Celery:
    """A Celery app for ``fleet``: its broker and queue, the task, beat's schedule."""
    app = Celery("crmqual.fleet", broker=fleet.broker, set_as_current=True)
    queue = fleet.fleet.queue
    app.conf.update(
        task_queues=[_queue(queue)],
        task_default_queue=queue,
        task_default_routing_key=queue,
        task_queue_max_priority=MAX_PRIORITY,
        task_default_priority=5,
        # One org at a time per worker process: a long sync must not hold others back.
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={org.name: _beat_entry(fleet, org) for org in fleet.fleet.orgs},
    )

    @app.task(  # type: ignore[untyped-decorator]
        name=SYNC_ORG,
        bind=True,
        acks_late=True,
        task_reject_on_worker_lost=True,
        max_retries=None,  # the fleet file's retry policy counts, not Celery's default of 3
    )
    def sync_org(self: Task, name: str) -> dict[str, Any]:
        return _sync_org(self, fleet, name)

    return app


def _queue(name: str) -> Queue:
    """The fleet's queue, with RabbitMQ priorities (0-9: an org's `priority`)."""
    return Queue(  # type: ignore[no-untyped-call]
        name, routing_key=name, queue_arguments={"x-max-priority": MAX_PRIORITY}
    )


class Stopped:
    """Whether an org is stopped, asked of the state store (beat pickles its entries, so a
    plain class rather than a closure)."""

    def __init__(self, state_url: str, target: str) -> None:
        self.state_url, self.target = state_url, target

    def __call__(self) -> bool:
        with StateStore(self.state_url) as store:
            return store.fleet_stop(self.target) is not None


def _beat_entry(fleet: LoadedFleet, org: Org) -> dict[str, Any]:
    return {
        "task": SYNC_ORG,
        "schedule": OrgCron(org.schedule, Stopped(fleet.state_url, org.target)),
        "args": (org.name,),
        "options": {"queue": fleet.fleet.queue, "priority": org.priority},
    }


def _sync_org(task: Task, fleet: LoadedFleet, name: str) -> dict[str, Any]:
    org = fleet.org(name)
    with StateStore(fleet.state_url) as store:
        outcome = run_org(fleet, org, store)
        retries = int(task.request.retries or 0)
        decision = decide(
            outcome.exit_code, retries, fleet.fleet.retry, timedelta(seconds=outcome.lock_stale_s)
        )
        settle(store, outcome, decision)
        try:
            refresh_metrics(fleet, store, datetime.now(UTC))
        except Exception as exc:  # metrics must never fail a sync that ran
            log.error("could not write the metrics file: %s", exc)
    answer = outcome.as_json() | {"action": decision.action.value, "retries": retries}
    if decision.action == Action.RETRY and not outcome.skipped:
        raise task.retry(countdown=decision.delay_s, max_retries=None)
    return answer


def send(app: Celery, fleet: LoadedFleet, org: Org) -> str:
    """Enqueue one org now, at its priority; the task's id."""
    result = app.send_task(
        SYNC_ORG, args=(org.name,), queue=fleet.fleet.queue, priority=org.priority
    )
    return str(result.id)
