"""`crmqual sandbox seed|serve|stats --crm salesforce`, and the seed's mapping onto Account."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crmqual.sandbox.command import sandbox
from crmqual.sandbox.dialects import DIALECTS, load
from crmqual.sandbox.faults import PROFILES
from crmqual.sandbox.salesforce.backend import SalesforceSandbox
from crmqual.sandbox.salesforce.seed import CUSTOM_FIELDS, seed_salesforce
from crmqual.sandbox.seed_defects import BUREAU_BLOCK


def test_the_dialect_is_registered() -> None:
    assert DIALECTS["salesforce"] == "crmqual.sandbox.salesforce"
    assert load("salesforce").name == "salesforce"


def test_seed_and_stats_commands(tmp_path: Path) -> None:
    db = tmp_path / "sf.db"
    runner = CliRunner()
    seeded = runner.invoke(
        sandbox, ["seed", "--crm", "salesforce", "--accounts", "12", "--db", str(db)]
    )
    assert seeded.exit_code == 0, seeded.output
    assert "seeded 12 salesforce accounts" in seeded.output
    shown = runner.invoke(sandbox, ["stats", "--crm", "salesforce", "--db", str(db), "--json"])
    summary = json.loads(shown.output)
    assert summary["calls_total"] == 0
    assert (
        summary["credits"]["allowance"] == 110_000 and summary["credits"]["edition"] == "enterprise"
    )


def test_serve_refuses_settings_that_do_not_apply(tmp_path: Path) -> None:
    db = str(tmp_path / "sf.db")
    runner = CliRunner()
    scopes = runner.invoke(sandbox, ["serve", "--crm", "salesforce", "--db", db, "--scopes", "x"])
    assert scopes.exit_code == 2 and "--scopes" in scopes.output
    edition = runner.invoke(
        sandbox, ["serve", "--crm", "salesforce", "--db", db, "--edition", "free"]
    )
    assert edition.exit_code == 2 and "--edition" in edition.output
    credits = runner.invoke(
        sandbox, ["serve", "--crm", "salesforce", "--db", db, "--credits", "lots"]
    )
    assert credits.exit_code == 2 and "--credits" in credits.output


def test_serve_binds_https_and_prints_the_credentials(tmp_path: Path) -> None:
    db = tmp_path / "sf.db"
    serving = load("salesforce").serve(
        db,
        0,
        faults=PROFILES["none"],
        fault_seed=0,
        settings={"edition": "developer", "credits": "500"},
    )
    try:
        creds = serving.credentials
        for key in (
            "login_url",
            "instance_url",
            "username",
            "password",
            "security_token",
            "client_id",
            "private_key_file",
            "ca_file",
        ):
            assert creds[key], key
        assert creds["instance_url"].startswith("https://127.0.0.1:")
        assert Path(creds["ca_file"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" in Path(creds["private_key_file"]).read_text()
        assert Path(creds["private_key_file"]).stat().st_mode & 0o077 == 0
        assert serving.env["SALESFORCE_USERNAME"] == creds["username"]
        assert SalesforceSandbox(db).quota.allowance == 500
    finally:
        serving.server._server.server_close()


def test_seed_maps_the_shared_companies_onto_account(tmp_path: Path) -> None:
    box = SalesforceSandbox(tmp_path / "s.db")
    seed_salesforce(box.store, 200, seed=5, workers=0, missing_rate=0.2, bad_rate=0.1)
    rows = [box.record(i) for i in box.account_ids()]
    assert len(rows) == 200
    first = rows[0]
    assert first is not None
    for name in (
        "Name",
        "AnnualRevenue",
        "NumberOfEmployees",
        "Industry",
        "BillingCountry",
        "Website",
        "OwnerId",
        "CurrencyIsoCode",
        "Revenue__c",
        "Total_Assets__c",
    ):
        assert name in first, name
    countries = {r["BillingCountry"] for r in rows if r}
    assert "China" in countries and countries & {"United States", "United Kingdom"}
    assert any(r and r["Name"].endswith("有限公司") for r in rows)
    assert all(r and r["OwnerId"].startswith("005") and len(r["OwnerId"]) == 18 for r in rows)
    assert any(r and r["External_Score__c"] is None for r in rows)  # missing bureau data
    bad = [
        r["Registered_Capital__c"]
        for r in rows
        if r and r["Registered_Capital__c"] and not str(r["Registered_Capital__c"]).isdigit()
    ]
    assert bad  # malformed text values at the bad rate
    assets = [
        r
        for r in rows
        if r and r.get("Total_Liabilities__c") is not None and r.get("Equity__c") is not None
    ]
    assert all(
        abs(r["Total_Assets__c"] - r["Total_Liabilities__c"] - r["Equity__c"]) < 0.02
        for r in assets
    )
    declared = {f.api_name for f in CUSTOM_FIELDS}
    assert {"Registration_ID__c", "Founding_Date__c", "ESG_Score__c"} <= declared
    assert all(f.endswith("__c") for f in declared)
    assert f"{BUREAU_BLOCK[0]}__c" in declared


def test_seed_is_reproducible(tmp_path: Path) -> None:
    from sf_helpers import START

    def values(name: str) -> list[object]:
        box = SalesforceSandbox(tmp_path / name)
        box.clock.freeze(START)
        seed_salesforce(box.store, 20, seed=9, workers=0)
        return [box.record(i) for i in box.account_ids()]

    assert values("a.db") == values("b.db")
