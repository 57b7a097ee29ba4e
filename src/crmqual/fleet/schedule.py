"""When an org is due: its cron expression read in its own time zone (croniter; celery's
crontab reads every entry in the app's one time zone, and an org's night is its own).

Beat fires an org at each cron time (:class:`OrgCron`, skipping a stopped org); the
brokerless ``crmqual fleet run`` runs an org whose latest cron time has passed with no run
since that settled its window (:func:`is_due`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from celery.schedules import BaseSchedule, schedstate
from croniter import croniter

from crmqual.fleet.config import Schedule

#: Run statuses that settle an org's window: it ran (partly), or the quota stopped it and
#: it waits for its next window. Anything else (CRM down, locked, error) is tried again.
SETTLED = frozenset({"ok", "partial", "quota"})


def next_due(schedule: Schedule, after: datetime) -> datetime:
    """The first cron time strictly after ``after``, in UTC."""
    local = after.astimezone(schedule.zone)
    found: datetime = croniter(schedule.cron, local).get_next(datetime)
    return found.astimezone(UTC)


def last_due(schedule: Schedule, now: datetime) -> datetime:
    """The latest cron time at or before ``now``, in UTC."""
    local = now.astimezone(schedule.zone)
    itr = croniter(schedule.cron, local + timedelta(seconds=1))
    found: datetime = itr.get_prev(datetime)
    return found.astimezone(UTC)


def is_due(schedule: Schedule, now: datetime, last_settled_start: datetime | None) -> bool:
    """Whether an org whose last settled run started at ``last_settled_start`` is due."""
    return last_settled_start is None or last_settled_start < last_due(schedule, now)


class OrgCron(BaseSchedule):  # type: ignore[misc]  # celery ships no types
    """A beat schedule entry: the org's cron in its time zone; ``stopped`` (asked only when
    the entry is due) keeps a stopped org from being sent."""

    def __init__(self, schedule: Schedule, stopped: Callable[[], bool]) -> None:
        super().__init__()
        self.schedule = schedule
        self.stopped = stopped

    def now(self) -> datetime:
        return datetime.now(UTC)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        return next_due(self.schedule, self._aware(last_run_at)) - self.now()

    def is_due(self, last_run_at: datetime) -> schedstate:
        now = self.now()
        due = next_due(self.schedule, self._aware(last_run_at)) <= now
        wait = (next_due(self.schedule, now) - now).total_seconds()
        if due and self.stopped():
            # Counted as sent, so beat waits for the next cron time and asks again then.
            return schedstate(False, wait)
        return schedstate(due, wait)

    @staticmethod
    def _aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def __repr__(self) -> str:
        return f"<OrgCron {self.schedule.cron!r} {self.schedule.timezone}>"

    def __reduce__(self) -> tuple[object, ...]:
        return (self.__class__, (self.schedule, self.stopped))
