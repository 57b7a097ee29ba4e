"""Seed data for the Zoho sandbox: the declared custom input fields and plain, valid companies.

`CUSTOM_FIELDS` (from `zoho_custom_fields.yaml`) is the table the Zoho mapping is written
against. `seed_zoho` adds N companies, reproducibly for a seed (ids too, in a fresh file), whose
statements add up (assets = liabilities + equity, current assets <= total assets, cash +
inventory + receivables <= current assets) and whose health spans excellent to failing, with
credit and legal records that follow it. Part 2 (issue 6) makes them realistic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

import yaml

from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.store import SandboxStore, StoredRecord, iso
from crmqual.sandbox.zoho_schema import (
    API_USER,
    ID_BASE,
    INDUSTRIES,
    MODULE,
    OWNERS,
    default_length,
    install,
    picklist,
)

_BATCH = 10_000


@dataclass(frozen=True)
class CustomField:
    """One row of the declared table."""

    api_name: str
    label: str
    data_type: str
    model: str
    pick_list_values: tuple[str, ...] = ()


def _load_table() -> tuple[CustomField, ...]:
    text = resources.files("crmqual.sandbox").joinpath("zoho_custom_fields.yaml").read_text()
    rows = yaml.safe_load(text)["fields"]
    return tuple(
        CustomField(
            api_name=r["api_name"],
            label=r["label"],
            data_type=r["data_type"],
            model=r["model"],
            pick_list_values=tuple(r.get("pick_list_values", ())),
        )
        for r in rows
    )


CUSTOM_FIELDS: tuple[CustomField, ...] = _load_table()


def install_custom_fields(store: SandboxStore, now: str) -> int:
    """Create the declared custom fields that the module lacks; returns how many were added."""
    install(store, now)
    present = {f.api_name for f in store.fields(MODULE)}
    added = 0
    for row in CUSTOM_FIELDS:
        if row.api_name in present:
            continue
        ids = store.next_ids(1 + (len(row.pick_list_values) + 1), ID_BASE + 100)
        store.put_field(
            MODULE,
            FieldDef(
                id=str(ids[0]),
                api_name=row.api_name,
                label=row.label,
                data_type=row.data_type,
                custom=True,
                length=default_length(row.data_type),
                decimal_place=2 if row.data_type in ("currency", "double") else None,
                picklist=picklist(row.pick_list_values, ids[1:]) if row.pick_list_values else (),
                created_time=now,
                modified_time=now,
            ),
        )
        added += 1
    return added


_COUNTRIES = (
    ("United States", "USD", ("New York", "Chicago", "Austin", "Seattle")),
    ("United Kingdom", "GBP", ("London", "Leeds", "Bristol")),
    ("Germany", "EUR", ("Berlin", "Munich", "Hamburg")),
    ("France", "EUR", ("Paris", "Lyon")),
    ("China", "CNY", ("Shanghai", "Shenzhen", "Hangzhou", "Chengdu")),
    ("Japan", "JPY", ("Tokyo", "Osaka")),
    ("India", "INR", ("Mumbai", "Bengaluru")),
)
_NAME_A = [
    "Acme",
    "Northwind",
    "Blue",
    "Golden",
    "Silver",
    "Pacific",
    "Summit",
    "Evergreen",
    "Harbor",
    "Crescent",
    "Atlas",
]
_NAME_B = [
    "Works",
    "Trading",
    "Industries",
    "Logistics",
    "Foods",
    "Systems",
    "Materials",
    "Textiles",
    "Energy",
    "Labs",
]
_SUFFIX = ("Ltd", "Inc", "GmbH", "S.A.", "Co., Ltd.", "LLC")
_RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")


def _money(value: float) -> float:
    return round(value, 2)


def _statement(rng: random.Random, health: float, revenue: float) -> dict[str, float]:
    """One period's statement; `health` 0 (failing) .. 1 (excellent) drives every ratio."""
    margin = -0.25 + 0.45 * health + rng.uniform(-0.05, 0.05)
    ebit = revenue * margin
    total_assets = revenue * rng.uniform(0.6, 1.6)
    debt_ratio = min(1.6, max(0.1, 1.25 - 1.0 * health + rng.uniform(-0.1, 0.1)))
    liabilities = _money(total_assets * debt_ratio)
    equity = _money(total_assets - liabilities)
    assets = _money(liabilities + equity)
    current_assets = _money(assets * rng.uniform(0.3, 0.7))
    current_ratio = max(0.3, 0.5 + 2.0 * health + rng.uniform(-0.2, 0.2))
    current_liabilities = _money(min(liabilities, current_assets / current_ratio))
    cash = _money(current_assets * rng.uniform(0.05, 0.4))
    inventory = _money((current_assets - cash) * rng.uniform(0.2, 0.6))
    receivables = _money((current_assets - cash - inventory) * rng.uniform(0.5, 1.0))
    interest = _money(liabilities * rng.uniform(0.02, 0.08))
    depreciation = _money(assets * rng.uniform(0.02, 0.06))
    net_income = _money((ebit - interest) * (0.75 if ebit > interest else 1.0))
    return {
        "Revenue": _money(revenue),
        "EBIT": _money(ebit),
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
        "Retained_Earnings": _money(equity * rng.uniform(0.2, 0.8)),
        "Operating_Cash_Flow": _money(
            net_income + depreciation + revenue * rng.uniform(-0.05, 0.05)
        ),
    }


