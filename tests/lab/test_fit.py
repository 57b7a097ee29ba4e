"""`crmqual policy fit` (issue 20): a fitted card is monotone in every indicator's declared
direction, passes `policy check`, and the engine reproduces its points table; too few bad
outcomes are refused with the minimum named; the command in English and Chinese, on a file
of inputs and outcomes, with bad rows, a missing column and a bad option."""

from __future__ import annotations

import csv
import gc
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from portfolio import companies

from crmqual.cli.main import main
from crmqual.collector import RUN_THRESHOLDS
from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.fit import (
    MIN_BAD,
    Card,
    MissingExtra,
    Sample,
    TooFewOutcomes,
    check_counts,
    fit_card,
    fitted_policy,
    grade_floors,
    grade_shares,
)
from crmqual.indicators import indicator_values
from crmqual.model import Account
from crmqual.policy import GRADES, load_policy

pytest.importorskip("optbinning")

AS_OF = "2025-12-31"
TODAY = __import__("datetime").date(2025, 12, 31)


def went_bad(rng: random.Random, c: dict[str, Any]) -> bool:
    """A bad outcome more likely with leverage, late payment and losses (not a rule the fit
    is told: it has to find it)."""
    leverage = c["total_liabilities"] / c["total_assets"]
    margin = c["net_income"] / c["revenue"]
    risk = 3 * leverage + c["overdue_max_days"] / 40 - 8 * margin - 4.5
    return rng.random() < 1 / (1 + math.exp(-risk))


def history(seed: int, n: int = 1500) -> list[tuple[dict[str, Any], bool]]:
    rng = random.Random(seed + 1000)
    rows = []
    for c in companies(seed, n):
        if rng.random() < 0.1:  # some statements not on file
            c.pop("prior_revenue", None)
            c.pop("current_assets", None)
        rows.append((c, went_bad(rng, c)))
    return rows


def as_sample(rows: list[tuple[dict[str, Any], bool]]) -> tuple[Sample, list[Account]]:
    accounts = [Account.model_validate(c) for c, _ in rows]
    values = [indicator_values(a, TODAY) for a in accounts]
    return Sample(values, [bad for _, bad in rows]), accounts


_FITTED: dict[int, tuple[Card, Any, Sample, list[Account]]] = {}


def fitted(seed: int) -> tuple[Card, Any, Sample, list[Account]]:
    if seed not in _FITTED:
        data, accounts = as_sample(history(seed))
        card = fit_card(data)
        base = load_policy()
        scores = [card.score(v) for v in data.values]
        grades = [assess(a, base, as_of=_moment()).grade for a in accounts]
        policy = fitted_policy(base, card, grade_floors(scores, grade_shares(grades)), "t", "")
        _FITTED[seed] = (card, policy, data, accounts)
    return _FITTED[seed]


def _moment() -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 12, 31, tzinfo=UTC)


@settings(max_examples=3, deadline=None)
@given(st.integers(0, 2))
def test_a_fitted_policy_is_monotone_in_every_declared_direction(seed: int) -> None:
    _, policy, _, _ = fitted(seed)
    lines = [i for d in policy.scorecard.dimensions for i in d.indicators]
    assert lines, "the fit kept no indicator"
    for line in lines:
        steps = list(zip(line.points, line.points[1:], strict=False))
        if line.direction == "safer":
            assert all(a <= b for a, b in steps), line
        else:
            assert all(a >= b for a, b in steps), line
        assert all(0 <= p <= 100 for p in line.points)
        # bands pooled to the same points were merged into one (a line keeps one threshold)
        assert len(line.bands) == 1 or all(a != b for a, b in steps), line
    # the leverage the outcomes were drawn from is found, riskier as it rises
    debt = next((x for x in lines if x.indicator == "debt_ratio"), None)
    assert debt is not None and debt.direction == "riskier"
    assert math.isclose(policy.weight_total, 100, abs_tol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2),
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
)
def test_the_engine_reproduces_the_cards_points_table(seed: int, value: float | None) -> None:
    card, policy, _, _ = fitted(seed)
    lines = {x.name: x for x in compiled(policy).lines}
    for line in card.lines:
        assert lines[line.indicator].points_for(value) == line.points_for(value)


def test_the_engines_score_is_the_cards_score() -> None:
    card, policy, data, accounts = fitted(0)
    for account, values in zip(accounts, data.values, strict=True):
        engine = assess(account, policy, as_of=_moment()).score
        assert abs(engine - card.score(values)) <= 0.51, account.id


