"""A seeded company's numbers: two statements that add up, and a credit and legal record that
follow the company's health.

Everything derives from one latent `health` in [0, 1] (0 failing, 1 excellent) plus noise, so
the whole range appears and the records agree with the statements: a failing company is
loss-making, leveraged and illiquid, pays late, is sued, and sometimes is in liquidation.

Contract of `statement` (each period): total assets = total liabilities + equity (to the
cent), current assets <= total assets, cash + inventory + receivables <= current assets,
current liabilities <= total liabilities, every amount the model calls non-negative is.
The prior period is the same company a year earlier: revenue and assets differ by the
year's growth, and its health lies near the latest one.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from typing import Any

RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")
STATEMENT_FIELDS = (
    "Revenue",
    "EBIT",
    "Net_Income",
    "Interest_Expense",
    "Depreciation_Amortisation",
    "Total_Assets",
    "Total_Liabilities",
    "Current_Assets",
    "Current_Liabilities",
    "Cash",
    "Inventory",
    "Receivables",
    "Equity",
    "Retained_Earnings",
    "Operating_Cash_Flow",
)
# Rough size of one currency unit against the US dollar, so Chinese statements in CNY and
# British ones in GBP have believable magnitudes.
_PER_USD = {"USD": 1.0, "GBP": 0.8, "CNY": 7.2}


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def health(rng: random.Random) -> float:
    """A company's latent health. The mix (a few failing, many middling, a healthy tail) is
    tuned so that crmqual's default policy spreads its grades over A..E."""
    return rng.betavariate(1.1, 1.4)


def statement(
    rng: random.Random, h: float, revenue: float, total_assets: float
) -> dict[str, float]:
    """One period's statement under the native field names (see the module's contract)."""
    gauss = rng.gauss
    debt_ratio = _clip(1.05 - 0.95 * h + gauss(0, 0.1), 0.05, 1.6)
    current_ratio = _clip(0.35 + 2.3 * h + gauss(0, 0.25), 0.15, 5.0)
    net_margin = -0.16 + 0.30 * h + gauss(0, 0.035)
    assets = round(total_assets, 2)
    liabilities = round(assets * debt_ratio, 2)
    equity = round(assets - liabilities, 2)
    assets = round(liabilities + equity, 2)
    current_assets = round(assets * rng.uniform(0.3, 0.75), 2)
    current_liabilities = round(min(liabilities, current_assets / current_ratio), 2)
    cash = round(current_assets * rng.uniform(0.05, 0.2 + 0.25 * h), 2)
    inventory = round((current_assets - cash) * rng.uniform(0.15, 0.6), 2)
    receivables = round((current_assets - cash - inventory) * rng.uniform(0.6, 1.0), 2)
    interest = round(liabilities * rng.uniform(0.015, 0.045), 2)
    depreciation = round(assets * rng.uniform(0.02, 0.06), 2)
    net_income = round(revenue * net_margin, 2)
    pre_tax = net_income / 0.75 if net_income > 0 else net_income
    ebit = round(pre_tax + interest, 2)
    if equity > 0:
        retained = round(equity * rng.uniform(0.1, 0.8), 2)
    else:
        retained = round(equity - assets * rng.uniform(0.05, 0.3), 2)
    cash_flow = round(net_income + depreciation + revenue * gauss(0.0, 0.03), 2)
    return {
        "Revenue": round(revenue, 2),
        "EBIT": ebit,
        "Net_Income": net_income,
        "Interest_Expense": interest,
        "Depreciation_Amortisation": depreciation,
        "Total_Assets": assets,
        "Total_Liabilities": liabilities,
        "Current_Assets": current_assets,
        "Current_Liabilities": current_liabilities,
        "Cash": cash,
        "Inventory": inventory,
        "Receivables": receivables,
        "Equity": equity,
        "Retained_Earnings": retained,
        "Operating_Cash_Flow": cash_flow,
    }


