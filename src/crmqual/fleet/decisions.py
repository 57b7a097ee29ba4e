"""What the fleet does after an org's run, from its exit code (``crmqual.errors``):

0  done
1  recorded (some records failed; they are re-read next run), not retried
2  stop: configuration error; the org's schedule stops until `crmqual fleet resume`
3  retry with exponential backoff (the CRM unreachable or refusing credentials); once
   the retries are spent, the next window
4  retry after the lock's stale age (another run holds the org's lock, or the org's
   concurrency class is busy); once the retries are spent, the next window
5  defer to the next window (the quota comes back with it; retrying now would only
   spend the reserve)
6  stop: the state store failed; nothing can be recorded until an admin fixes it
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from crmqual.errors import ExitCode
from crmqual.fleet.config import RetryPolicy


class Action(StrEnum):
    DONE = "done"
    RECORDED = "recorded"
    RETRY = "retry"
    DEFER = "defer"
    STOP = "stop"


@dataclass(frozen=True)
class Decision:
    action: Action
    #: Seconds until the retry (RETRY only).
    delay_s: float | None = None


def decide(exit_code: int, retries: int, policy: RetryPolicy, lock_stale: timedelta) -> Decision:
    """What to do after a run that exited ``exit_code``, retried ``retries`` times so far."""
    if exit_code == ExitCode.OK:
        return Decision(Action.DONE)
    if exit_code == ExitCode.RECORDS_FAILED:
        return Decision(Action.RECORDED)
    if exit_code == ExitCode.CRM_UNAVAILABLE:
        crm = policy.crm_unavailable
        if retries >= crm.times:
            return Decision(Action.DEFER)
        return Decision(Action.RETRY, min(crm.backoff_s * 2**retries, crm.max_backoff_s))
    if exit_code == ExitCode.LOCKED:
        locked = policy.locked
        if retries >= locked.times:
            return Decision(Action.DEFER)
        return Decision(Action.RETRY, locked.delay_s or lock_stale.total_seconds())
    if exit_code == ExitCode.QUOTA:
        return Decision(Action.DEFER)
    return Decision(Action.STOP)  # 2, 6, and any code crmqual does not know
