"""Properties of the engine under the default policy, checked with hypothesis."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from crmqual import engine
from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.indicators import INDICATORS, Value
from crmqual.inputs import to_account
from crmqual.model import Account
from crmqual.policy import Policy, load_policy

POLICY = load_policy()
CP = compiled(POLICY)
AS_OF = datetime(2026, 6, 30, tzinfo=UTC)
SCORED = {line.name: line for line in CP.lines}
DIRECTION = {
    ind.indicator: ind.direction for dim in POLICY.scorecard.dimensions for ind in dim.indicators
}


def indicator_value(name: str) -> st.SearchStrategy[Value]:
    kind = INDICATORS[name].kind
    if kind == "bool":
        return st.one_of(st.none(), st.booleans())
    if kind == "text":
        return st.one_of(st.none(), st.sampled_from(["active", "suspended", "liquidation"]))
    return st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))


VALUES = st.fixed_dictionaries({name: indicator_value(name) for name in INDICATORS})


def assess_values(values: dict[str, Value], monkeypatch: pytest.MonkeyPatch) -> engine.Assessment:
    """Assess with the given indicator values, everything else held equal."""
    monkeypatch.setattr(engine, "indicator_values", lambda account, today: dict(values))
    return assess(Account(id="P"), POLICY, as_of=AS_OF)


def worse(name: str, value: float, by: float) -> float:
    return value - by if DIRECTION[name] == "safer" else value + by


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=VALUES,
    name=st.sampled_from(sorted(DIRECTION)),
    by=st.floats(0, 1e6, allow_nan=False),
    start=st.floats(-1e6, 1e6, allow_nan=False),
)
def test_worsening_one_indicator_never_improves_score_or_grade(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, Value], name: str, by: float, start: float
) -> None:
    if INDICATORS[name].kind == "bool":
        good = DIRECTION[name] == "safer"
        before, after = dict(values, **{name: good}), dict(values, **{name: not good})
    else:
        before, after = (
            dict(values, **{name: start}),
            dict(values, **{name: worse(name, start, by)}),
        )
    a, b = assess_values(before, monkeypatch), assess_values(after, monkeypatch)
    assert b.score <= a.score
    assert b.grade >= a.grade  # letters: later is worse


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=VALUES, name=st.sampled_from(sorted(SCORED)), present=st.floats(-1e6, 1e6))
def test_missing_scores_exactly_the_policys_missing_points(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, Value], name: str, present: float
) -> None:
    line = SCORED[name]
    with_value = assess_values(dict(values, **{name: present}), monkeypatch)
    without = assess_values(dict(values, **{name: None}), monkeypatch)
    points = line.points_for(present)
    difference = sum(without.contributions) - sum(with_value.contributions)
    assert math.isclose(difference, (line.missing - points) * line.weight, abs_tol=1e-9)


def account_rows() -> st.SearchStrategy[dict[str, Any]]:
    amount = st.one_of(st.none(), st.floats(-1e15, 1e15, allow_nan=False))
    positive = st.one_of(st.none(), st.floats(0, 1e15, allow_nan=False))
    count = st.one_of(st.none(), st.integers(0, 10_000))
    score = st.one_of(st.none(), st.floats(0, 100))
    day = st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2026, 6, 30)))
    row: dict[str, st.SearchStrategy[Any]] = {"id": st.text(min_size=1, max_size=8)}
    for name, field in Account.model_fields.items():
        if name == "id":
            continue
        text = str(field.annotation)
        if "date" in text and "datetime" not in text:
            row[name] = day
        elif name.endswith("currency"):
            row[name] = st.one_of(st.none(), st.sampled_from(["USD", "CNY", "EUR", "AUD"]))
        elif "bool" in text:
            row[name] = st.one_of(st.none(), st.booleans())
        elif "BusinessStatus" in text:
            row[name] = st.one_of(st.none(), st.sampled_from(["active", "liquidation"]))
        elif "int" in text:
            row[name] = count
        elif name.endswith("_score"):
            row[name] = score
        elif "Amount" in text or name in ("ebit", "net_income", "equity"):
            row[name] = amount
        elif "float" in text:
            row[name] = positive
        else:
            row[name] = st.one_of(st.none(), st.text(max_size=10))
    return st.fixed_dictionaries(row)


@settings(max_examples=400)
@given(row=account_rows())
def test_no_accepted_input_crashes_and_results_are_deterministic(row: dict[str, Any]) -> None:
    try:
        account = to_account(row, AS_OF.date())
    except ValidationError:
        return  # refused inputs are the model's business, tested elsewhere
    first = assess(account, POLICY, as_of=AS_OF)
    assert first == assess(account, POLICY, as_of=AS_OF)
    assert 0 <= first.score <= 100
    assert first.grade in "ABCDE"
    assert first.credit_limit is None or first.credit_limit >= 0
    for reason in first.reasons:
        assert reason.code and reason.en.strip() and reason.zh.strip()
        assert "{" not in reason.en and "{" not in reason.zh


def test_every_text_in_the_policy_has_both_languages() -> None:
    texts = [r.text for r in POLICY.admission.knockouts + POLICY.admission.review]
    texts += [r.text for r in POLICY.admission.conditions]
    texts += [ind.reason for dim in POLICY.scorecard.dimensions for ind in dim.indicators]
    texts += list(POLICY.credit_limit.texts.values()) + [f.label for f in POLICY.flags]
    texts += [g.label for g in POLICY.grades] + [t.label for t in POLICY.payment_terms]
    for text in texts:
        assert text.en.strip() and text.zh.strip()
    for line in CP.lines:
        assert line.missing_reason.en.strip() and line.missing_reason.zh.strip()


def test_direction_table_covers_every_scored_indicator() -> None:
    assert set(DIRECTION) == set(SCORED)
    assert isinstance(POLICY, Policy)
