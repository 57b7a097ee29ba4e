"""Backtest figures (crmqual.backtest): outcomes that follow a policy's own grades are ranked
perfectly by it; random outcomes give an AUC near one half; the sample and window rules."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from portfolio import accounts, companies, strict_policy_text

from crmqual.backtest import Observation, evaluate, sample
from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.policy import GRADES, load_policy, parse_policy
from crmqual.state.lab import OutcomeRecord, PortfolioRow
from crmqual.yamlfile import parse_yaml_text

AS_OF = datetime(2026, 1, 31, tzinfo=UTC)
DEFAULT = compiled(load_policy())
STRICT = compiled(parse_policy(parse_yaml_text(strict_policy_text(), "strict.yaml"), "strict"))


def observations(seed: int, n: int, bad: object) -> list[Observation]:
    return [
        Observation(i, a, bool(bad(a)))  # type: ignore[operator]
        for i, a in enumerate(accounts(seed, n))
    ]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(40, 200), st.sampled_from(["C", "D", "E"]))
def test_outcomes_from_a_policys_own_grades_are_ranked_perfectly(
    seed: int, n: int, worst_good: str
) -> None:
    cut = GRADES.index(worst_good)
    for policy in (DEFAULT, STRICT):

        def went_bad(account: object, policy: object = policy) -> bool:
            grade = assess(account, policy, as_of=AS_OF).grade  # type: ignore[arg-type]
            return GRADES.index(grade) > cut

        obs = observations(seed, n, went_bad)
        figures = evaluate(policy, obs, AS_OF)
        if 0 < figures["bad"] < n:
            assert figures["auc"] == 1.0 and figures["gini"] == 1.0 and figures["ks"] == 1.0
        else:
            assert figures["auc"] is None and figures["ks"] is None
        assert figures["monotone"] is True
        rates = [figures["grades"][g]["bad_rate"] for g in GRADES]
        assert all(r in (None, 0.0) for r in rates[: cut + 1])
        assert all(r in (None, 1.0) for r in rates[cut + 1 :])


def test_random_outcomes_give_an_auc_near_one_half() -> None:
    rng = random.Random(4)
    obs = observations(21, 3000, lambda _: rng.random() < 0.2)
    for policy in (DEFAULT, STRICT):
        figures = evaluate(policy, obs, AS_OF)
        assert abs(figures["auc"] - 0.5) < 0.05, figures["auc"]
        assert abs(figures["gini"]) < 0.1


def test_the_figures_add_up() -> None:
    rng = random.Random(8)
    obs = observations(
        3, 600, lambda a: rng.random() < (0.4 if (a.overdue_max_days or 0) > 60 else 0.05)
    )
    figures = evaluate(DEFAULT, obs, AS_OF)
    bad = sum(o.bad for o in obs)
    assert figures["accounts"] == 600 and figures["bad"] == bad
    assert figures["bad_rate"] == pytest.approx(bad / 600)
    assert sum(g["count"] for g in figures["grades"].values()) == 600
    assert sum(g["bad"] for g in figures["grades"].values()) == bad
    assert sum(b["count"] for b in figures["calibration"]) == 600
    assert sum(b["bad"] for b in figures["calibration"]) == bad
    assert [b["band"] for b in figures["calibration"]][-1] == "90-100"
    results = [assess(o.account, DEFAULT, as_of=AS_OF) for o in obs]
    approved = sum(r.status in ("approved", "conditional") for r in results)
    assert figures["approval_rate"] == pytest.approx(approved / 600)
    caught = sum(1 for o, r in zip(obs, results, strict=True) if o.bad and r.grade in "DE")
    assert figures["bad_caught_de"] == pytest.approx(caught / bad)
    for ccy, share in figures["bad_exposure_caught_de"].items():
        total = sum(
            o.account.current_exposure or 0 for o in obs if o.bad and o.account.currency == ccy
        )
        in_de = sum(
            o.account.current_exposure or 0
            for o, r in zip(obs, results, strict=True)
            if o.bad and o.account.currency == ccy and r.grade in "DE"
        )
        assert share == pytest.approx(in_de / total)
    assert 0.5 < figures["auc"] <= 1.0  # lateness predicts these outcomes, and the policy sees it


def _row(i: int, account: dict[str, object]) -> PortfolioRow:
    return PortfolioRow(i, str(account["id"]), AS_OF, dict(account), {})


def _outcome(account_id: str, kind: str, day: date) -> OutcomeRecord:
    return OutcomeRecord(0, "t", account_id, kind, day, "f.csv", None, AS_OF)


def test_the_sample_leaves_out_accounts_already_bad_and_counts_bads_in_the_window() -> None:
    rows = [_row(i, c) for i, c in enumerate(companies(1, 6))]
    ids = [r.account_id for r in rows]
    outcomes = [
        _outcome(ids[0], "defaulted", date(2026, 1, 31)),  # on the as-of date: already bad
        _outcome(ids[1], "overdue_90", date(2026, 2, 1)),  # the day after: bad
        _outcome(ids[2], "written_off", date(2026, 7, 31)),  # the window's last day: bad
        _outcome(ids[3], "defaulted", date(2026, 8, 1)),  # after the window: good
        _outcome(ids[4], "paid_as_agreed", date(2026, 3, 1)),  # good
    ]
    drawn = sample(rows, outcomes, AS_OF, 6)
    assert drawn.already_bad == 1 and drawn.end == datetime(2026, 7, 31, tzinfo=UTC)
    assert {o.account.id: o.bad for o in drawn.observations} == {
        ids[1]: True,
        ids[2]: True,
        ids[3]: False,
        ids[4]: False,
        ids[5]: False,
    }
    broken = _row(9, {"id": "X", "total_assets": -5})
    assert [i for i, _ in sample([broken], [], AS_OF, 6).unreadable] == ["X"]