def financials(rng: random.Random, h: float, currency: str, today: date) -> dict[str, Any]:
    """Both statements, their period ends and currencies, and the profile numbers that follow
    from size (employees, annual revenue, registered capital as digits in a text field)."""
    per_usd = _PER_USD.get(currency, 1.0)
    revenue = 10 ** rng.uniform(5.7, 8.8) * per_usd
    total_assets = revenue / rng.uniform(0.5, 2.2)
    latest = statement(rng, h, revenue, total_assets)
    growth = _clip(-0.22 + 0.42 * h + rng.gauss(0, 0.08), -0.6, 1.0)
    prior_h = _clip(h + rng.gauss(0, 0.08), 0.0, 1.0)
    prior = statement(
        rng,
        prior_h,
        revenue / (1 + growth),
        total_assets / (1 + growth * rng.uniform(0.3, 0.9)),
    )
    period_end = date(today.year - 1, 12, 31)
    if h < 0.25 and rng.random() < 0.3:  # weak companies file late: stale statements
        period_end = date(today.year - 2, 12, 31)
    values: dict[str, Any] = dict(latest)
    values.update({f"Prior_{k}": v for k, v in prior.items()})
    capital = 10 ** rng.uniform(math.log10(revenue) - 2.5, math.log10(revenue) - 0.5)
    values.update(
        {
            "Period_End": period_end.isoformat(),
            "Statement_Currency": currency,
            "Prior_Period_End": date(period_end.year - 1, 12, 31).isoformat(),
            "Prior_Statement_Currency": currency,
            "Annual_Revenue": latest["Revenue"],
            "Employees": max(1, int(revenue / per_usd / rng.uniform(60_000, 400_000))),
            "Registered_Capital": str(int(round(capital, -3 if capital > 10_000 else 0))),
        }
    )
    return values


def founding(rng: random.Random, h: float, today: date) -> tuple[date, int]:
    """(founding date, whole years of relationship with us): healthy companies are older."""
    years = 0.3 + rng.expovariate(1 / (3.0 + 22.0 * h))
    founded = today - timedelta(days=int(min(years, 90.0) * 365.25))
    relationship = min(int(years), int(rng.expovariate(1 / (1.0 + 6.0 * h))))
    return founded, relationship


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def records(rng: random.Random, h: float, revenue: float) -> dict[str, Any]:
    """Credit record (12 months), legal record and soft scores consistent with `h`."""
    weak = 1.0 - h
    score = int(_clip(12 + 85 * h + rng.gauss(0, 9), 1, 100))
    overdue = _poisson(rng, 9.0 * weak**3)
    max_days = 0 if overdue == 0 else int(1 + rng.uniform(0, 40 + 160 * weak**2))
    defaults = 1 if rng.random() < 0.35 * max(0.0, 0.2 - h) / 0.2 else 0
    lawsuits = _poisson(rng, 5.0 * weak**4)
    if h < 0.06 and rng.random() < 0.5:
        status = rng.choice(("In Liquidation", "Deregistered", "Revoked"))
    elif h < 0.2 and rng.random() < 0.1:
        status = "Suspended"
    else:
        status = "Active"
    monthly = revenue * rng.uniform(0.002, 0.012)
    return {
        "External_Rating": RATINGS[min(9, int((100 - score) / 10))],
        "External_Score": score,
        "Overdue_Count": overdue,
        "Overdue_Max_Days": max_days,
        "Overdue_Amount": 0.0 if overdue == 0 else round(monthly * rng.uniform(0.1, 2.0), 2),
        "Defaults_Count": defaults,
        "Current_Exposure": round(monthly * rng.uniform(0.0, 3.0), 2),
        "Requested_Limit": round(monthly * rng.uniform(1.0, 4.0), -2),
        "Expected_Monthly_Purchases": round(monthly, 2),
        "Open_Lawsuits_Defendant": lawsuits,
        "Enforcement_Records": _poisson(rng, 3.0 * weak**5),
        "Penalties": _poisson(rng, 2.0 * weak**4),
        "Sanctions_Hit": rng.random() < 0.002,
        "Business_Status": status,
        "ESG_Score": round(_clip(28 + 55 * h + rng.gauss(0, 10), 0, 100), 1),
    }
