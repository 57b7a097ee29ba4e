"""The policy lab's part of the state store, on SQLite and PostgreSQL: portfolio snapshots,
outcomes tied to the assessment before them, backtests and what prune keeps for them."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from stateutil import FakeClock, assessment, new_run

from crmqual.backtest import stored_account
from crmqual.compiled import compiled
from crmqual.outcomes import DERIVED_SOURCE, derived
from crmqual.policy import GRADES, load_policy
from crmqual.state import OutcomeIn, StateStore
from crmqual.whatif import Comparison

TARGET = "zoho:org1"
OTHER = "salesforce:orgX"
JAN = datetime(2026, 1, 5, 12, tzinfo=UTC)


def write(
    store: StateStore, clock: FakeClock, at: datetime, rows: dict[str, dict[str, object]]
) -> list[int]:
    """A run at ``at`` that wrote these accounts' inputs; the new row ids."""
    clock.now = at
    run = new_run(store, TARGET)
    store.record_pending(
        run,
        TARGET,
        [
            assessment(a, "B", assessed_at=at, account={"id": a, **inputs})
            for a, inputs in rows.items()
        ],
    )
    store.mark_written(TARGET, list(rows), run_id=run)
    return [r.id for a in rows for r in store.history(TARGET, a) if r.assessed_at == at]


def test_the_portfolio_is_each_accounts_newest_written_row(
    store: StateStore, clock: FakeClock
) -> None:
    write(store, clock, JAN, {"a1": {"revenue": 1}, "a2": {"revenue": 2}})
    write(store, clock, JAN + timedelta(days=3), {"a1": {"revenue": 10}})
    run = new_run(store, TARGET)
    store.record_pending(run, TARGET, [assessment("a2", "E", assessed_at=JAN + timedelta(days=4))])
    store.mark_failed(TARGET, ["a2"], run_id=run)  # a failed write is not what the CRM shows
    store.record_pending(run, TARGET, [assessment("a3", "E", assessed_at=JAN)])  # pending
    other = new_run(store, OTHER)
    store.record_pending(other, OTHER, [assessment("a9", "A", assessed_at=JAN)])
    store.mark_written(OTHER, ["a9"], run_id=other)

    now = store.portfolio(TARGET)
    assert [(r.account_id, r.account["revenue"]) for r in now] == [("a1", 10), ("a2", 2)]
    then = store.portfolio(TARGET, JAN + timedelta(days=1))
    assert [(r.account_id, r.account["revenue"]) for r in then] == [("a1", 1), ("a2", 2)]
    assert store.portfolio(TARGET, JAN - timedelta(seconds=1)) == []


def test_outcomes_are_tied_to_the_assessment_before_them_and_recorded_once(
    store: StateStore, clock: FakeClock
) -> None:
    [first] = write(store, clock, JAN, {"a1": {}})
    [second] = write(store, clock, JAN + timedelta(days=20), {"a1": {}})
    rows = [
        OutcomeIn("a1", "overdue_90", date(2026, 1, 5)),  # the day of the first assessment
        OutcomeIn("a1", "defaulted", date(2026, 2, 1)),
        OutcomeIn("a1", "paid_as_agreed", date(2025, 12, 1)),  # before any assessment
        OutcomeIn("zz", "defaulted", date(2026, 2, 1)),  # an account crmqual never assessed
    ]
    assert store.record_outcomes(TARGET, rows, "erp.csv") == 4
    assert store.record_outcomes(TARGET, rows[:2], "erp.csv") == 0
    found = {(o.account_id, o.outcome): o for o in store.outcomes(TARGET)}
    assert found["a1", "overdue_90"].assessment_id == first
    assert found["a1", "defaulted"].assessment_id == second
    assert found["a1", "paid_as_agreed"].assessment_id is None
    assert found["zz", "defaulted"].assessment_id is None
    assert [o.outcome for o in store.outcomes(TARGET, "a1")] == [
        "paid_as_agreed",
        "overdue_90",
        "defaulted",
    ]
    assert store.outcomes(OTHER) == []


