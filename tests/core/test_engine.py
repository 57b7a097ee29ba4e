"""Engine behaviour: admission, grades, limits, flags, downgrades and reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crmqual.engine import Assessment, assess
from crmqual.inputs import to_account
from crmqual.policy import Policy


def run(policy: Policy, row: dict[str, Any], as_of: datetime, **kw: Any) -> Assessment:
    return assess(to_account(row, as_of.date()), policy, as_of=as_of, **kw)


def codes(a: Assessment) -> list[str]:
    return [r.code for r in a.reasons]


def test_sound_company_is_approved_with_good_terms(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    a = run(policy, sound, as_of)
    assert (a.status, a.grade, a.payment_terms) == ("approved", "A", "NET60")
    assert a.score >= 71
    assert a.flags == ()
    assert a.data_completeness == 100
    assert a.policy_version == policy.version
    assert a.assessed_at == as_of


def test_limit_is_the_smallest_of_need_capacity_request_and_cap(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    # Grade A, NET60 + 15 days tolerated: need = 200,000 x 75 / 30 = 500,000;
    # capacity = min(40 % x 8,000,000, 8 % x 20,000,000) = 1,600,000.
    assert run(policy, sound, as_of).credit_limit == 500_000
    assert run(policy, sound | {"requested_limit": 123_456}, as_of).credit_limit == 123_000
    no_need = run(policy, sound | {"expected_monthly_purchases": None}, as_of)
    assert no_need.credit_limit == 1_600_000


def test_knockouts_reject_cap_the_grade_and_demand_prepayment(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    for change, code in (
        ({"business_status": "deregistered"}, "KO_DEREGISTERED"),
        ({"sanctions_hit": True}, "KO_SANCTIONS"),
        ({"defaults": 1}, "KO_DEFAULT"),
    ):
        a = run(policy, sound | change, as_of)
        assert (a.status, a.grade, a.credit_limit, a.payment_terms) == (
            "rejected",
            "E",
            0,
            "PREPAY",
        )
        assert codes(a)[0] == code


def test_thin_data_goes_to_review(policy: Policy, as_of: datetime) -> None:
    a = run(policy, {"id": "X", "currency": "USD", "name": "Unknown"}, as_of)
    assert a.status == "review"
    assert "RV_INCOMPLETE_DATA" in codes(a)
    assert "INCOMPLETE_DATA" in a.flags
    # Every input missing scores as the worst band: grade E, whose terms are prepayment,
    # so the limit is 0 (prepay) rather than "no limit for want of figures".
    assert (a.grade, a.credit_limit, a.payment_terms) == ("E", 0, "PREPAY")


def test_currencies_are_never_mixed_silently(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    a = run(policy, sound | {"statement_currency": "EUR"}, as_of)
    assert (a.status, a.credit_limit) == ("review", None)
    assert "CURRENCY_NO_RATE" in codes(a)
    unknown_cap = run(policy, sound | {"currency": "AUD", "statement_currency": "AUD"}, as_of)
    assert unknown_cap.credit_limit is None
    assert "CURRENCY_NO_RATE" in codes(unknown_cap)


def test_rates_in_the_policy_convert(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    rates = policy.credit_limit.rates.model_copy(update={"per_base": {"EUR": 0.5}})
    converting = policy.model_copy(
        update={"credit_limit": policy.credit_limit.model_copy(update={"rates": rates})}
    )
    a = run(
        converting, sound | {"statement_currency": "EUR", "expected_monthly_purchases": None}, as_of
    )
    # Statements in EUR, account in USD: 8,000,000 EUR equity = 16,000,000 USD.
    assert a.credit_limit == 2_000_000  # the USD cap binds now
    assert a.limit_currency == "USD"


def test_statements_that_do_not_add_up_are_a_finding(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    a = run(policy, sound | {"equity": 1_000_000}, as_of)
    assert "STATEMENTS_UNBALANCED" in codes(a)
    assert "INCOMPLETE_DATA" in a.flags


def test_exposure_above_the_limit_raises_over_limit(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    assert "OVER_LIMIT" in run(policy, sound | {"current_exposure": 600_000}, as_of).flags
    assert "OVER_LIMIT" not in run(policy, sound | {"current_exposure": 400_000}, as_of).flags


def test_stale_financials_follow_as_of_not_the_clock(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    assert "STALE_FINANCIALS" not in run(policy, sound, as_of).flags
    later = as_of + timedelta(days=400)
    assert "STALE_FINANCIALS" in run(policy, sound, later).flags


def test_downgrade_flag_is_held_then_dropped(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    first = run(policy, sound, as_of)
    worse = sound | {"overdue_max_days": 70, "overdue_count": 5, "net_income": -500_000}
    second = run(policy, worse, as_of + timedelta(days=1), previous=first)
    assert second.grade > first.grade
    assert "GRADE_DOWNGRADE" in second.flags
    held = run(policy, worse, as_of + timedelta(days=10), previous=second)
    assert "GRADE_DOWNGRADE" in held.flags
    assert held.downgraded_at == second.downgraded_at
    expired = run(policy, worse, as_of + timedelta(days=40), previous=held)
    assert "GRADE_DOWNGRADE" not in expired.flags
    recovered = run(policy, sound, as_of + timedelta(days=5), previous=second)
    assert "GRADE_DOWNGRADE" not in recovered.flags


def test_downgrade_rebuilt_from_crm_values_uses_the_previous_assessment_time(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    worse = sound | {"overdue_max_days": 70, "overdue_count": 5, "net_income": -500_000}
    current = run(policy, worse, as_of)
    from_crm = replace(current, flags=("GRADE_DOWNGRADE",), downgraded_at=None)
    again = run(policy, worse, as_of + timedelta(days=3), previous=from_crm)
    assert "GRADE_DOWNGRADE" in again.flags


def test_reasons_put_rule_findings_first_then_the_costliest_indicators(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    a = run(policy, sound | {"sanctions_hit": True, "net_income": -2_000_000}, as_of)
    assert codes(a)[0] == "KO_SANCTIONS"
    assert len(a.reasons) == policy.scorecard.max_reasons
    assert "CASH_FLOW_TO_DEBT" in codes(a)
    cash_flow = next(r for r in a.reasons if r.code == "CASH_FLOW_TO_DEBT")
    assert "-23%" in cash_flow.en and "-23%" in cash_flow.zh


def test_missing_reasons_name_the_missing_input(
    policy: Policy, sound: dict[str, Any], as_of: datetime
) -> None:
    a = run(policy, sound | {"net_income": None}, as_of)
    missing = next(r for r in a.reasons if r.code == "CASH_FLOW_TO_DEBT_MISSING")
    assert "cash flow to debt" in missing.en
    assert "现金流负债比" in missing.zh


def test_future_dates_are_judged_against_as_of(policy: Policy, sound: dict[str, Any]) -> None:
    early = datetime(2020, 1, 1, tzinfo=UTC)
    try:
        to_account(sound, early.date())
    except ValueError as exc:
        assert "period_end" in str(exc)
    else:
        raise AssertionError("a statement dated after as_of must be refused")
    assert to_account(sound, date(2026, 6, 30)).period_end == date(2025, 12, 31)
