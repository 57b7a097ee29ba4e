"""Issue 24, end to end: `crmqual provision` against the served sandbox puts every output
field in crmqual's section of both Accounts layouts; a second provision sends no PATCH; a
layout the admin rearranged by hand is left as it is; `--remove` takes the section off;
without the layouts scope the fields are created and the admin is told which scope places
them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from zoho_backend import SHIPPED_MAPPING, ZohoBackend, serve

from crmqual.adapters.zoho.config import ZohoApiLimits
from crmqual.mapping import load_mapping
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
MAPPING = load_mapping(SHIPPED_MAPPING)[0]
OUTPUTS = [rule.native for rule in MAPPING.outputs.values()]
SECTION = "Credit and qualification"
LAYOUTS = ("Standard", "Credit Review")
WITHOUT_LAYOUTS = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.fields.ALL", "ZohoCRM.org.READ")


@dataclass
class Org:
    box: ZohoSandbox
    backend: ZohoBackend

    def crmqual(self, *args: str) -> tuple[int, str, str]:
        done = subprocess.run(
            self.backend.sync_command(*args),
            env=self.backend.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.returncode, done.stdout, done.stderr

    def layout_patches(self, after: int = 0) -> int:
        return sum(
            1
            for c in self.box.calls(after)
            if c.endpoint.startswith("PATCH") and "layouts" in c.endpoint
        )

    def last_call(self) -> int:
        calls = self.box.calls()
        return calls[-1].seq if calls else 0


def open_org(tmp_path: Path, scopes: tuple[str, ...] = ()) -> Iterator[Org]:
    box = ZohoSandbox(tmp_path / "zoho.db")
    box.clock.freeze(START)
    seed_zoho(box.store, 20, seed=3)
    try:
        with serve(box, tmp_path / "serve.log", scopes=scopes) as creds:
            backend = ZohoBackend(box, creds, served=True, limits=ZohoApiLimits(), folder=tmp_path)
            backend.write_config()
            yield Org(box, backend)
    finally:
        box.close()


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    yield from open_org(tmp_path)


def test_provision_places_every_output_in_one_section_of_both_layouts(org: Org) -> None:
    code, out, err = org.crmqual("provision", "--dry-run", "--json")
    assert code == 0, err
    planned = [s for s in json.loads(out)["steps"] if s["kind"] == "place_on_layout"]
    assert len(planned) == len(OUTPUTS) * len(LAYOUTS)
    assert org.layout_patches() == 0  # a dry run changes nothing

    code, out, err = org.crmqual("provision")
    assert code == 0, err
    for layout in LAYOUTS:
        assert org.box.layout_fields(layout)[SECTION] == OUTPUTS, layout
    # 11 fields, 5 a request: three PATCHes per layout
    assert org.layout_patches() == 3 * len(LAYOUTS)

    before = org.last_call()
    code, out, err = org.crmqual("provision")
    assert code == 0, err
    assert org.layout_patches(before) == 0
    assert "placed on the page layout" not in out


def test_a_layout_the_admin_rearranged_is_left_as_it_is(org: Org) -> None:
    assert org.crmqual("provision")[0] == 0
    moved = _move_by_hand(org, "Standard", "Risk_Grade", "Account Information")
    assert "Risk_Grade" in moved["Account Information"]
    before = org.last_call()
    code, _, err = org.crmqual("provision")
    assert code == 0, err
    assert org.layout_patches(before) == 0
    assert org.box.layout_fields("Standard") == moved


def test_remove_takes_the_section_off_and_keeps_the_fields(org: Org) -> None:
    assert org.crmqual("provision")[0] == 0
    code, out, err = org.crmqual("provision", "--remove", "--dry-run")
    assert code == 0, err
    assert out.count("would remove") == len(LAYOUTS)
    assert all(SECTION in org.box.layout_fields(n) for n in LAYOUTS)
    code, out, err = org.crmqual("provision", "--remove", "--lang", "zh")
    assert code == 0, err
    assert out.count("已移除") == len(LAYOUTS)
    assert all(SECTION not in org.box.layout_fields(n) for n in LAYOUTS)
    fields = {f.api_name for f in org.box.store.fields("Accounts")}
    assert set(OUTPUTS) <= fields
    code, out, _ = org.crmqual("provision", "--remove")
    assert code == 0 and "nothing to remove" in out


def test_without_the_layouts_scope_fields_are_created_and_the_scope_named(
    tmp_path: Path,
) -> None:
    for org in open_org(tmp_path, scopes=WITHOUT_LAYOUTS):
        code, out, err = org.crmqual("provision")
        assert code == 0, err
        fields = {f.api_name for f in org.box.store.fields("Accounts")}
        assert set(OUTPUTS) <= fields
        assert "ZohoCRM.settings.layouts.READ" in out and "run `crmqual provision` again" in out
        assert all(SECTION not in org.box.layout_fields(n) for n in LAYOUTS)
        code, out, _ = org.crmqual("check", "--json")
        items = {i["item"]: i["status"] for i in json.loads(out)["items"]}
        assert items["scope ZohoCRM.settings.layouts.READ"] == "failed"


def _move_by_hand(org: Org, layout_name: str, field: str, section_label: str) -> Any:
    """What an admin does in Zoho's layout editor: drag a field into another section."""
    creds = org.backend.creds
    token = requests.post(
        creds.token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        timeout=10,
    ).json()["access_token"]
    layout = next(lay for lay in org.box.layouts() if lay["name"] == layout_name)
    section = next(s for s in layout["sections"] if s["display_label"] == section_label)
    field_id = next(f.id for f in org.box.store.fields("Accounts") if f.api_name == field)
    answer = requests.patch(
        f"{creds.api_base}/crm/v8/settings/layouts/{layout['id']}",
        params={"module": "Accounts"},
        headers={"Authorization": f"Zoho-oauthtoken {token}", "User-Agent": "Zoho web UI"},
        json={"layouts": [{"sections": [{"id": section["id"], "fields": [{"id": field_id}]}]}]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return org.box.layout_fields(layout_name)


def test_zoho_s_v8_sdk_reads_the_section_back(org: Org, tmp_path: Path) -> None:
    pytest.importorskip("zohocrmsdk", reason="Zoho's v8 SDK: pip install zohocrmsdk8-0")
    assert org.crmqual("provision")[0] == 0
    creds = org.backend.creds
    folder = tmp_path / "sdk"
    folder.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("sdk8_layouts.py")),
            creds.api_base,
            creds.token_url,
            creds.upload_url,
            creds.client_id,
            creds.client_secret,
            creds.refresh_token,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    for name in LAYOUTS:
        assert seen[name][SECTION] == OUTPUTS, name