def test_prune_keeps_one_row_per_account_per_month_and_every_row_referred_to(
    store: StateStore, clock: FakeClock
) -> None:
    days = (5, 12, 20, 36, 45, 50)  # Jan 10, 17, 25; Feb 10, 19, 24
    ids = [write(store, clock, JAN + timedelta(days=d), {"a1": {"revenue": d}})[0] for d in days]
    clock.now = JAN + timedelta(days=60)
    before = clock.now
    assert store.prune(TARGET, before, dry_run=True) == 4  # all but Jan 25 and Feb 24
    assert store.prune(TARGET, before, dry_run=True, keep_every="year") == 5
    assert store.prune(TARGET, before, dry_run=True, keep_every="none") == 5
    assert store.prune(TARGET, before, dry_run=True, keep_every="quarter") == 5

    store.record_outcomes(TARGET, [OutcomeIn("a1", "overdue_90", date(2026, 1, 12))], "f.csv")
    store.record_backtest(
        TARGET,
        as_of=JAN + timedelta(days=40),
        window_months=12,
        policy_version="p",
        against_version=None,
        figures={"auc": 0.7},
        assessment_ids=[ids[3]],
    )
    [bt] = store.list_backtests(TARGET)
    assert (bt.window_months, bt.figures, bt.against_version) == (12, {"auc": 0.7}, None)
    assert store.prune(TARGET, before) == 2  # Jan 17 and Feb 19: nothing refers to them
    left = [r.id for r in store.history(TARGET, "a1")]
    assert left == [ids[0], ids[2], ids[3], ids[5]]
    assert store.prune(TARGET, before, keep_every="none") == 1  # Jan 25: only a month's newest
    assert [r.id for r in store.history(TARGET, "a1")] == [ids[0], ids[3], ids[5]]


def test_the_migration_matrix_sums_to_the_stores_portfolio_and_exposure(
    store: StateStore, clock: FakeClock
) -> None:
    rng = random.Random(7)
    for day in range(3):
        rows = {
            f"a{i}": {
                "currency": rng.choice(["CNY", "USD"]),
                "revenue": rng.uniform(1e5, 1e8),
                "total_assets": 1e7,
                "total_liabilities": rng.uniform(1e6, 1.2e7),
                "overdue_max_days": rng.randint(0, 150),
                "current_exposure": round(rng.uniform(0, 1e6), 2),
            }
            for i in rng.sample(range(60), 40)
        }
        write(store, clock, JAN + timedelta(days=day), rows)
    policy = compiled(load_policy())
    c = Comparison(policy, policy, JAN + timedelta(days=5))
    for row in store.portfolio(TARGET):
        c.assess(stored_account(row.account))

    newest: dict[str, tuple[int, dict[str, object]]] = {}
    for i in range(60):
        for r in store.history(TARGET, f"a{i}"):
            if r.status.value == "written" and r.id > newest.get(r.account_id, (0, {}))[0]:
                newest[r.account_id] = (r.id, r.account)
    assert c.accounts == len(newest) == sum(sum(row.values()) for row in c.migration.values())
    totals: dict[str, float] = {}
    for _, account in newest.values():
        ccy = str(account["currency"])
        totals[ccy] = totals.get(ccy, 0.0) + float(account["current_exposure"])  # type: ignore[arg-type]
    cells: dict[str, float] = {}
    for g in GRADES:
        for h in GRADES:
            for ccy, v in c.migration_exposure[g][h].items():
                cells[ccy] = cells.get(ccy, 0.0) + v
    assert cells.keys() == totals.keys()
    for ccy, total in totals.items():
        assert abs(cells[ccy] - total) < 1e-6 * total
    assert c.changed == 0


def test_outcomes_derived_from_the_credit_record_appearing_later(
    store: StateStore, clock: FakeClock
) -> None:
    day = [JAN + timedelta(days=d) for d in range(4)]
    write(store, clock, day[0], {"a1": {"defaults": 0, "overdue_max_days": 10},
                                 "a2": {"defaults": 1, "overdue_max_days": 120},
                                 "a3": {"overdue_max_days": 30}})  # fmt: skip
    write(store, clock, day[1], {"a1": {"defaults": 0, "overdue_max_days": 95},
                                 "a3": {"overdue_max_days": 60}})  # fmt: skip
    write(store, clock, day[2], {"a1": {"defaults": 1, "overdue_max_days": 130},
                                 "a2": {"defaults": 1, "overdue_max_days": 150}})  # fmt: skip
    write(store, clock, day[3], {"a1": {"defaults": 2, "overdue_max_days": 20},
                                 "a3": {"overdue_max_days": 91}})  # fmt: skip
    found = sorted(derived(store.credit_histories(TARGET)), key=lambda o: (o.account_id, o.outcome))
    assert found == [
        OutcomeIn("a1", "defaulted", day[2].date()),  # the first rise only
        OutcomeIn("a1", "overdue_90", day[1].date()),
        OutcomeIn("a3", "overdue_90", day[3].date()),
    ]  # a2 was already in default and 90+ days late when first graded: no event
    assert store.record_outcomes(TARGET, found, DERIVED_SOURCE) == 3
    assert store.record_outcomes(TARGET, found, DERIVED_SOURCE) == 0
    tied = {o.outcome + o.account_id: o.assessment_id for o in store.outcomes(TARGET)}
    assert tied["defaulteda1"] == store.history(TARGET, "a1")[2].id  # the row that showed it
