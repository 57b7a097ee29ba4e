"""Seed data: realistic, consistent, defective at the rates asked, graded over A..E."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sandbox_helpers import START

from crmqual.compiled import compiled
from crmqual.engine import assess
from crmqual.mapping import RecordProblems, load_mapping, read_record
from crmqual.policy import load_policy
from crmqual.sandbox.command import sandbox
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.schema import OWNERS
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS, seed_zoho

ACCOUNTS = 10_000
MISSING, BAD = 0.10, 0.03

# GB 32100-2015, written out again here so that the test does not trust the code under test.
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_is_valid(code: str) -> bool:
    if not _USCC.match(code):
        return False
    weights = [3**i % 31 for i in range(17)]
    total = sum(_CHARS.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return _CHARS[(31 - total % 31) % 31] == code[17]


def test_uscc_check_digit_by_the_standard() -> None:
    assert uscc_is_valid("91350100M000100Y43")  # the standard's published example
    assert not uscc_is_valid("91350100M000100Y44")
    assert not uscc_is_valid("91350100M000100I43")  # I is not in the alphabet


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    box = ZohoSandbox(tmp_path_factory.mktemp("seed") / "zoho.db")
    box.clock.freeze(START)
    seed_zoho(box.store, ACCOUNTS, seed=42, missing_rate=MISSING, bad_rate=BAD, workers=0)
    records = list(box.records())
    box.close()
    return records


def _malformed(record: dict[str, Any]) -> bool:
    capital, founded = record["Registered_Capital"], record["Founding_Date"]
    if capital is not None and not re.fullmatch(r"\d+", capital):
        return True
    if founded is not None:
        try:
            date.fromisoformat(founded)
        except ValueError:
            return True
    return False


def test_identities_hold_wherever_values_are_present(seeded: list[dict[str, Any]]) -> None:
    checked = 0
    for r in seeded:
        for p in ("", "Prior_"):
            ta, tl, eq = r[f"{p}Total_Assets"], r[f"{p}Total_Liabilities"], r[f"{p}Equity"]
            if None not in (ta, tl, eq):
                assert ta == pytest.approx(tl + eq, abs=0.011), r["id"]
                checked += 1
            ca, cl = r[f"{p}Current_Assets"], r[f"{p}Current_Liabilities"]
            if None not in (ca, ta):
                assert 0 <= ca <= ta
            parts = [r[f"{p}{n}"] for n in ("Cash", "Inventory", "Receivables")]
            if ca is not None and None not in parts:
                assert sum(parts) <= ca + 0.011
            if None not in (cl, tl):
                assert 0 <= cl <= tl
        if r["Prior_Revenue"] is not None and r["Revenue"] is not None:
            assert 0.3 < r["Revenue"] / r["Prior_Revenue"] < 3.0  # the same company a year on
    assert checked > 1.8 * ACCOUNTS


def test_missing_and_malformed_rates_are_as_asked(seeded: list[dict[str, Any]]) -> None:
    mapping, _ = load_mapping(None, "zoho")
    inputs = {rule.field.split(".")[0] for rule in mapping.inputs.values() if rule.field}
    missing = sum(1 for r in seeded if any(r.get(f) is None for f in inputs))
    malformed = sum(1 for r in seeded if _malformed(r))
    assert abs(missing / ACCOUNTS - MISSING) <= 0.01
    assert abs(malformed / ACCOUNTS - BAD) <= 0.01
    text_fields = {f.api_name for f in CUSTOM_FIELDS if f.data_type == "text"}
    assert {"Registered_Capital", "Founding_Date"} <= text_fields  # bad values only go there


def test_default_policy_spreads_grades_over_a_to_e(seeded: list[dict[str, Any]]) -> None:
    mapping, _ = load_mapping(None, "zoho")
    policy = compiled(load_policy())
    grades: Counter[str] = Counter()
    refused = 0
    unreadable = 0
    for record in seeded:
        try:
            account, lost = read_record(mapping, record, START.date(), policy.knockout_inputs)
        except RecordProblems:
            refused += 1
            continue
        unreadable += bool(lost)
        grades[assess(account, policy, as_of=START, unreadable=lost).grade] += 1
    # Issue 13: a malformed value no longer refuses its account: it is read where it can be
    # (3,389,000, 2409.5万) and otherwise left missing; every account is graded.
    assert refused == 0
    assert 0 < unreadable < sum(1 for r in seeded if _malformed(r))
    shares = {g: grades[g] / ACCOUNTS for g in "ABCDE"}
    assert all(share >= 0.05 for share in shares.values()), shares


def test_companies_look_real(seeded: list[dict[str, Any]]) -> None:
    countries = Counter(r["Billing_Country"] for r in seeded)
    assert set(countries) == {"China", "United States", "United Kingdom"}
    chinese = [r for r in seeded if r["Billing_Country"] == "China"]
    assert all(re.search(r"[\u4e00-\u9fff]", r["Account_Name"]) for r in chinese)
    codes = [r["Registration_ID"] for r in chinese if r["Registration_ID"]]
    assert codes and all(uscc_is_valid(c) for c in codes)
    names = Counter(r["Account_Name"] for r in seeded)
    assert len(names) > 0.95 * ACCOUNTS
    assert {r["Owner"]["id"] for r in seeded} == {o["id"] for o in OWNERS}
    statuses = Counter(r["Business_Status"] for r in seeded)
    assert statuses["Active"] > 0.9 * ACCOUNTS and statuses["In Liquidation"] > 0


def test_same_seed_same_data_whatever_the_workers(
    seeded: list[dict[str, Any]], tmp_path: Path
) -> None:
    box = ZohoSandbox(tmp_path / "again.db")
    box.clock.freeze(START)
    seed_zoho(box.store, 6_000, seed=42, missing_rate=MISSING, bad_rate=BAD, workers=2)
    again = list(box.records())
    assert again == seeded[:6_000]  # chunks are seeded alone: the first 6,000 agree
    other = ZohoSandbox(tmp_path / "other.db")
    other.clock.freeze(START)
    seed_zoho(other.store, 100, seed=43)
    assert [r["Account_Name"] for r in other.records()] != [r["Account_Name"] for r in seeded[:100]]


def test_seed_command_takes_the_rates(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    args = ["seed", "--accounts", "50", "--seed", "3", "--db", db, "--bad-rate", "1"]
    result = CliRunner().invoke(sandbox, [*args, "--missing-rate", "0"])
    assert result.exit_code == 0, result.output
    assert all(_malformed(r) for r in ZohoSandbox(db).records())
    bad = CliRunner().invoke(sandbox, [*args, "--missing-rate", "2"])
    assert bad.exit_code == 2
