"""An adapter crmqual does not ship works with no change to crmqual (issue 12).

``acme_dist/acme_crm`` is written as a third party would write it, against the public
contract only; the fixtures install it beside crmqual with its own entry point. The contract
suite passes on it, and every admin command runs on it in a real ``crmqual`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from crmqual import registry
from crmqual.contract import Adapter, BuildContext, FieldSpec
from crmqual.contract_suite import CHECKS, Backend, LoggedWrite
from crmqual.mapping import Mapping as CrmMapping
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy

COMPANIES = [
    {"CompanyName": "Harbor Tools", "Turnover": 8_000_000, "Profit": 450_000,
     "Assets": 5_000_000, "Liabilities": 2_000_000, "Equity": 3_000_000, "DaysLate": 0},
    {"CompanyName": "Ridge Mills", "Turnover": 2_500_000, "Profit": -300_000,
     "Assets": 3_000_000, "Liabilities": 2_900_000, "Equity": 100_000, "DaysLate": 75},
    {"CompanyName": "北辰贸易有限公司", "Turnover": 12_000_000, "Profit": 900_000,
     "Assets": 9_000_000, "Liabilities": 4_000_000, "Equity": 5_000_000},
    {"CompanyName": "Lumen Labs"},
    {"CompanyName": "Quay Freight", "Turnover": 4_000_000, "Profit": 120_000,
     "Assets": 2_000_000, "Liabilities": 1_500_000, "Equity": 500_000, "DaysLate": 20},
]  # fmt: skip


class AcmeBackend:
    """The contract suite's backend: an ACME org file, adapters built through the registry."""

    id_field = "Id"
    modified_field = "Changed"

    def __init__(self, folder: Path) -> None:
        import acme_crm  # installed by the fixture, found on sys.path like any distribution

        self.folder = folder
        self.org = acme_crm.AcmeOrg(folder / "acme-org.json")
        self.org.create([])
        self.mapping: CrmMapping = load_mapping(None, "acme")[0]
        self.output_fields: Sequence[FieldSpec] = wanted_fields(self.mapping, load_policy())

    def adapter(self) -> Adapter:
        context = BuildContext(self.folder, self.id_field, self.modified_field)
        return registry.make_adapter("acme", {"store": "acme-org.json"}, "test", context)

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        return self.org.create(
            [{self.native_name(k): v for k, v in r.items() if k != "id"} for r in records]
        )

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self.org.edit(record_id, changes, client="person")

    def write_log(self) -> list[LoggedWrite]:
        return [LoggedWrite(e["id"], e["fields"], e["client"]) for e in self.org.load()["log"]]

    def native_name(self, model_field: str) -> str:
        rule = self.mapping.inputs.get(model_field)
        return rule.field if rule is not None and rule.field else model_field

    def sync_command(self, *args: str) -> list[str]:
        raise RuntimeError("the CLI is driven by test_every_admin_command_runs_on_it")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_contract_suite_passes_on_it(check: Any, acme_installed: Path, tmp_path: Path) -> None:
    backend: Backend = AcmeBackend(tmp_path)
    check(backend)


def test_it_is_found_through_its_entry_point_only(acme_installed: Path) -> None:
    assert "acme" in registry.names()
    plugin = registry.plugin("acme")
    assert plugin.connection_model.__module__ == "acme_crm"
    assert Path(plugin.build.__code__.co_filename).is_relative_to(acme_installed)


def test_every_admin_command_runs_on_it(acme_site: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(acme_site), env.get("PYTHONPATH")]))
    config = tmp_path / "crmqual.yaml"

    def crmqual(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "crmqual", *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)

    def as_json(*args: str) -> dict[str, Any]:
        done = crmqual(*args, "--json", "-c", str(config))
        assert done.returncode in (0, 2), done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    assert "acme" in crmqual("init", "--help").stdout
    done = crmqual("init", "--crm", "acme", "--path", str(config))
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(acme_site))
    try:
        import acme_crm

        org = acme_crm.AcmeOrg(tmp_path / "acme-org.json")
        ids = org.create(COMPANIES)
    finally:
        sys.path.remove(str(acme_site))

    outputs = load_mapping(acme_site / "acme_crm" / "mapping.yaml")[0].output_fields
    before = as_json("check")
    assert before["exit_code"] == 0  # the outputs are still to be created: not a failure
    to_create = {i["item"] for i in before["items"] if i["status"] == "to create"}
    assert to_create == {f"output field {name}" for name in outputs}
    assert crmqual("provision", "-c", str(config)).returncode == 0
    assert as_json("check")["exit_code"] == 0

    first = as_json("sync")
    assert (first["status"], first["written"], first["failed"]) == ("ok", len(ids), 0)
    second = as_json("sync")
    assert (second["status"], second["written"]) == ("ok", 0)

    written = org.load()["records"]
    assert {written[i]["cq_grade"] for i in ids} <= set("ABCDE")
    ours = [e for e in org.load()["log"] if e["client"] == "crmqual"]
    assert all(set(e["fields"]) <= set(outputs) for e in ours)

    runs = crmqual("runs", "-c", str(config))
    assert runs.returncode == 0 and str(first["run_id"]) in runs.stdout
    revert = crmqual("revert", str(first["run_id"]), "--json", "-c", str(config))
    assert revert.returncode == 0, revert.stderr
    assert json.loads(revert.stdout)["restored"] == len(ids)
    restored = org.load()["records"]
    assert all(restored[i].get("cq_grade") in (None, "") for i in ids)
    assert restored[ids[0]]["CompanyName"] == "Harbor Tools"
