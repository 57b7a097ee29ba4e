"""A dry run an admin can review (issue 14): after a policy change on 2,500 sandbox
accounts, `sync --dry-run --json` lists every record that would change, with its name, its
kinds of change and each field's current and new value; `--csv` and the grouped text agree."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from test_zoho_e2e import AS_OF, open_org

import crmqual

ACCOUNTS = 2_500


def test_the_dry_run_after_a_policy_change_lists_every_record(tmp_path: Path) -> None:
    with open_org(tmp_path, "inprocess", accounts=ACCOUNTS, batch_size=100) as org:
        assert org.crmqual("provision")[0] == 0
        code, first = org.sync()
        assert (code, first["written"]) == (0, ACCOUNTS)
        names = {str(r["id"]): r.get("Account_Name") for r in org.box.records()}
        stricter = tmp_path / "stricter.yaml"
        shipped = (Path(crmqual.__file__).parent / "data" / "default_policy.yaml").read_text()
        assert "min_score: 71" in shipped
        stricter.write_text(shipped.replace("min_score: 71", "min_score: 81"), "utf-8")
        org.backend.write_config(batch_size=100, policy=stricter)
        org.box.clock.advance(1)
        before = len(org.ours())
        code, out, err = org.crmqual("sync", "--dry-run", "--json", "--as-of", AS_OF)
        assert code == 0, err
        plan = json.loads(out)
        assert len(org.ours()) == before  # nothing written
        assert plan["changed"] == len(plan["plan"]) > 200  # every record, not the first 200
        downgraded = [r for r in plan["plan"] if "downgraded" in r["kinds"]]
        assert downgraded, "a stricter grade A band downgrades some accounts"
        for record in plan["plan"]:
            assert record["name"] == names[record["id"]]
            assert record["fields"], record
        grade = "Risk_Grade"
        some = next(f for f in downgraded[0]["fields"] if f["field"] == grade)
        assert (some["from"], some["to"]) == ("A", "B")
        code, text, _ = org.crmqual("sync", "--dry-run", "--csv", "--as-of", AS_OF)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {r["id"] for r in rows} == {r["id"] for r in plan["plan"]}
        assert len(rows) == sum(len(r["fields"]) for r in plan["plan"])
        code, shown, _ = org.crmqual("sync", "--dry-run", "--show", "3", "--as-of", AS_OF)
        lines = shown.splitlines()
        assert any(
            line.startswith(f"would change {plan['changed']:,} account(s): ") for line in lines
        )
        assert "downgraded:" in lines
        assert any(line.startswith("  … and ") and "more" in line for line in lines)
        assert f"      {grade}: “A” → “B”" in lines  # the CRM's values, quoted
