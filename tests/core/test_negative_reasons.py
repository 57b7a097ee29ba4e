"""A clearly negative value is named as negative, in English and Chinese (issue 14, item 5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from crmqual.engine import assess
from crmqual.model import Account
from crmqual.policy import Policy, default_policy_text, load_policy, parse_policy

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


def every_reason_policy() -> Policy:
    """The default policy, naming up to 10 reasons (so none is crowded out by missing data)."""
    data = yaml.safe_load(default_policy_text())
    data["scorecard"]["max_reasons"] = 10
    return parse_policy(data, "test")


def reasons(**fields: float) -> dict[str, tuple[str, str]]:
    account = Account(id="N1", **fields)  # type: ignore[arg-type]
    policy = every_reason_policy()
    result = assess(account, policy, as_of=AS_OF)
    return {r.code: (r.en, r.zh) for r in result.reasons}


LOSS = {
    "revenue": 1_000_000.0,
    "net_income": -116_000.0,
    "total_assets": 928_000.0,
    "total_liabilities": 1_160_000.0,
    "equity": -232_000.0,
    "depreciation": 8_400.0,
}


@pytest.mark.parametrize(
    ("code", "en", "zh"),
    [
        ("NET_MARGIN", "Net profit margin is negative (-11.6%).", "净利润率为负（-11.6%）。"),
        (
            "CASH_FLOW_TO_DEBT",
            "Cash flow is negative against the debt (-9%).",
            "现金流为负，无法覆盖债务（-9%）。",
        ),
    ],
)
def test_negative_values_are_worded_as_negative(code: str, en: str, zh: str) -> None:
    found = reasons(**LOSS)
    assert found[code] == (en, zh)


def test_low_positive_values_keep_the_low_wording() -> None:
    found = reasons(
        revenue=1_000_000.0,
        net_income=10_000.0,
        total_assets=900_000.0,
        total_liabilities=880_000.0,
        equity=20_000.0,
        depreciation=1_000.0,
    )
    assert found["CASH_FLOW_TO_DEBT"] == (
        "Cash flow covers little of the debt (cash flow to debt 1%).",
        "现金流对债务的覆盖不足（1%）。",
    )


def test_every_signed_reason_of_the_default_policy_has_a_negative_variant() -> None:
    policy = load_policy()
    signed = {"net_margin", "roa", "cash_flow_to_debt", "revenue_growth", "equity_ratio"}
    variants = {
        i.indicator
        for d in policy.scorecard.dimensions
        for i in d.indicators
        if i.reason.negative is not None
    }
    assert variants == signed