def test_grade_floors_keep_the_base_shares_and_fall_strictly() -> None:
    scores = [float(i % 101) for i in range(1000)]
    shares = {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.1, "E": 0.1}
    floors = grade_floors(scores, shares)
    assert [floors[g] for g in GRADES] == sorted((floors[g] for g in GRADES), reverse=True)
    assert floors["E"] == 0 and len(set(floors.values())) == 5
    above_e = sum(s >= floors["D"] for s in scores) / len(scores)
    assert abs(above_e - 0.9) < 0.02
    asked = grade_floors(scores, shares, approval_rate=0.7)
    assert abs(sum(s >= asked["D"] for s in scores) / len(scores) - 0.7) < 0.02


def test_too_few_bad_outcomes_are_refused_with_the_minimum_named() -> None:
    bad = [True] * (MIN_BAD - 1) + [False] * 500
    with pytest.raises(TooFewOutcomes) as caught:
        check_counts(bad)
    assert f"at least {MIN_BAD} bad" in str(caught.value)
    assert f"坏 {MIN_BAD} 个" in caught.value.zh
    check_counts([True] * MIN_BAD + [False] * 500)  # the minimum itself is enough


# -- the command ------------------------------------------------------------------------------


def write_history(path: Path, rows: list[tuple[dict[str, Any], bool]], dated: bool) -> None:
    columns = sorted({k for c, _ in rows for k in c}) + ["outcome"] + (["as_of"] if dated else [])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for i, (c, bad) in enumerate(rows):
            row = dict(c, outcome="defaulted" if bad else "paid_as_agreed")
            if dated:
                row["as_of"] = "2026-01-31" if i < len(rows) * 0.6 else "2026-06-30"
            writer.writerow(row)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_fit_writes_a_policy_that_check_accepts_and_diff_compares(tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    write_history(source, history(7), dated=True)
    out = tmp_path / "fitted.yaml"
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Out of sample, 5-fold: ROC AUC" in result.stdout
    assert "Out of time" in result.stdout
    assert "double the odds" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Fitted by `crmqual policy fit`")
    assert "KO_DEREGISTERED" in text  # the base policy's knock-outs are kept
    check = invoke("policy", "check", str(out))
    assert check.exit_code == 0, check.output
    diff = invoke("policy", "diff", "default", str(out), "--input", str(source), "--json")
    assert diff.exit_code == 0, diff.output
    assert json.loads(diff.stdout)["accounts"] == 1500


def test_fit_json_reports_out_of_sample_figures_only(tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    write_history(source, history(8), dated=False)
    out = tmp_path / "fitted.yaml"
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["kfold"]["folds"] == 5 and 0.6 < answer["kfold"]["auc"] <= 1
    assert answer["out_of_time"] is None  # no dates, no out-of-time figure
    assert "auc" not in answer  # no in-sample figure anywhere
    assert answer["version"] == load_policy(out).version


def test_fit_speaks_chinese(tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    write_history(source, history(9), dated=False)
    out = tmp_path / "fitted.yaml"
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "样本外（5 折）：ROC AUC" in result.stdout
    assert "无跨时间检验" in result.stdout
    assert "已写入" in result.stdout


def test_fit_refuses_too_few_bad_outcomes_in_both_languages(tmp_path: Path) -> None:
    rows = history(10, n=300)
    keep, bads = [], 0
    for c, bad in rows:
        if bad and bads >= 20:
            continue
        bads += bad
        keep.append((c, bad))
    source = tmp_path / "few.csv"
    write_history(source, keep, dated=False)
    out = tmp_path / "fitted.yaml"
    en = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out))
    assert en.exit_code == 2
    assert "20 bad" in en.stderr and f"at least {MIN_BAD} bad" in en.stderr
    zh = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out), "--lang", "zh")
    assert zh.exit_code == 2
    assert f"至少需要坏 {MIN_BAD} 个" in zh.stderr
    assert not out.exists()


def test_a_bad_row_is_named_and_the_fit_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    write_history(source, history(11), dated=False)
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace("paid_as_agreed", "maybe").replace("defaulted", "maybe")
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "fitted.yaml"
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out))
    assert result.exit_code == 1
    assert "line 6" in result.stderr and "'maybe'" in result.stderr
    assert out.exists()