def company(rng: random.Random, n: int, today: date) -> dict[str, Any]:
    """The native values of one seeded account (standard and custom Accounts fields)."""
    health = rng.random()
    country, currency, cities = rng.choice(_COUNTRIES)
    name = f"{rng.choice(_NAME_A)} {rng.choice(_NAME_B)} {n} {rng.choice(_SUFFIX)}"
    slug = name.split()[0].lower() + name.split()[1].lower() + str(n)
    founded = today - timedelta(days=rng.randint(200, 365 * 60))
    revenue = 10 ** rng.uniform(5.5, 9.0)
    latest = _statement(rng, health, revenue)
    prior_health = min(1.0, max(0.0, health + rng.uniform(-0.15, 0.15)))
    prior = _statement(rng, prior_health, revenue / (1 + rng.uniform(-0.2, 0.3)))
    period_end = date(today.year - 1, 12, 31)
    overdue = 0 if health > 0.6 else rng.randint(0, int((1 - health) * 12))
    values: dict[str, Any] = {
        "Account_Name": name,
        "Account_Number": f"AC-{n:08d}",
        "Account_Type": "Customer" if rng.random() < 0.8 else "Prospect",
        "Ownership": rng.choice(("Private", "Public", "Subsidiary", "Partnership")),
        "Industry": rng.choice(INDUSTRIES),
        "Employees": max(1, int(revenue / rng.uniform(80_000, 400_000))),
        "Annual_Revenue": latest["Revenue"],
        "Currency": currency,
        "Website": f"https://www.{slug}.example",
        "Phone": f"+1-555-{n % 10_000:04d}",
        "Billing_City": rng.choice(cities),
        "Billing_Country": country,
        "Registration_ID": f"REG{n:010d}",
        "Founding_Date": founded.isoformat(),
        "Registered_Capital": _money(10 ** rng.uniform(4.5, 8.0)),
        "Legal_Representative": f"{rng.choice(('Alex', 'Sam', 'Wang', 'Maria', 'Yuki'))} "
        f"{rng.choice(('Chen', 'Smith', 'Garcia', 'Müller', 'Sato'))}",
        "Business_Status": "Active" if health > 0.1 or rng.random() < 0.7 else "In Liquidation",
        "Period_End": period_end.isoformat(),
        "Statement_Currency": currency,
        "Prior_Period_End": date(period_end.year - 1, 12, 31).isoformat(),
        "Prior_Statement_Currency": currency,
        "External_Rating": _RATINGS[min(9, int((1 - health) * 10))],
        "External_Score": int(20 + 80 * health),
        "Overdue_Count": overdue,
        "Overdue_Max_Days": 0 if overdue == 0 else rng.randint(5, int(15 + (1 - health) * 180)),
        "Overdue_Amount": 0.0 if overdue == 0 else _money(revenue * rng.uniform(0.001, 0.02)),
        "Defaults_Count": 1 if health < 0.08 and rng.random() < 0.6 else 0,
        "Current_Exposure": _money(revenue * rng.uniform(0.0, 0.03)),
        "Requested_Limit": _money(revenue * rng.uniform(0.005, 0.05)),
        "Expected_Monthly_Purchases": _money(revenue * rng.uniform(0.001, 0.01)),
        "Open_Lawsuits_Defendant": 0 if health > 0.5 else rng.randint(0, int((1 - health) * 6)),
        "Enforcement_Records": 0 if health > 0.25 else rng.randint(0, 3),
        "Penalties": 0 if health > 0.4 else rng.randint(0, 2),
        "Sanctions_Hit": health < 0.02,
        "ESG_Score": round(30 + 60 * health + rng.uniform(-10, 10), 1),
        "Relationship_Years": rng.randint(0, 15),
        "Signed_Agreement": rng.random() < 0.5 + 0.4 * health,
    }
    values.update(latest)
    values.update({f"Prior_{k}": v for k, v in prior.items()})
    return values


def seed_zoho(
    store: SandboxStore, accounts: int, seed: int = 0, now: datetime | None = None
) -> int:
    """Add `accounts` companies (and the custom fields, if missing); returns how many."""
    from crmqual.sandbox.clock import SandboxClock

    instant = now or SandboxClock(store).now()
    install_custom_fields(store, iso(instant))
    rng = random.Random(seed)
    ids = store.next_ids(accounts, ID_BASE + 1_000_000)
    creator = dict(API_USER)
    done = 0
    while done < accounts:
        size = min(_BATCH, accounts - done)
        batch = []
        for n in range(done, done + size):
            created = instant - timedelta(seconds=rng.randint(3_600, 3 * 365 * 86_400))
            modified = created + (instant - created) * rng.random()
            values = company(rng, n + 1, instant.date())
            values["Owner"] = dict(OWNERS[rng.randrange(len(OWNERS))])
            values["Created_By"] = creator
            values["Modified_By"] = creator
            batch.append(StoredRecord(MODULE, ids[n], iso(created), iso(modified), values))
        store.insert_records(MODULE, batch)
        done += size
    return accounts
