"""A thin client written only from the reference (`fx_client.py`, requests, no sandbox code)
against `python -m crmqual.sandbox serve --crm fxiaoke` in its own process: it pages every
account, resolves the output fields by label, updates one account and reads it back, in body
mode and in header mode."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fx_client import FxClient

from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke

ACCOUNTS = 1_234
FIELDS = """
fields:
  - {label: 风险等级, type: select_one, options: [A, B, C, D, E]}
  - {label: 信用额度(元), type: currency, decimals: 2}
  - {label: 预警标记, type: select_many, options: [逾期, 诉讼, 经营异常]}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    folder = tmp_path_factory.mktemp("fxserved")
    db = folder / "fx.db"
    box = FxiaokeSandbox(db)
    seed_fxiaoke(box.store, ACCOUNTS, seed=5, workers=0)
    box.close()
    (folder / "fields.yaml").write_text(FIELDS, encoding="utf-8")
    argv = [
        sys.executable,
        "-m",
        "crmqual.sandbox",
        "serve",
        "--crm",
        "fxiaoke",
        "--json",
        "--db",
        str(db),
        "--port",
        "0",
        "--rate",
        "1000",
        "--fields",
        str(folder / "fields.yaml"),
        "--env-file",
        str(folder / "fx.env"),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else ""
        yield json.loads(line), folder
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(creds: dict[str, Any], mode: str) -> FxClient:
    return FxClient(
        creds["base_url"],
        creds["app_id"],
        creds["app_secret"],
        creds["permanent_code"],
        creds["open_user_id"],
        mode=mode,
    )


def test_serve_prints_what_a_client_needs(served: tuple[dict[str, Any], Path]) -> None:
    creds, folder = served
    assert {"base_url", "app_id", "app_secret", "permanent_code", "open_user_id", "corp_id"} <= set(
        creds
    )
    assert creds["base_url"].startswith("http://127.0.0.1:")
    env = (folder / "fx.env").read_text(encoding="utf-8")
    for name in (
        "FXIAOKE_BASE_URL",
        "FXIAOKE_APP_ID",
        "FXIAOKE_APP_SECRET",
        "FXIAOKE_PERMANENT_CODE",
        "FXIAOKE_OPEN_USER_ID",
        "FXIAOKE_CORP_ID",
    ):
        assert f"export {name}=" in env


@pytest.mark.parametrize("mode", ["body", "header"])
def test_thin_client_pages_updates_and_reads_back(
    served: tuple[dict[str, Any], Path], mode: str
) -> None:
    client = _client(served[0], mode)
    orders = [
        {"fieldName": "last_modified_time", "isAsc": True},
        {"fieldName": "_id", "isAsc": True},
    ]
    everyone = list(client.query_all("AccountObj", orders=orders))
    assert len(everyone) == ACCOUNTS and len({r["_id"] for r in everyone}) == ACCOUNTS
    grade = client.field_by_label("AccountObj", "风险等级")
    limit = client.field_by_label("AccountObj", "信用额度(元)")
    flags = client.field_by_label("AccountObj", "预警标记")
    code = {o["label"]: o["value"] for o in grade["options"]}
    flag = {o["label"]: o["value"] for o in flags["options"]}
    target = everyone[17 if mode == "body" else 42]
    values = {
        grade["api_name"]: code["B"],
        limit["api_name"]: 120_000.5,
        flags["api_name"]: [flag["逾期"]],
    }
    client.update("AccountObj", target["_id"], values)
    back = client.get("AccountObj", target["_id"])
    assert {k: back[k] for k in values} == values
    assert int(back["version"]) == int(target["version"]) + 1
    assert back["last_modified_time"] > target["last_modified_time"]
    since = [
        {
            "field_name": "last_modified_time",
            "operator": "GT",
            "field_values": [target["last_modified_time"]],
        },
        {"field_name": grade["api_name"], "operator": "EQ", "field_values": [code["B"]]},
    ]
    changed = list(client.query_all("AccountObj", filters=since))
    assert target["_id"] in {r["_id"] for r in changed}


def test_stats_count_the_served_calls(served: tuple[dict[str, Any], Path]) -> None:
    creds, folder = served
    client = _client(creds, "body")
    client.query_page("AccountObj", 0)
    record = client.query_page("AccountObj", 100)["dataList"][0]
    client.update("AccountObj", record["_id"], {"remark": "已复核"})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "crmqual.sandbox",
            "stats",
            "--crm",
            "fxiaoke",
            "--db",
            str(folder / "fx.db"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)["calls"]
    assert calls.get("POST /cgi/crm/v2/data/query", 0) >= 2
    assert calls.get("POST /cgi/crm/v2/data/update", 0) >= 1
    assert calls.get("POST /cgi/corpAccessToken/get/V2", 0) >= 1
