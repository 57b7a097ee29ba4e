"""Output fields a CRM names itself (issue 12): provisioning lists them for the admin to
create by hand, and ``check`` and ``sync`` find them by label through describe.

The in-memory CRM with ``manual_fields: true`` stands for a CRM whose API cannot create
fields and whose console generates the API names (Fxiaoke's ``field_xxxxx__c``).
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from crmqual.adapters.memory import ORGS, MemoryCrm
from crmqual.cli.main import main
from crmqual.contract import FieldSpec
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.state import StateStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"


def _mapping_by_label() -> dict[str, Any]:
    """The file adapter's mapping with every output named by its label only."""
    data = load_mapping(None, "file")[0].model_dump(mode="json")
    data["crm"] = "memory"
    for rule in data["outputs"].values():
        rule["field"] = None
    return data


@pytest.fixture
def org(tmp_path: Path) -> tuple[MemoryCrm, Path]:
    name = f"org-{uuid.uuid4().hex[:8]}"
    crm = ORGS.setdefault(name, MemoryCrm())
    with EXAMPLES.open(encoding="utf-8") as f:
        rows = [{k: v for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
    crm.load([{k: v for k, v in r.items() if k != "modified_time"} for r in rows[:6]])
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(_mapping_by_label()), "utf-8")
    config = {
        "crm": "memory",
        "connection": {"org": name, "manual_fields": True, "page_size": 4, "write_batch": 3},
        "mapping": "mapping.yaml",
        "state": "sqlite:///state.sqlite",
    }
    path = tmp_path / "crmqual.yaml"
    path.write_text(yaml.safe_dump(config), "utf-8")
    yield crm, path
    ORGS.pop(name, None)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def create_by_hand(
    crm: MemoryCrm, config: Path, *, chinese: set[str] = frozenset()
) -> dict[str, str]:
    """What the admin does in the CRM's console: each output field under the label the
    plan lists (the Chinese one for ``chinese``); the console picks the API names."""
    mapping = load_mapping(config.parent / "mapping.yaml")[0]
    names = {}
    for output, spec in zip(mapping.outputs, wanted_fields(mapping, load_policy()), strict=True):
        label = spec.label_zh if output in chinese and spec.label_zh else spec.label
        names[output] = crm.add_field(FieldSpec("", spec.type, label, spec.picklist))
    return names


def test_provision_lists_what_to_create_by_hand_and_changes_nothing(org: Any) -> None:
    crm, config = org
    before = dict(crm.fields)
    for args in (["--dry-run"], []):
        result = run("provision", *args, "-c", str(config))
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        start = lines.index("to do by hand in memory (its API cannot), then run `crmqual check`:")
        todo = lines[start + 1 :]
        assert len(todo) == 11
        assert (
            "  (picklist) “Risk grade” / “风险等级” [A, B, C, D, E]: create it with this label"
            in todo
        )
        assert "  (datetime) “Assessed at” / “评估时间”: create it with this label" in todo
    assert crm.fields == before


def test_check_and_sync_refuse_until_the_fields_exist(org: Any) -> None:
    _, config = org
    result = run("check", "--json", "-c", str(config))
    report = json.loads(result.stdout)
    assert result.exit_code == report["exit_code"] == 0
    assert report["next"] == "`crmqual provision --dry-run`, then `crmqual provision`"
    items = {i["item"]: i for i in report["items"]}
    grade = items["output field [Risk grade]"]
    assert grade["status"] == "to create"
    assert grade["detail"] == "in the CRM's console: `crmqual provision` prints the list"
    sync = run("sync", "-c", str(config))
    assert sync.exit_code == 2
    assert "output fields missing in the CRM: [" in sync.output
    assert "[Risk grade]" in sync.output and "[Credit status]" in sync.output
    # memory's API cannot create fields: the admin creates them in the console, as listed
    assert "create them in memory's console as `crmqual provision` lists them" in sync.output


def test_fields_found_by_label_are_checked_and_written(org: Any) -> None:
    crm, config = org
    names = create_by_hand(crm, config, chinese=frozenset({"grade", "reasons"}))
    result = run("check", "--json", "-c", str(config))
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    items = {i["item"]: i for i in report["items"]}
    assert items[f"output field {names['grade']}"] == {
        "item": f"output field {names['grade']}",
        "status": "ok",
        "detail": "found by label “Risk grade” / “风险等级”",
    }
    with StateStore(f"sqlite:///{config.parent / 'state.sqlite'}") as state:
        kept = state.field_names("memory")
    assert {o: f.api_name for o, f in kept.items()} == names
    assert kept["grade"].label == "Risk grade / 风险等级"
    text = run("check", "-v", "-c", str(config)).output
    assert f"output field {names['score']}" in text
    first = run("sync", "--json", "-c", str(config))
    summary = json.loads(first.stdout)
    assert (summary["status"], summary["written"]) == ("ok", 6), first.output
    for record in crm.records.values():
        assert record[names["grade"]] in set("ABCDE")
        assert record[names["assessed_at"]]
    written = {f for entry in crm.log if entry.client == "crmqual" for f in entry.changes}
    assert written <= set(names.values())
    again = json.loads(run("sync", "--json", "-c", str(config)).stdout)
    assert again["written"] == 0


def test_a_label_two_fields_carry_is_refused(org: Any) -> None:
    crm, config = org
    names = create_by_hand(crm, config)
    crm.add_field(FieldSpec("", crm.fields[names["grade"]].type, "风险等级"))
    result = run("check", "-c", str(config))
    assert result.exit_code == 2
    assert "outputs.grade.label: several fields carry the label" in result.output
    assert "name the right one with field:" in result.output


def test_a_field_found_by_label_with_another_type_is_refused(org: Any) -> None:
    crm, config = org
    names = create_by_hand(crm, config)
    spec = crm.fields[names["score"]]
    crm.fields[names["score"]] = FieldSpec(spec.api_name, crm.fields["name"].type, spec.label)
    result = run("check", "--json", "-c", str(config))
    items = {i["item"]: i for i in json.loads(result.stdout)["items"]}
    assert result.exit_code == 2
    assert items["field outputs.score.field"]["detail"] == (
        f"{names['score']} exists as text, the mapping needs integer"
    )


def test_a_crm_that_creates_fields_needs_every_field_named(org: Any) -> None:
    _, config = org
    settings = yaml.safe_load(config.read_text("utf-8"))
    settings["connection"]["manual_fields"] = False
    config.write_text(yaml.safe_dump(settings), "utf-8")
    result = run("provision", "--dry-run", "-c", str(config))
    assert result.exit_code == 2
    assert "outputs.grade.field: required: memory fields are created under the name given" in (
        result.output
    )
