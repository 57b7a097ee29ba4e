"""The report's figures equal those computed independently from the state store, on SQLite
and on PostgreSQL: counts per grade, exposure totals, the migration matrix (summing to the
portfolio), flags, what moved, the accounts to look at first; and ``--run`` reproduces an
earlier report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
import report_portfolio as pf
from report_portfolio import OTHER, SEVERITIES, TARGET, Book

from crmqual.report import Report, ReportError, build_report, newest_target
from crmqual.report.figures import TOP
from crmqual.state import StateStore


def report_of(store: StateStore, **options: object) -> Report:
    return build_report(store, TARGET, severities=SEVERITIES, **options)  # type: ignore[arg-type]


def test_portfolio_figures_equal_the_store(store: StateStore, book: Book) -> None:
    report = report_of(store)
    now = pf.latest(store, book.ids, None)
    assert report.meta.run_id == book.runs[1]
    assert report.meta.previous_run_id is not None and report.meta.previous_run_id < book.runs[1]
    assert report.accounts == len(now) == 130  # neither the pending nor the failed account
    assert report.grade_counts() == pf.grade_counts(now)
    totals = report.exposure_totals()
    expected = pf.exposure_totals(now)
    assert set(totals) == set(expected)
    for c in expected:
        assert totals[c] == pytest.approx(expected[c])
    assert sum(p.over_limit for p in report.portfolio) == pf.over_limit(now)
    limits = sum(p.limits for p in report.portfolio)
    assert limits == pytest.approx(sum(r.outputs["credit_limit"] or 0 for r in now.values()))
    statuses: dict[str, int] = {}
    for s in report.statuses:
        statuses[s.status] = statuses.get(s.status, 0) + s.accounts
    assert statuses == dict(pf.Counter(r.outputs["status"] for r in now.values()))
    assert sum(b.accounts for b in report.utilisation) == len(now)
    assert report.meta.policy_versions == {"test@1": 130}


def test_migration_matrix_sums_to_the_portfolio(store: StateStore, book: Book) -> None:
    report = report_of(store)
    now = pf.latest(store, book.ids, None)
    before = pf.latest(store, book.ids, book.runs[0])
    cells = {(m.previous, m.current): m.accounts for m in report.migration}
    assert cells == pf.migration(now, before)
    assert sum(cells.values()) == report.accounts
    assert report.changes.new_accounts == 10
    for grade, n in report.grade_counts().items():  # each column adds up to its grade
        assert sum(v for (_, a), v in cells.items() if a == grade) == n


def test_flags_and_what_moved_equal_the_store(store: StateStore, book: Book) -> None:
    report = report_of(store)
    now = pf.latest(store, book.ids, None)
    before = pf.latest(store, book.ids, book.runs[0])
    assert {f.code: f.accounts for f in report.flags} == pf.flag_counts(now)
    for f in report.flags:
        assert sum(f.by_grade.values()) == f.accounts
        assert f.severity == SEVERITIES[f.code]
    severe = pf.new_severe(now, before)
    assert severe, "the made-up book should have new severe flags"
    assert report.changes.new_severe_accounts == len(severe)
    assert {c.account_id for c in report.changes.new_severe} == severe
    assert report.changes.downgrades == pf.downgrades(now, before)
    assert all(c.grade > c.previous_grade for c in report.changes.downgraded)
    cuts = sum(x.cuts for x in report.changes.limits)
    rises = sum(x.rises for x in report.changes.limits)
    changed = [
        (r.outputs["credit_limit"], before[k].outputs["credit_limit"])
        for k, r in now.items()
        if k in before
        and r.id != before[k].id
        and None not in (r.outputs["credit_limit"], before[k].outputs["credit_limit"])
    ]
    assert cuts == sum(1 for a, b in changed if a < b)
    assert rises == sum(1 for a, b in changed if a > b)
    assert sum(x.cut_total + x.rise_total for x in report.changes.limits) == pytest.approx(
        sum(a - b for a, b in changed)
    )


def test_accounts_to_look_at_first(store: StateStore, book: Book) -> None:
    report = report_of(store)
    now = pf.latest(store, book.ids, None)
    before = pf.latest(store, book.ids, book.runs[0])
    severe = pf.new_severe(now, before)
    top = report.top
    assert len(top) == TOP
    flagged = [a for a in top if a.new_severe]
    by_risk = sorted(severe, key=lambda k: (-pf.risk(now[k]), k))
    assert [a.account_id for a in flagged] == by_risk[:TOP]
    assert top[: len(flagged)] == flagged  # new severe flags first
    rest = [a.account_id for a in top[len(flagged) :]]
    ranked = sorted(
        (r for k, r in now.items() if k not in severe),
        key=lambda r: (-pf.risk(r), r.outputs["score"], r.account_id),
    )
    assert rest == [r.account_id for r in ranked[: len(rest)]]
    assert all(a.reasons and a.url is None for a in top)
    # As of run 1 nothing is new: all 25 come from the ranking in SQL.
    first = report_of(store, run_id=book.runs[0])
    then = pf.latest(store, book.ids, book.runs[0])
    ranked = sorted(then.values(), key=lambda r: (-pf.risk(r), r.outputs["score"], r.account_id))
    assert not any(a.new_severe for a in first.top)
    assert [a.account_id for a in first.top] == [r.account_id for r in ranked[:TOP]]


def test_run_reproduces_an_earlier_report(store: StateStore, book: Book) -> None:
    first = report_of(store, run_id=book.runs[0])
    assert first.grade_counts() == pf.grade_counts(pf.latest(store, book.ids, book.runs[0]))
    assert first.meta.previous_run_id is None
    assert {m.previous for m in first.migration} == {"new"}
    as_of_two = asdict(report_of(store, run_id=book.runs[1]))
    # A later run changes the newest report, not the one of run 2.
    later = [pf._row(pf.random.Random(5), f"A{i:03}", pf.T0 + timedelta(days=2)) for i in range(30)]
    pf._run(store, TARGET, later, [r.account_id for r in later])
    again = asdict(report_of(store, run_id=book.runs[1]))
    for figures in (as_of_two, again):
        figures["meta"].pop("generated_at")
        figures.pop("runs")  # the run-health series lists the runs up to N: the same
    assert again == as_of_two
    assert report_of(store).meta.run_id > book.runs[1]


def test_since_compares_with_the_last_run_before_a_date(store: StateStore, book: Book) -> None:
    run_two = store.get_run(book.runs[1])
    assert run_two is not None
    report = report_of(store, since=run_two.started_at + timedelta(seconds=1))
    assert report.meta.previous_run_id == book.runs[0]  # OTHER's run in between is not TARGET's
    whole = report_of(store, since=run_two.started_at - timedelta(days=365))
    assert whole.meta.previous_run_id is None
    assert {m.previous for m in whole.migration} == {"new"}


def test_another_target_and_missing_runs(store: StateStore, book: Book) -> None:
    other = build_report(store, OTHER)
    assert other.accounts == 1
    assert newest_target(store) == TARGET
    with pytest.raises(ReportError) as info:
        build_report(store, TARGET, run_id=999)
    assert info.value.key == "report.no_run"
    with pytest.raises(ReportError):
        build_report(store, "zoho:nobody")


def test_due_for_review_from_the_schedule(store: StateStore, book: Book) -> None:
    run_two = store.get_run(book.runs[1])
    assert run_two is not None and run_two.finished_at is not None
    at = run_two.finished_at
    store.touch_accounts(
        TARGET,
        [
            ("A000", "D", at - timedelta(days=35)),  # due now, not 10 days ago: newly due
            ("A001", "D", at - timedelta(days=50)),  # due then and now
            ("A002", "A", at - timedelta(days=100)),  # A: a year between reviews
            ("A003", None, at - timedelta(days=31)),  # no grade: E's interval
        ],
    )
    store.touch_accounts(OTHER, [("A000", "E", at - timedelta(days=99))])
    days = {"A": 365, "B": 365, "C": 90, "D": 30, "E": 30}
    report = report_of(store, since=at - timedelta(days=10), review_days=days)
    assert (report.changes.due_now, report.changes.newly_due) == (3, 2)
