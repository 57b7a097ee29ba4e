"""Runs, cursors, assessments, schedule, failures and events, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from stateutil import T0, FakeClock, assessment, new_run

from crmqual.state import (
    CHUNK,
    AssessmentStatus,
    Cursor,
    EventIn,
    FailureIn,
    StateStore,
)

TARGET = "zoho:org1"
OTHER = "salesforce:orgX"


@contextmanager
def count_statements(store: StateStore) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)


# --------------------------------------------------------------------------- runs


def test_run_lifecycle(store: StateStore, clock: FakeClock) -> None:
    run = new_run(store)
    started = store.get_run(run)
    assert started is not None
    assert (started.status, started.target, started.mode) == ("running", TARGET, "incremental")
    assert started.started_at == T0 and started.finished_at is None and started.signpost == T0
    assert (started.counts, started.summary, started.dry_run) == ({}, {}, False)

    clock.advance(timedelta(minutes=5))
    store.finish_run(
        run,
        status="ok",
        counts={"read": 10, "written": 3},
        watermark=T0 - timedelta(seconds=1),
        summary={"warnings": ["downgrade"], "duration_s": 1.5},
    )
    done = store.get_run(run)
    assert done is not None
    assert done.status == "ok"
    assert done.finished_at == T0 + timedelta(minutes=5)
    assert done.counts == {"read": 10, "written": 3}
    assert done.watermark == T0 - timedelta(seconds=1)
    assert done.summary == {"warnings": ["downgrade"], "duration_s": 1.5}
    assert (done.policy_version, done.mapping_hash) == ("p1", "m1")


def test_unknown_run(store: StateStore) -> None:
    assert store.get_run(999) is None
    with pytest.raises(KeyError):
        store.finish_run(999, status="ok", counts={}, watermark=None, summary={})


def test_list_runs_newest_first_per_target_and_limited(store: StateStore) -> None:
    a1, b1, a2, a3 = (new_run(store, t) for t in (TARGET, OTHER, TARGET, TARGET))
    assert [r.run_id for r in store.list_runs()] == [a3, a2, b1, a1]
    assert [r.run_id for r in store.list_runs(TARGET)] == [a3, a2, a1]
    assert [r.run_id for r in store.list_runs(TARGET, limit=2)] == [a3, a2]
    assert [r.run_id for r in store.list_runs(OTHER)] == [b1]


# --------------------------------------------------------------------------- cursor


def test_cursor_is_set_replaced_and_kept_per_target(
    store: StateStore, run_id: int, clock: FakeClock
) -> None:
    assert store.get_cursor(TARGET) is None
    store.set_cursor(TARGET, watermark=T0, policy_version="p1", mapping_hash="m1", run_id=run_id)
    clock.advance(timedelta(hours=1))
    later = new_run(store)
    store.set_cursor(TARGET, watermark=None, policy_version="p2", mapping_hash="m2", run_id=later)
    store.set_cursor(OTHER, watermark=T0, policy_version="p1", mapping_hash="m1", run_id=run_id)
    assert store.get_cursor(TARGET) == Cursor(
        watermark=None,
        policy_version="p2",
        mapping_hash="m2",
        updated_at=T0 + timedelta(hours=1),
        run_id=later,
    )
    other = store.get_cursor(OTHER)
    assert other is not None and other.watermark == T0 and other.run_id == run_id


# --------------------------------------------------------------------------- assessments


def test_pending_rows_round_trip_oldest_first(store: StateStore, run_id: int) -> None:
    store.record_pending(
        run_id,
        TARGET,
        [
            assessment("a2", account={"since": date(2020, 5, 1), "equity": Decimal("10.50")}),
            assessment("a1", grade=None),
        ],
    )
    rows = store.pending(TARGET)
    assert [r.account_id for r in rows] == ["a2", "a1"]
    first, second = rows
    assert first.account == {"since": "2020-05-01", "equity": "10.50"}
    assert second.grade is None and second.outputs == {"grade": None, "limit": 50000}
    assert second.account == {"name": "客户 a1", "revenue": 1200.5}
    assert second.reasons == [{"code": "R1", "text": "ok"}]
    assert second.previous_native == {"Credit_Grade__c": None}
    assert (second.status, second.run_id, second.written_run_id) == ("pending", run_id, None)
    assert second.assessed_at == T0 and second.written_at is None
    assert store.pending(OTHER) == []


def test_record_pending_is_one_transaction(store: StateStore, run_id: int) -> None:
    unstorable = assessment("bad", account={"x": object()})
    # SQLite's driver reports it wrapped, psycopg as the serializer's own TypeError.
    with pytest.raises((sa.exc.StatementError, TypeError), match="cannot store object"):
        store.record_pending(run_id, TARGET, [assessment("ok"), unstorable])
    assert store.pending(TARGET) == []


def test_record_pending_needs_a_known_run(store: StateStore) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        store.record_pending(12345, TARGET, [assessment("a1")])


def test_pending_resolved_as_written_abandoned_or_failed(
    store: StateStore, run_id: int, clock: FakeClock
) -> None:
    store.record_pending(run_id, TARGET, [assessment(a) for a in ("a1", "a2", "a3", "a4")])
    store.record_pending(run_id, OTHER, [assessment("a1")])
    resumed = new_run(store)
    clock.advance(timedelta(minutes=1))

    store.mark_written(TARGET, ["a1", "a4"], run_id=resumed)
    store.mark_abandoned(TARGET, ["a2"])
    store.mark_failed(TARGET, ["a3"], run_id=resumed)

    assert store.pending(TARGET) == []
    assert [r.account_id for r in store.pending(OTHER)] == ["a1"]  # other target untouched
    by_account = {r.account_id: r for r in store.history(TARGET, "a1")}
    assert by_account["a1"].status == AssessmentStatus.WRITTEN
    assert by_account["a1"].written_at == T0 + timedelta(minutes=1)
    assert by_account["a1"].written_run_id == resumed and by_account["a1"].run_id == run_id
    assert store.history(TARGET, "a2")[0].status == AssessmentStatus.ABANDONED
    failed = store.history(TARGET, "a3")[0]
    assert (failed.status, failed.written_run_id, failed.written_at) == ("failed", resumed, None)
    assert [r.account_id for r in store.written_in_run(resumed)] == ["a1", "a4"]
    assert store.written_in_run(run_id) == []


def test_marking_changes_only_pending_rows(store: StateStore, run_id: int) -> None:
    store.record_pending(run_id, TARGET, [assessment("a1")])
    store.mark_written(TARGET, ["a1"], run_id=run_id)
    store.mark_abandoned(TARGET, ["a1"])
    store.mark_failed(TARGET, ["a1"], run_id=run_id)
    (row,) = store.history(TARGET, "a1")
    assert row.status == AssessmentStatus.WRITTEN


def test_two_pending_rows_of_one_account_newest_is_written(store: StateStore, run_id: int) -> None:
    store.record_pending(run_id, TARGET, [assessment("a1", grade="B")])
    store.record_pending(run_id, TARGET, [assessment("a1", grade="C")])
    store.mark_written(TARGET, ["a1"], run_id=run_id)
    assert [(r.grade, r.status) for r in store.history(TARGET, "a1")] == [
        ("B", "abandoned"),
        ("C", "written"),
    ]


def test_last_written_is_the_newest_written_row(store: StateStore, run_id: int) -> None:
    store.record_pending(run_id, TARGET, [assessment("a1", "A"), assessment("a2", "B")])
    store.mark_written(TARGET, ["a1", "a2"], run_id=run_id)
    second = new_run(store)
    store.record_pending(second, TARGET, [assessment("a1", "C")])
    store.mark_written(TARGET, ["a1"], run_id=second)
    store.record_pending(second, TARGET, [assessment("a1", "E"), assessment("a2", "E")])
    store.mark_failed(TARGET, ["a2"], run_id=second)  # a1's E stays pending
    store.record_pending(second, OTHER, [assessment("a1", "D")])
    store.mark_written(OTHER, ["a1"], run_id=second)

    latest = store.last_written(TARGET, ["a1", "a2", "a3", "a1"])
    assert {k: (v.grade, v.written_run_id) for k, v in latest.items()} == {
        "a1": ("C", second),
        "a2": ("B", run_id),
    }
    assert store.last_written(TARGET, []) == {}


def test_last_written_takes_one_query_per_page_and_chunks_big_lists(
    store: StateStore, run_id: int
) -> None:
    ids = [f"acc{i:05d}" for i in range(CHUNK * 2 + 1)]
    store.record_pending(run_id, TARGET, [assessment(a) for a in ids])
    store.mark_written(TARGET, ids, run_id=run_id)
    with count_statements(store) as statements:
        page = store.last_written(TARGET, ids[:200])
    assert len(statements) == 1
    assert sorted(page) == ids[:200]
    with count_statements(store) as statements:
        everything = store.last_written(TARGET, ids)
    assert len(statements) == 3
    assert sorted(everything) == ids
    assert len(store.written_in_run(run_id)) == len(ids)


def test_writes_of_run_pages_by_row_id(store: StateStore, run_id: int) -> None:
    ids = [f"acc{i:02d}" for i in range(7)]
    store.record_pending(run_id, TARGET, [assessment(a) for a in ids])
    store.mark_written(TARGET, ids[:6], run_id=run_id)  # acc06 stays pending
    assert store.count_written_in_run(run_id) == 6
    pages, after = [], 0
    while page := store.writes_of_run(run_id, after_id=after, limit=4):
        pages.append([r.account_id for r in page])
        after = page[-1].id
    assert pages == [ids[:4], ids[4:6]]


def test_history_of_an_account_in_one_or_all_targets(store: StateStore, run_id: int) -> None:
    store.record_pending(run_id, TARGET, [assessment("a1", "A")])
    store.record_pending(run_id, OTHER, [assessment("a1", "B")])
    store.record_pending(run_id, TARGET, [assessment("a1", "C"), assessment("a2", "D")])
    assert [r.grade for r in store.history(TARGET, "a1")] == ["A", "C"]
    assert [(r.target, r.grade) for r in store.history(None, "a1")] == [
        (TARGET, "A"),
        (OTHER, "B"),
        (TARGET, "C"),
    ]
    assert store.history(TARGET, "nobody") == []


# --------------------------------------------------------------------------- schedule


INTERVALS = {"A": timedelta(days=365), "C": timedelta(days=90), "E": timedelta(days=30)}


def test_due_accounts_by_grade_interval(store: StateStore) -> None:
    store.touch_accounts(
        TARGET,
        [
            ("a-young", "A", T0 - timedelta(days=364)),
            ("a-old", "A", T0 - timedelta(days=365)),  # exactly due
            ("c-due", "C", T0 - timedelta(days=100)),
            ("c-young", "C", T0 - timedelta(days=80)),
            ("e-due", "E", T0 - timedelta(days=31)),
            ("none-due", None, T0 - timedelta(days=181)),
            ("b-young", "B", T0 - timedelta(days=179)),  # B has no interval: the default
        ],
    )
    store.touch_accounts(OTHER, [("other", "E", T0 - timedelta(days=400))])
    due = store.due_accounts(TARGET, T0, INTERVALS, timedelta(days=180))
    assert due == ["a-old", "none-due", "c-due", "e-due"]  # least recently assessed first
    assert store.due_accounts(TARGET, T0, {}, timedelta(days=90)) == [
        "a-old",
        "a-young",
        "none-due",
        "b-young",
        "c-due",
    ]


def test_touch_updates_grade_and_time(store: StateStore) -> None:
    store.touch_accounts(TARGET, [("x", "E", T0 - timedelta(days=40))])
    assert store.due_accounts(TARGET, T0, INTERVALS, timedelta(days=180)) == ["x"]
    store.touch_accounts(TARGET, [("x", "A", T0 - timedelta(days=40))])  # upgraded
    assert store.due_accounts(TARGET, T0, INTERVALS, timedelta(days=180)) == []
    store.touch_accounts(TARGET, [("x", "E", T0)])
    assert store.due_accounts(TARGET, T0 + timedelta(days=29), INTERVALS, timedelta(1)) == []
    assert store.due_accounts(TARGET, T0 + timedelta(days=30), INTERVALS, timedelta(1)) == ["x"]


def test_touch_with_an_account_twice_keeps_the_latest(store: StateStore) -> None:
    store.touch_accounts(
        TARGET,
        [("x", "A", T0 - timedelta(days=10)), ("x", "E", T0 - timedelta(days=40))],
    )
    assert store.due_accounts(TARGET, T0, INTERVALS, timedelta(days=180)) == []


def test_touch_many_accounts(store: StateStore) -> None:
    rows = [(f"acc{i:05d}", "E", T0 - timedelta(days=31)) for i in range(CHUNK * 2 + 10)]
    store.touch_accounts(TARGET, rows)
    store.touch_accounts(TARGET, rows[:10])
    due = store.due_accounts(TARGET, T0, INTERVALS, timedelta(days=180))
    assert sorted(due) == [r[0] for r in rows]


# --------------------------------------------------------------------------- failures


def test_failures_stay_open_until_resolved(store: StateStore, run_id: int) -> None:
    store.record_failures(
        run_id,
        TARGET,
        [
            FailureIn("r2", "AnnualRevenue", "not a number", "INVALID_TYPE"),
            FailureIn("r1", None, "write rejected"),
            FailureIn("r2", "Industry", "unknown value"),
        ],
    )
    store.record_failures(run_id, OTHER, [FailureIn("r9", None, "x")])
    assert store.open_failures(TARGET) == ["r1", "r2"]

    later = new_run(store)
    store.record_failures(later, TARGET, [FailureIn("r1", None, "still rejected")])
    store.resolve_failures(TARGET, ["r2", "r9"])
    assert store.open_failures(TARGET) == ["r1"]
    assert store.open_failures(OTHER) == ["r9"]
    store.resolve_failures(TARGET, ["r1"])
    assert store.open_failures(TARGET) == []

    first = store.failures_of_run(run_id)
    assert [(f.target, f.record_id, f.field, f.code) for f in first] == [
        (TARGET, "r2", "AnnualRevenue", "INVALID_TYPE"),
        (TARGET, "r1", None, None),
        (TARGET, "r2", "Industry", None),
        (OTHER, "r9", None, None),
    ]
    assert first[0].reason == "not a number" and first[0].created_at == T0
    assert first[0].resolved_at == T0 and first[3].resolved_at is None
    assert [f.reason for f in store.failures_of_run(later)] == ["still rejected"]


def test_a_failure_after_resolution_is_open_again(store: StateStore, run_id: int) -> None:
    store.record_failures(run_id, TARGET, [FailureIn("r1", None, "x")])
    store.resolve_failures(TARGET, ["r1"])
    store.record_failures(run_id, TARGET, [FailureIn("r1", None, "again")])
    assert store.open_failures(TARGET) == ["r1"]


# --------------------------------------------------------------------------- events


def event(event_id: str, account_id: str = "a1", kind: str = "downgrade") -> EventIn:
    return EventIn(event_id, account_id, kind, "warning", {"from": "B", "to": "D"})


def test_events_are_recorded_once(store: StateStore, run_id: int) -> None:
    assert store.record_events(run_id, TARGET, [event("e2"), event("e1")]) == ["e2", "e1"]
    rerun = new_run(store)
    assert store.record_events(rerun, TARGET, [event("e1"), event("e2")]) == []
    assert store.record_events(rerun, TARGET, [event("e3"), event("e1"), event("e3")]) == ["e3"]
    assert store.record_events(rerun, TARGET, []) == []
    stored = store.events(TARGET)
    assert [(e.event_id, e.run_id) for e in stored] == [
        ("e2", run_id),
        ("e1", run_id),
        ("e3", rerun),
    ]
    assert stored[0].payload == {"from": "B", "to": "D"}
    assert (stored[0].kind, stored[0].severity, stored[0].created_at) == (
        "downgrade",
        "warning",
        T0,
    )


def test_events_filtered_by_target_and_run(store: StateStore, run_id: int) -> None:
    later = new_run(store)
    store.record_events(run_id, TARGET, [event("t1")])
    store.record_events(later, TARGET, [event("t2")])
    store.record_events(later, OTHER, [event("o1")])
    assert [e.event_id for e in store.events()] == ["t1", "t2", "o1"]
    assert [e.event_id for e in store.events(run_id=later)] == ["t2", "o1"]
    assert [e.event_id for e in store.events(TARGET, later)] == ["t2"]


def test_follow_up_is_remembered(store: StateStore, run_id: int, clock: FakeClock) -> None:
    store.record_events(run_id, TARGET, [event("e1"), event("e2")])
    store.record_events(run_id, OTHER, [event("o1")])
    clock.advance(timedelta(minutes=2))
    store.mark_followed_up("e1", "TASK-42")
    assert [e.event_id for e in store.unfollowed_events(TARGET)] == ["e2"]
    (e1,) = [e for e in store.events(TARGET) if e.event_id == "e1"]
    assert (e1.followup_ref, e1.followed_up_at) == ("TASK-42", T0 + timedelta(minutes=2))
    with pytest.raises(KeyError):
        store.mark_followed_up("nope", "TASK-1")


def test_many_events(store: StateStore, run_id: int) -> None:
    ids = [f"ev{i:05d}" for i in range(CHUNK + 20)]
    assert store.record_events(run_id, TARGET, [event(i) for i in ids[:100]]) == ids[:100]
    assert store.record_events(run_id, TARGET, [event(i) for i in ids]) == ids[100:]
    assert len(store.unfollowed_events(TARGET)) == len(ids)


def test_prune_keeps_newest_written_and_pending_rows(store: StateStore, clock: FakeClock) -> None:
    first = new_run(store)
    store.record_pending(first, TARGET, [assessment(a, "A") for a in ("a1", "a2", "a3", "a4")])
    store.record_pending(first, TARGET, [assessment("a5", "B")])
    store.mark_written(TARGET, ["a1", "a2"], run_id=first)
    store.mark_abandoned(TARGET, ["a3"])
    store.mark_failed(TARGET, ["a4"], run_id=first)  # a5 stays pending: a killed run's
    other = new_run(store, OTHER)
    for grade in ("A", "B"):  # another target's superseded row: not this prune's business
        store.record_pending(other, OTHER, [assessment("a1", grade)])
        store.mark_written(OTHER, ["a1"], run_id=other)
    for grade in ("B", "C"):  # ten and twenty days later
        clock.advance(timedelta(days=10))
        later = new_run(store)
        store.record_pending(later, TARGET, [assessment("a1", grade)])
        store.mark_written(TARGET, ["a1"], run_id=later)
    ids = ["a1", "a2", "a3", "a4", "a5"]
    latest = store.last_written(TARGET, ids)
    before = T0 + timedelta(days=15)  # the first two runs started before it, the third after

    assert store.prune(TARGET, before, dry_run=True) == 4
    assert len(store.history(TARGET, "a1")) == 3
    assert store.prune(TARGET, before) == 4  # a1's A and B, a3's abandoned, a4's failed row
    assert [r.grade for r in store.history(TARGET, "a1")] == ["C"]
    assert [r.grade for r in store.history(TARGET, "a2")] == ["A"]
    assert store.history(TARGET, "a3") == store.history(TARGET, "a4") == []
    assert [r.account_id for r in store.pending(TARGET)] == ["a5"]
    assert store.last_written(TARGET, ids) == latest
    assert len(store.history(OTHER, "a1")) == 2
    assert store.prune(TARGET, before) == 0
    assert store.prune(TARGET, T0 - timedelta(days=1)) == 0  # no run started that early


def test_writes_of_run_give_each_account_once_its_newest_row(store: StateStore) -> None:
    killed = new_run(store)
    store.record_pending(killed, TARGET, [assessment("a1", "B"), assessment("a2", "B")])
    resumed = new_run(store)
    store.mark_written(TARGET, ["a1", "a2"], run_id=resumed)  # the killed run's writes landed
    store.record_pending(resumed, TARGET, [assessment("a1", "C")])
    store.mark_written(TARGET, ["a1"], run_id=resumed)
    rows = store.writes_of_run(resumed)
    assert [(r.account_id, r.native) for r in rows] == [
        ("a2", {"Credit_Grade__c": "B"}),
        ("a1", {"Credit_Grade__c": "C"}),
    ]
    assert store.count_written_in_run(resumed) == 2
