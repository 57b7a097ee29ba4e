"""Helpers shared by the sync tests (a separately named module: conftest names clash)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from crmqual.sync import Sync

T0 = datetime(2026, 6, 30, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # every write gets its own modified time
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def company(i: int, **changes: Any) -> dict[str, Any]:
    """A plain, valid company in the common model's flat naming (the file mapping)."""
    scale = 1 + i % 7
    row = {
        "id": f"A{i:03d}",
        "name": f"Company {i}",
        "currency": "USD",
        "statement_currency": "USD",
        "founding_date": "2010-01-01",
        "period_end": "2025-12-31",
        "revenue": 10_000_000 * scale,
        "prior_revenue": 9_500_000 * scale,
        "ebit": 900_000 * scale,
        "net_income": (600_000 - 150_000 * (i % 5)) * scale,
        "depreciation": 200_000 * scale,
        "interest_expense": 100_000 * scale,
        "total_assets": 8_000_000 * scale,
        "total_liabilities": (3_000_000 + 600_000 * (i % 5)) * scale,
        "current_assets": 4_000_000 * scale,
        "current_liabilities": (2_000_000 + 400_000 * (i % 5)) * scale,
        "retained_earnings": 1_000_000 * scale,
        "overdue_max_days": 10 * (i % 4),
        "overdue_count": i % 4,
        "expected_monthly_purchases": 50_000,
        "business_status": "active",
        "credit_override": "",
    }
    row["equity"] = row["total_assets"] - row["total_liabilities"]
    return row | changes


MakeSync = Callable[..., Sync]
