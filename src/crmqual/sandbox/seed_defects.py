"""Deliberate gaps and bad values in seeded accounts, as a real CRM holds them.

Missing: an account chosen at the missing rate loses some inputs: its prior year's statement
(a new customer with one year of accounts), its bureau data, or one to four single inputs.
Bad: an account chosen at the bad rate gets one malformed value, only ever in a custom field
declared as text that holds a number or a date (the API would refuse it in a typed field): a
number with a thousands separator or a unit, a word where a number belongs, an impossible date.
Numeric fields are never touched, so the statements still add up wherever values are present.
"""

from __future__ import annotations

import random
from typing import Any

from crmqual.sandbox.seed_finance import STATEMENT_FIELDS

TEXT_NUMBERS = ("Registered_Capital",)
"""Custom text fields that hold a number as plain digits (a bad value breaks that)."""
TEXT_DATES = ("Founding_Date",)
"""Custom text fields that hold a date as YYYY-MM-DD (a bad value breaks that)."""

PRIOR_BLOCK = (
    "Prior_Period_End",
    "Prior_Statement_Currency",
    *(f"Prior_{name}" for name in STATEMENT_FIELDS),
)
BUREAU_BLOCK = ("External_Rating", "External_Score")
SINGLE_INPUTS = (
    "Industry",
    "Employees",
    "Website",
    "Registration_ID",
    "Founding_Date",
    "Registered_Capital",
    "Legal_Representative",
    "Business_Status",
    "Revenue",
    "EBIT",
    "Net_Income",
    "Interest_Expense",
    "Depreciation_Amortisation",
    "Total_Liabilities",
    "Current_Liabilities",
    "Cash",
    "Inventory",
    "Receivables",
    "Retained_Earnings",
    "Operating_Cash_Flow",
    "Overdue_Count",
    "Overdue_Max_Days",
    "Overdue_Amount",
    "Open_Lawsuits_Defendant",
    "Enforcement_Records",
    "Penalties",
    "ESG_Score",
    "Relationship_Years",
    "Signed_Agreement",
    "Expected_Monthly_Purchases",
)

_WORDS = ("unknown", "n/a", "TBD", "待定", "see contract", "—")
_UNITS = ("{v} {cur}", "{v}{cur}", "{cur} {v}")


def bad_number(rng: random.Random, digits: str, currency: str) -> str:
    """`digits` as a person might type it: separators, a unit, or no number at all."""
    value = int(digits)
    kind = rng.randrange(4)
    if kind == 0:
        return f"{value:,}"
    if kind == 1:
        return rng.choice(_UNITS).format(v=value, cur=currency)
    if kind == 2:
        return f"{value / 10_000:g}万" if currency == "CNY" else f"{value / 1e6:.2f}m"
    return rng.choice(_WORDS)


def bad_date(rng: random.Random, iso_date: str) -> str:
    """A date that cannot exist, in the field's own YYYY-MM-DD shape."""
    year = iso_date[:4]
    return rng.choice(
        (f"{year}-02-30", f"{year}-02-31", f"{year}-04-31", f"{year}-13-01", f"{year}-00-15")
    )


def spoil(
    rng: random.Random, values: dict[str, Any], missing_rate: float, bad_rate: float
) -> tuple[bool, bool]:
    """Apply the defects to one account's values in place; returns (missing, bad). Two draws
    per account whatever the rates, so changing a rate does not reshuffle other accounts."""
    u_missing, u_bad = rng.random(), rng.random()
    bad_field = None
    if u_bad < bad_rate:
        candidates = TEXT_NUMBERS + TEXT_DATES
        bad_field = candidates[rng.randrange(len(candidates))]
        if bad_field in TEXT_NUMBERS:
            values[bad_field] = bad_number(rng, values[bad_field], values.get("Currency", ""))
        else:
            values[bad_field] = bad_date(rng, values[bad_field])
    if u_missing < missing_rate:
        kind = rng.random()
        if kind < 0.3:
            gone: tuple[str, ...] = PRIOR_BLOCK
        elif kind < 0.5:
            gone = BUREAU_BLOCK
        else:
            singles = [f for f in SINGLE_INPUTS if f != bad_field]
            gone = tuple(rng.sample(singles, rng.randint(1, 4)))
        for name in gone:
            values[name] = None
    return u_missing < missing_rate, bad_field is not None
