"""Seeded portfolios for the policy lab's tests: companies whose numbers follow one latent
health in [0, 1], so every grade appears, and adversarial accounts with any input missing."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from crmqual.model import Account
from crmqual.policy import default_policy_text

CURRENCIES = ("CNY", "USD", "GBP")


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def company(rng: random.Random, i: int) -> dict[str, Any]:
    """One company's flat inputs (the common model's names)."""
    h = rng.random()
    currency = rng.choice(CURRENCIES)
    revenue = 10 ** rng.uniform(6, 9)
    assets = revenue * rng.uniform(0.5, 1.5)
    debt_ratio = _clip(1.05 - h + rng.gauss(0, 0.1), 0.05, 1.4)
    liabilities = assets * debt_ratio
    current_assets = assets * rng.uniform(0.3, 0.7)
    current_ratio = _clip(0.4 + 2.2 * h + rng.gauss(0, 0.2), 0.2, 4.0)
    current_liabilities = min(current_assets / current_ratio, liabilities)
    net_income = revenue * (h - 0.4) * 0.2
    late = _clip((1 - h) * 120 + rng.gauss(0, 15), 0, 400)
    return {
        "id": f"C{i:05d}",
        "name": f"Company {i}",
        "currency": currency,
        "statement_currency": currency,
        "founding_date": f"{rng.randint(1990, 2022)}-0{rng.randint(1, 9)}-15",
        "period_end": "2025-12-31",
        "revenue": round(revenue),
        "prior_revenue": round(revenue / rng.uniform(0.8, 1.3)),
        "ebit": round(net_income * 1.3),
        "net_income": round(net_income),
        "interest_expense": round(liabilities * 0.03),
        "depreciation": round(assets * 0.03),
        "total_assets": round(assets),
        "total_liabilities": round(liabilities),
        "equity": round(assets) - round(liabilities),
        "current_assets": round(current_assets),
        "current_liabilities": round(current_liabilities),
        "cash": round(current_assets * 0.2),
        "operating_cash_flow": round(net_income * 1.1 + assets * 0.02),
        "overdue_count": int(late // 30),
        "overdue_max_days": int(late),
        "defaults": 1 if h < 0.08 and rng.random() < 0.5 else 0,
        "lawsuits_defendant": int(_clip((1 - h) * 4 + rng.gauss(0, 1), 0, 20)),
        "business_status": "active" if h > 0.05 else rng.choice(["active", "liquidation"]),
        "current_exposure": round(revenue * rng.uniform(0.005, 0.05)),
        "expected_monthly_purchases": round(revenue * rng.uniform(0.002, 0.02)),
    }


def companies(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [company(rng, i) for i in range(n)]


def accounts(seed: int, n: int) -> list[Account]:
    return [Account.model_validate(c) for c in companies(seed, n)]


_amount = st.one_of(st.none(), st.floats(0, 1e9, allow_nan=False))
_signed = st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False))
_count = st.one_of(st.none(), st.integers(0, 400))

#: Accounts with any input missing or extreme.
ANY_ACCOUNT = st.builds(
    lambda i, fields: Account.model_validate({"id": f"H{i}", **fields}),
    st.integers(0, 10**6),
    st.fixed_dictionaries(
        {
            "currency": st.one_of(st.none(), st.sampled_from(CURRENCIES)),
            "revenue": _amount,
            "net_income": _signed,
            "total_assets": _amount,
            "total_liabilities": _amount,
            "equity": _signed,
            "current_assets": _amount,
            "current_liabilities": _amount,
            "operating_cash_flow": _signed,
            "overdue_max_days": _count,
            "defaults": st.one_of(st.none(), st.integers(0, 3)),
            "lawsuits_defendant": _count,
            "sanctions_hit": st.one_of(st.none(), st.booleans()),
            "current_exposure": _amount,
            "requested_limit": _amount,
        }
    ),
)


#: A stricter policy than the default: higher grade floors, smaller grade-B limits.
STRICT_CHANGES = (
    ("min_score: 71", "min_score: 80"),
    ("min_score: 51", "min_score: 62"),
    ("min_score: 30", "min_score: 40"),
    ("min_score: 21", "min_score: 30"),
    ("name: crmqual-default", "name: strict"),
    ("equity_share: 0.35, revenue_share: 0.05", "equity_share: 0.25, revenue_share: 0.04"),
)


def strict_policy_text() -> str:
    text = default_policy_text()
    for old, new in STRICT_CHANGES:
        assert old in text, old
        text = text.replace(old, new)
    return text
