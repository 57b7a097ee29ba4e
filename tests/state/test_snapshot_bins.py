"""A stability snapshot counts the accounts whose latest rows kept their bins from them,
binning their ages anew for its own day, and the others from their stored inputs: either way
it gives the figures of a snapshot worked out from every account's stored inputs
(``stability.snapshot``), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from stateutil import new_run

from crmqual import stability
from crmqual.compiled import CompiledPolicy, compiled
from crmqual.engine import assess
from crmqual.indicators import AGES, indicator_values
from crmqual.inputs import to_account
from crmqual.mapping import Labels, load_mapping
from crmqual.policy import default_policy_text, load_policy, parse_policy
from crmqual.stability import KEPT_CHUNK, SnapshotCounts, portfolio_snapshot, snapshot
from crmqual.state import AssessmentIn, StateStore, alembic_config
from crmqual.state.reading import Layout
from crmqual.state.schema import assessments
from crmqual.yamlfile import parse_yaml_text

TARGET = "zoho:acme"
ZOHO = load_mapping(None, "zoho")[0]
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
AS_OF = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)


def policy_with(
    company_age_bands: list[float] = [1, 2, 4, 5],  # noqa: B006 (never changed)
    points: list[int] = [0, 25, 50, 75, 100],  # noqa: B006
) -> CompiledPolicy:
    """The default policy, with these company age bands and points, scoring the statement's
    age too: a snapshot then bins two ages. 4 years is 1,461 days, 25 months 761."""
    data = parse_yaml_text(default_policy_text(), "default_policy.yaml")
    stability = next(
        d for d in data["scorecard"]["dimensions"] if d["name"] == "business_stability"
    )
    age = next(i for i in stability["indicators"] if i["indicator"] == "company_age_years")
    age["bands"], age["points"] = company_age_bands, points
    stability["indicators"].append(
        {
            "indicator": "statement_age_months",
            "missing": 50,
            "direction": "riskier",
            "bands": [6, 12, 18, 25],
            "points": [100, 75, 50, 25, 0],
            "reason": {"en": "Old statement.", "zh": "财报较旧。"},
        }
    )
    return compiled(parse_policy(data, "variant"))


def company(i: int) -> dict[str, Any]:
    """Companies founded around the age bands' edges, with statements of many ages, some
    without either date; the first is exactly 4 years old, its statement exactly 25
    months, on ``AS_OF``."""
    founded = date(2025, 6, 1) - timedelta(days=97 * i)
    period_end = date(2026, 3, 31) - timedelta(days=41 * i)
    if i == 0:
        founded, period_end = AS_OF.date() - timedelta(1461), AS_OF.date() - timedelta(761)
    return {
        "id": f"A{i:03d}",
        "name": f"Company {i}",
        "currency": "USD",
        "founding_date": None if i % 7 == 3 else founded,
        "period_end": None if i % 5 == 2 else period_end,
        "revenue": 1_000_000 + 50_000 * i,
        "prior_revenue": 900_000 + 70_000 * (i % 9),
        "total_assets": 2_000_000,
        "total_liabilities": 500_000 + 100_000 * (i % 13),
        "overdue_count": i % 4,
    }


def record(store: StateStore, policy: CompiledPolicy, ids: range, *, keep: bool) -> None:
    """A sync's rows for these companies, written; with their snapshot bins if ``keep``."""
    run_id = new_run(store, TARGET)
    store.record_layout(run_id, Layout(dict(ZOHO.outputs), Labels.of(policy.policy)))
    counts = SnapshotCounts(policy)
    rows = []
    for i in ids:
        account = to_account(company(i), AS_OF.date())
        result = assess(account, policy, as_of=AS_OF)
        bins = counts.bins(result.indicators, result.score)
        rows.append(
            AssessmentIn(
                account_id=account.id,
                assessed_at=AS_OF,
                account=account,
                outputs={},
                native={},
                previous_native={},
                policy_version=result.policy_version,
                grade=result.grade,
                reasons=[],
                result=result,
                snapshot=(counts.key, counts.kept(bins, account)) if keep else None,
            )
        )
    store.record_pending(run_id, TARGET, rows)
    store.mark_written(TARGET, [r.account_id for r in rows], run_id=run_id)


def from_inputs(store: StateStore, policy: CompiledPolicy, as_of: datetime) -> dict[str, Any]:
    return snapshot(store.iter_portfolio(TARGET, scores_only=True), policy, as_of)


