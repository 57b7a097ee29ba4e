"""`crmqual demo --crm salesforce`: the Salesforce sandbox seeded, provisioned (fields,
access, the layout section), synced twice (the second writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.sandbox.salesforce.backend import SalesforceSandbox
from crmqual.sandbox.store import Scan


def test_demo_on_salesforce_syncs_twice_and_shows_the_grades(tmp_path: Path) -> None:
    args = ["demo", "--crm", "salesforce", "--accounts", "120", "--dir", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["first"]["written"] == 120 and answer["first"]["failed"] == 0
    assert answer["second"]["written"] == 0
    assert sum(answer["grades"].values()) == 120 and all(answer["grades"].values())
    assert answer["layouts"] == ["Account Layout"]
    assert Path(answer["report"]).exists()
    box = SalesforceSandbox(tmp_path / "sandbox.sqlite")
    try:
        sets = {str(r.data["Name"]) for r in box.store.scan(Scan("PermissionSet"))}
        assert {"crmqual_Output_Edit", "crmqual_Output_Read"} <= sets
        labels = [s["label"] for s in box.layouts()["Account Layout"]["layoutSections"]]
        assert labels[-1] == "Credit & qualification / 资信与准入"
    finally:
        box.close()
    text = CliRunner().invoke(main, [*args, "--fresh", "--lang", "zh"])
    assert text.exit_code == 0, text.output
    assert "Salesforce" in text.stdout and "销售人员可在客户布局" in text.stdout