def test_a_file_without_outcomes_and_a_bad_option_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    rows = companies(1, 60)
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({k for c in rows for k in c}))
        writer.writeheader()
        writer.writerows(rows)
    out = str(tmp_path / "x.yaml")
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", out)
    assert result.exit_code == 2 and "no `outcome` column" in result.stderr
    zh = invoke("policy", "fit", "--outcomes", str(source), "--out", out, "--lang", "zh")
    assert zh.exit_code == 2 and "没有 `outcome` 列" in zh.stderr
    rate = invoke("policy", "fit", "--outcomes", str(source), "--out", out, "--approval-rate", "85")
    assert rate.exit_code == 2 and "between 0 and 1" in rate.stderr


def test_an_out_file_in_a_missing_folder_is_refused_before_a_traceback(tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    write_history(source, history(13), dated=False)
    out = tmp_path / "no" / "such" / "fitted.yaml"
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(out), "--lang", "zh")
    assert result.exit_code == 2
    assert "无法写入" in result.stderr and "Traceback" not in result.output


def test_without_the_fit_extra_the_command_says_which_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "optbinning", None)  # import fails as if not installed
    with pytest.raises(MissingExtra) as caught:
        fit_card(as_sample(history(0, n=200))[0])
    assert "pip install 'crmqual[fit]'" in str(caught.value)
    source = tmp_path / "history.csv"
    write_history(source, history(12), dated=False)
    result = invoke("policy", "fit", "--outcomes", str(source), "--out", str(tmp_path / "x.yaml"))
    assert result.exit_code == 2
    assert "crmqual[fit]" in result.stderr


def test_fit_from_the_state_stores_outcomes_with_an_out_of_time_cohort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two cohorts of stored inputs (January and July), outcomes recorded in the window
    after each: the fit reads them as the backtest does (with the collector settings of a
    run, ``crmqual.collector``) and scores July out of time."""
    from datetime import UTC, date, datetime

    from stateutil import assessment, new_run

    from crmqual.state import OutcomeIn, StateStore

    target = "file-history"
    store = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    outcomes = []
    for cohort, (at, seed) in enumerate(
        ((datetime(2026, 1, 5, tzinfo=UTC), 20), (datetime(2026, 7, 5, tzinfo=UTC), 21))
    ):
        rows = history(seed, n=900)
        ids = [f"K{cohort}-{c['id']}" for c, _ in rows]
        run = new_run(store, target)
        store.record_pending(
            run,
            target,
            [
                assessment(i, "B", assessed_at=at, account={**c, "id": i})
                for i, (c, _) in zip(ids, rows, strict=True)
            ],
        )
        store.mark_written(target, ids, run_id=run)
        day = date(at.year, at.month + 2, 1)
        outcomes += [
            OutcomeIn(i, "defaulted", day) for i, (_, bad) in zip(ids, rows, strict=True) if bad
        ]
    store.record_outcomes(target, outcomes, source="test")
    config = tmp_path / "crmqual.yaml"
    config.write_text(
        f"crm: file\ntarget: {target}\nstate: sqlite:///{tmp_path / 'state.sqlite'}\n"
        "connection: {input: accounts.csv, output: outputs.csv}\n",
        encoding="utf-8",
    )
    out = tmp_path / "fitted.yaml"
    args = ["policy", "fit", "-c", str(config), "--out", str(out), "--window", "6m", "--json"]
    read, seen = StateStore.portfolio, []

    def portfolio(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return read(self, *args, **kwargs)

    monkeypatch.setattr(StateStore, "portfolio", portfolio)
    before = gc.get_threshold()
    result = invoke(*args, "--as-of", "2026-07-31", "--as-of", "2026-01-31")
    assert result.exit_code == 0, result.output
    assert seen == [RUN_THRESHOLDS, RUN_THRESHOLDS] and gc.get_threshold() == before
    answer = json.loads(result.stdout)
    # July's portfolio holds January's accounts not yet bad too (their January inputs)
    january_bad = sum(o.account_id.startswith("K0-") for o in outcomes)
    assert answer["rows"] == 900 + 900 + (900 - january_bad)
    assert answer["bad"] == len(outcomes)
    later = answer["out_of_time"]
    assert later["fitted_until"] == "2026-01-31" and later["scored_from"] == "2026-07-31"
    assert 0.6 < later["auc"] <= 1
    assert invoke("policy", "check", str(out)).exit_code == 0
    neither = invoke("policy", "fit", "-c", str(config), "--out", str(out))
    assert neither.exit_code == 2 and "--as-of DATE" in neither.stderr