@pytest.mark.parametrize("chunk", [KEPT_CHUNK, 7])
def test_kept_bins_give_the_snapshot_of_the_inputs_on_any_later_day(
    store: StateStore, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted in chunks (their rows unpacked at once) of any size: the same figures."""
    monkeypatch.setattr(stability, "KEPT_CHUNK", chunk)
    policy = policy_with()
    record(store, policy, range(40), keep=True)
    assert sum(1 for _ in store.iter_kept_bins(TARGET, SnapshotCounts(policy).key)) == 40
    for days in (-400, -1, 0, 1, 200, 400, 1500):
        as_of = AS_OF + timedelta(days=days)
        assert portfolio_snapshot(store, TARGET, policy, as_of) == from_inputs(store, policy, as_of)
    later = from_inputs(store, policy, AS_OF + timedelta(days=400))["counts"]
    now = from_inputs(store, policy, AS_OF)["counts"]
    assert later["company_age_years"] != now["company_age_years"]  # the ages did move
    assert later["statement_age_months"] != now["statement_age_months"]


def test_rows_without_bins_or_by_other_bands_are_read_back(store: StateStore) -> None:
    """Rows kept before, rows kept by other bands, and an account whose newer row kept
    none (its older row's bins must not count) all count from their inputs."""
    policy = policy_with()
    record(store, policy, range(0, 30), keep=True)
    record(store, policy, range(20, 40), keep=False)  # newer rows of 20-29, and 30-39
    record(store, policy_with([1, 3, 5, 10]), range(40, 50), keep=True)
    with store.engine.begin() as conn:  # a row recorded before rows kept bins
        conn.execute(
            sa.update(assessments)
            .where(assessments.c.account_id == "A005")
            .values(snapshot_key=None, snapshot_bins=None)
        )
    kept = SnapshotCounts(policy).key
    assert sum(1 for _ in store.iter_kept_bins(TARGET, kept)) == 19  # 0-19 but A005
    for days in (0, 400):
        as_of = AS_OF + timedelta(days=days)
        found = portfolio_snapshot(store, TARGET, policy, as_of)
        assert found == from_inputs(store, policy, as_of)
        assert found["accounts"] == 50


def test_a_run_counts_its_own_rows_and_kept_bins_of_the_others(store: StateStore) -> None:
    """A sync counts the accounts it wrote as it assessed them and leaves its own rows out
    of the store's part."""
    policy = policy_with()
    record(store, policy, range(30), keep=True)
    record(store, policy, range(25, 35), keep=True)
    own = max(r.run_id for r in store.list_runs(TARGET))
    counted = SnapshotCounts(policy)
    for i in range(25, 35):
        result = assess(to_account(company(i), AS_OF.date()), policy, as_of=AS_OF)
        counted.add(counted.bins(result.indicators, result.score))
    found = portfolio_snapshot(store, TARGET, policy, AS_OF, counted, not_of_run=own)
    assert found == from_inputs(store, policy, AS_OF)


def test_bins_kept_under_other_points_count_alike(store: StateStore) -> None:
    """Bins depend on the bands alone: rows kept under a policy with other points (other
    scores) count for a policy with the same bands."""
    record(store, policy_with(points=[10, 20, 30, 40, 50]), range(20), keep=True)
    policy = policy_with()
    assert sum(1 for _ in store.iter_kept_bins(TARGET, SnapshotCounts(policy).key)) == 20
    as_of = AS_OF + timedelta(days=90)
    assert portfolio_snapshot(store, TARGET, policy, as_of) == from_inputs(store, policy, as_of)


def test_the_key_is_the_bands_and_their_order() -> None:
    key = SnapshotCounts(policy_with()).key
    assert SnapshotCounts(policy_with()).key == key  # parsed again: the same
    assert SnapshotCounts(policy_with(points=[5, 6, 7, 8, 9])).key == key
    assert SnapshotCounts(policy_with([1, 2, 4, 6])).key != key
    assert SnapshotCounts(compiled(load_policy())).key != key  # another line, another order
    assert 0 <= key < 2**63


def test_only_the_ages_depend_on_the_day() -> None:
    """A snapshot bins the ages anew for its day and keeps every other bin: no other
    indicator may change with the day it is taken on (the sample accounts fill every
    input)."""
    with SAMPLE.open(encoding="utf-8") as rows:
        accounts = [to_account(row, AS_OF.date()) for row in csv.DictReader(rows)]
    for i, account in enumerate(accounts):
        now = indicator_values(account, AS_OF.date())
        later = indicator_values(account, AS_OF.date() + timedelta(days=500 + 31 * i))
        assert {k for k in now if now[k] != later[k]} <= set(AGES)
    assert len(accounts) >= 10


def test_downgrading_to_0007_drops_the_bins_and_upgrading_again_reads_rows_back(
    state_url: str,
) -> None:
    """Migration 0008 undone (``alembic downgrade 0007``) drops the kept bins and loses no
    row; opened again, the store is upgraded and counts those rows from their inputs."""
    policy = policy_with()
    store = StateStore(state_url)
    record(store, policy, range(30), keep=True)
    store.close()
    engine = sa.create_engine(state_url)
    try:
        # (an engine of its own: SQLite's foreign keys are off, as batch migrations need)
        with engine.begin() as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0007")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("assessments")}
        assert not columns & {"snapshot_key", "snapshot_bins"}
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(assessments)).scalar() == 30
    finally:
        engine.dispose()
    store = StateStore(state_url)
    try:
        assert sum(1 for _ in store.iter_kept_bins(TARGET, SnapshotCounts(policy).key)) == 0
        found = portfolio_snapshot(store, TARGET, policy, AS_OF)
        assert found == from_inputs(store, policy, AS_OF) and found["accounts"] == 30
    finally:
        store.close()
