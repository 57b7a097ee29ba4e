"""The fleet without a broker: ``crmqual fleet run`` runs the orgs that are due on this
machine (a cron line or a Kubernetes CronJob every few minutes), in up to ``parallel``
threads, with the same locks and state store as the workers.

An org is due when its latest cron time has passed with no run since that settled its
window (ok, partly failed, or stopped at the quota); a run the CRM or a lock refused does
not settle it, so the next invocation tries again. Orgs of one concurrency class run one
after another; stopped orgs are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from crmqual.errors import EXIT_CODES, ExitCode, exit_code_of_kind, most_severe
from crmqual.fleet.config import LoadedFleet, Org, RetryPolicy
from crmqual.fleet.decisions import decide
from crmqual.fleet.run import OrgOutcome, run_org, settle
from crmqual.fleet.schedule import is_due
from crmqual.fleet.status import org_statuses, refresh_metrics
from crmqual.state import StateStore


def due_orgs(fleet: LoadedFleet, store: StateStore, now: datetime) -> list[Org]:
    """The orgs due now and not stopped, highest priority first."""
    statuses = {s.org: s for s in org_statuses(fleet, store, now)}
    due = [
        org
        for org in fleet.fleet.orgs
        if not statuses[org.name].stopped
        and is_due(org.schedule, now, statuses[org.name].settled_at)
    ]
    return sorted(due, key=lambda o: -o.priority)


def run_due(
    fleet: LoadedFleet,
    *,
    parallel: int = 1,
    names: list[str] | None = None,
    on_done: Callable[[OrgOutcome], None] = lambda _o: None,
) -> list[OrgOutcome]:
    """Run the due orgs (or ``names``, due or not, unless stopped); their outcomes."""
    with StateStore(fleet.state_url) as store:
        now = datetime.now(UTC)
        orgs = [fleet.org(n) for n in names] if names else due_orgs(fleet, store, now)
        # One chain per concurrency class (its orgs one after another), one per lone org.
        chains: dict[str, list[Org]] = {}
        for org in orgs:
            chains.setdefault(org.concurrency_class or f"\0{org.name}", []).append(org)

        def run_chain(chain: list[Org]) -> list[OrgOutcome]:
            done = []
            for org in chain:
                outcome = run_org(fleet, org, store)
                stale = timedelta(seconds=outcome.lock_stale_s)
                # Retries are the next invocation's: one attempt per org here.
                settle(store, outcome, decide(outcome.exit_code, 0, _no_retry(fleet), stale))
                on_done(outcome)
                done.append(outcome)
            return done

        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            outcomes = [o for chain in pool.map(run_chain, chains.values()) for o in chain]
        refresh_metrics(fleet, store, datetime.now(UTC))
    return outcomes


def _no_retry(fleet: LoadedFleet) -> RetryPolicy:
    return fleet.fleet.retry.model_copy(
        update={
            "crm_unavailable": fleet.fleet.retry.crm_unavailable.model_copy(update={"times": 0}),
            "locked": fleet.fleet.retry.locked.model_copy(update={"times": 0}),
        }
    )


def worst_exit(outcomes: list[OrgOutcome]) -> int:
    """The most severe exit code of the orgs run (``crmqual.errors.SEVERITY``); 0 if none."""
    kinds = {code: kind for kind, code in EXIT_CODES.items()}
    found = [kinds[o.exit_code] for o in outcomes if o.exit_code in kinds and not o.skipped]
    return exit_code_of_kind(most_severe(found)) if found else ExitCode.OK
