"""What follows from an org's exit code, and when an org is due (its cron in its time zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmqual.fleet.config import CrmRetry, LockedRetry, RetryPolicy, Schedule
from crmqual.fleet.decisions import Action, Decision, decide
from crmqual.fleet.schedule import OrgCron, is_due, last_due, next_due

POLICY = RetryPolicy(
    crm_unavailable=CrmRetry(times=3, backoff_s=60, max_backoff_s=150),
    locked=LockedRetry(times=2),
)
STALE = timedelta(minutes=10)


@pytest.mark.parametrize(
    ("code", "retries", "expected"),
    [
        (0, 0, Decision(Action.DONE)),
        (1, 0, Decision(Action.RECORDED)),
        (2, 0, Decision(Action.STOP)),
        (6, 0, Decision(Action.STOP)),
        (5, 0, Decision(Action.DEFER)),
        (3, 0, Decision(Action.RETRY, 60)),
        (3, 1, Decision(Action.RETRY, 120)),
        (3, 2, Decision(Action.RETRY, 150)),  # capped
        (3, 3, Decision(Action.DEFER)),  # spent: the next window
        (4, 0, Decision(Action.RETRY, 600)),  # the lock's stale age
        (4, 2, Decision(Action.DEFER)),
        (9, 0, Decision(Action.STOP)),  # a code crmqual does not know
    ],
)
def test_decisions(code: int, retries: int, expected: Decision) -> None:
    assert decide(code, retries, POLICY, STALE) == expected


def test_a_locked_delay_of_its_own() -> None:
    policy = RetryPolicy(locked=LockedRetry(delay_s=30))
    assert decide(4, 0, policy, STALE) == Decision(Action.RETRY, 30)


SHANGHAI_2AM = Schedule(cron="0 2 * * *", timezone="Asia/Shanghai")


def test_cron_times_are_read_in_the_orgs_time_zone() -> None:
    now = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)  # 01:00 in Shanghai
    assert next_due(SHANGHAI_2AM, now) == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    assert last_due(SHANGHAI_2AM, now) == datetime(2026, 2, 28, 18, 0, tzinfo=UTC)
    at = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    assert last_due(SHANGHAI_2AM, at) == at  # "at or before"


def test_due_until_a_run_settles_the_window() -> None:
    now = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai: 02:00 has passed
    assert is_due(SHANGHAI_2AM, now, None)
    assert is_due(SHANGHAI_2AM, now, datetime(2026, 3, 1, 17, 59, tzinfo=UTC))
    assert not is_due(SHANGHAI_2AM, now, datetime(2026, 3, 1, 18, 1, tzinfo=UTC))


def test_beat_skips_a_stopped_org_at_its_cron_time() -> None:
    stopped = [False]
    entry = OrgCron(Schedule(cron="* * * * *"), lambda: stopped[0])
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    due, wait = entry.is_due(long_ago)
    assert due and 0 < wait <= 60
    stopped[0] = True
    assert entry.is_due(long_ago)[0] is False
    assert not entry.is_due(datetime.now(UTC))[0]  # sent just now: not due again
