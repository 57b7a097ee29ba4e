"""Shared fixtures for the core (model, policy, engine) tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crmqual.policy import Policy, load_policy

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)

#: A sound mid-sized company with every input on file.
SOUND: dict[str, Any] = {
    "id": "ACC-1",
    "name": "Sound Co",
    "currency": "USD",
    "founding_date": "2010-01-01",
    "employees": 120,
    "period_end": "2025-12-31",
    "statement_currency": "USD",
    "revenue": 20_000_000,
    "prior_revenue": 19_000_000,
    "ebit": 1_800_000,
    "net_income": 1_200_000,
    "interest_expense": 150_000,
    "depreciation": 400_000,
    "total_assets": 15_000_000,
    "total_liabilities": 7_000_000,
    "equity": 8_000_000,
    "current_assets": 7_000_000,
    "current_liabilities": 4_000_000,
    "cash": 1_500_000,
    "inventory": 1_500_000,
    "receivables": 3_000_000,
    "retained_earnings": 4_000_000,
    "operating_cash_flow": 1_500_000,
    "external_score": 75,
    "overdue_count": 0,
    "overdue_max_days": 0,
    "defaults": 0,
    "current_exposure": 100_000,
    "expected_monthly_purchases": 200_000,
    "lawsuits_defendant": 0,
    "enforcement_records": 0,
    "penalties": 0,
    "sanctions_hit": False,
    "business_status": "active",
    "reputation_score": 70,
    "operations_score": 70,
    "esg_score": 60,
    "relationship_years": 6,
    "signed_agreement": True,
}


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture
def sound() -> dict[str, Any]:
    return dict(SOUND)


@pytest.fixture
def as_of() -> datetime:
    return AS_OF
