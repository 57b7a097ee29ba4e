"""End to end: `crmqual check`, `provision --dry-run`, `provision` (twice), `provision
--remove [--delete-fields]` as subprocesses against `crmqual sandbox serve --crm salesforce`
in its own process (HTTPS on loopback), configured by a crmqual.yaml whose secrets are
`${ENV}` references."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sf_admin_org import make_box

from crmqual.mapping import load_mapping
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.store import Scan

pytestmark = pytest.mark.slow

MAPPING = Path(__file__).with_name("sf_admin_mapping.yaml")
OUTPUTS = load_mapping(str(MAPPING))[0].output_fields
SECTION = "Credit & qualification / 资信与准入"
ENV = {"CRMQUAL_TEST_SF_CLIENT_ID": "client_id", "CRMQUAL_TEST_SF_CLIENT_SECRET": "client_secret"}


@dataclass
class Served:
    box: SalesforceSandbox
    creds: SalesforceCredentials
    config: Path

    def crmqual(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        secrets = {name: getattr(self.creds, key) for name, key in ENV.items()}
        done = subprocess.run(
            [sys.executable, "-m", "crmqual", *args, "-c", str(self.config)],
            env={**os.environ, **secrets},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.returncode, done.stdout, done.stderr

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.crmqual(*args, "--json")
        assert out.strip(), f"exit {code}: {err}"
        return code, json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("sfadmin")
    box = make_box(folder / "sf.db", accounts=40)
    box.add_layout("Credit Team Layout")
    log = folder / "serve.log"
    with log.open("w", encoding="utf-8") as errors:
        proc = subprocess.Popen(
            box.serve_command(), stdout=subprocess.PIPE, stderr=errors, text=True
        )
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=60)
        line = proc.stdout.readline() if ready else ""
        assert line, f"the sandbox did not start: {log.read_text('utf-8')[-2000:]}"
        creds = SalesforceCredentials(**json.loads(line))
        config = {
            "crm": "salesforce",
            "target": "sf-admin-test",
            "connection": {
                "flow": "client_credentials",
                "login_url": creds.login_url,
                "client_id": "${CRMQUAL_TEST_SF_CLIENT_ID}",
                "client_secret": "${CRMQUAL_TEST_SF_CLIENT_SECRET}",
                "ca_file": creds.ca_file,
                "admin": {
                    "access": {
                        "integration_user": creds.username,
                        "read_profiles": ["Standard User", "Credit Controller"],
                    },
                    "layouts": {"names": ["Account Layout", "Credit Team Layout"]},
                },
            },
            "mapping": str(MAPPING),
            "state": "sqlite:///state.sqlite",
        }
        path = folder / "crmqual.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
        yield Served(box, creds, path)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        box.close()


def _section(box: SalesforceSandbox, layout: str) -> list[str]:
    for found in box.layouts()[layout]["layoutSections"]:
        if found["label"] == SECTION:
            return sorted(i["field"] for c in found["layoutColumns"] for i in c["layoutItems"])
    return []


def test_check_dry_run_provision_twice_remove_and_delete(served: Served) -> None:
    box = served.box
    code, report = served.json("check")
    items = {i["item"]: i for i in report["items"]}
    assert code == 0, report
    assert items["login"]["status"] == "ok" and items["API usage"]["status"] == "ok"
    assert items["permission set crmqual_Output_Edit"]["status"] == "to create"

    code, dry = served.json("provision", "--dry-run")
    assert code == 0 and dry["dry_run"]
    kinds = [s["kind"] for s in dry["steps"]]
    assert kinds.count("create_field") == len(OUTPUTS)
    assert kinds.count("place_on_layout") == 2 * len(OUTPUTS)  # two layouts named
    assert kinds.count("grant_access") == len(OUTPUTS) + 2
    assert not {f.api_name for f in box.store.fields("Account")} & set(OUTPUTS)

    code, done = served.json("provision")
    assert code == 0, done
    assert done["conflicts"] == [] and done["next"] == "crmqual sync --dry-run"
    assert _section(box, "Account Layout") == sorted(OUTPUTS)
    assert _section(box, "Credit Team Layout") == sorted(OUTPUTS)
    assigned = len(list(box.store.scan(Scan("PermissionSetAssignment"))))
    assert assigned == 1 + 1 + 4  # the seed's set; the edit set; 3 Standard Users + Zhang Min

    code, again = served.json("provision")
    assert code == 0 and again["steps"] == [] and sorted(again["unchanged"]) == sorted(OUTPUTS)

    code, text, err = served.crmqual("check", "--verbose", "--lang", "zh")
    assert code == 0, err
    assert "权限集" in text and "布局" in text

    code, out, err = served.crmqual("provision", "--delete-fields")
    assert code == 2 and "--delete-fields works with --remove only" in err

    code, out, err = served.crmqual("provision", "--remove", "--dry-run")
    assert code == 0, err
    assert out.count("would remove") == 4  # two sections, two permission sets

    code, out, err = served.crmqual("provision", "--remove", "--delete-fields", stdin="n\n")
    assert code == 2 and "nothing was removed" in err
    assert _section(box, "Account Layout") == sorted(OUTPUTS)

    code, out, err = served.crmqual("provision", "--remove", "--delete-fields", "--json")
    assert code == 2 and "add --yes" in err  # --json cannot ask
    code, removed = served.json("provision", "--remove", "--delete-fields", "--yes")
    assert code == 0, removed
    assert len(removed["removed"]) == 4 + len(OUTPUTS)
    assert _section(box, "Account Layout") == []
    assert not {f.api_name for f in box.store.fields("Account")} & set(OUTPUTS)
    names = {str(r.data["Name"]) for r in box.store.scan(Scan("PermissionSet"))}
    assert names == {"Credit_Inputs"}
