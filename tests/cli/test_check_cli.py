"""`crmqual check` on the file adapter, and the CLI's log handler masking secrets.

The Zoho side of `crmqual check` runs end to end in tests/zoho/test_zoho_e2e.py.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.mapping import load_mapping

MAPPING, _ = load_mapping(None, "file")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A file-adapter crmqual.yaml over a CSV with every column the shipped mapping reads."""
    columns = [f for f in MAPPING.read_fields if f not in MAPPING.output_fields]
    with (tmp_path / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerow(["A001" if c == "id" else "" for c in columns])
    path = tmp_path / "crmqual.yaml"
    settings = {
        "crm": "file",
        "connection": {"input": "accounts.csv", "output": "out/outputs.csv"},
        "state": "sqlite:///state.sqlite",
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    (tmp_path / "out").mkdir()
    return path


def check(config: Path) -> tuple[int, dict[str, str], str]:
    result = CliRunner().invoke(main, ["check", "--json", "-c", str(config)])
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    items = {i["item"]: f"{i['status']} {i['detail']}".strip() for i in report["items"]}
    return result.exit_code, items, result.stderr


def test_outputs_to_create_until_provisioned(config: Path) -> None:
    """Output fields provision will create are not a failure (issue 14): check passes and
    names provision as the next step."""
    code, items, _ = check(config)
    assert code == 0
    assert items["connection"].startswith("ok")
    assert items["output location"].startswith("ok")
    assert items["mapping fields"].startswith("ok")
    assert items["output field crmqual_grade"] == "to create by `crmqual provision`"
    result = CliRunner().invoke(main, ["check", "-c", str(config)])
    assert result.stdout.splitlines()[-1] == (
        "next: `crmqual provision --dry-run`, then `crmqual provision`"
    )
    assert CliRunner().invoke(main, ["provision", "-c", str(config)]).exit_code == 0
    code, items, _ = check(config)
    assert code == 0, items
    assert all(status.startswith("ok") for status in items.values())


def test_text_report_lists_problems_and_every_item_with_verbose(config: Path) -> None:
    (config.parent / "out").rmdir()
    result = CliRunner().invoke(main, ["check", "-c", str(config)])
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("crmqual check: file (target file), mapping mappings/file.yaml")
    assert any(line.split()[:3] == ["failed", "output", "location"] for line in lines)
    assert not any(line.split()[:1] == ["ok"] for line in lines)  # problems only
    assert lines[-2].endswith("the mapping's fields are not all there")
    assert lines[-1] == "next: fix what failed above, then run `crmqual check` again"
    verbose = CliRunner().invoke(main, ["check", "-v", "-c", str(config)]).stdout.splitlines()
    assert any(line.split()[:3] == ["ok", "mapping", "fields"] for line in verbose)
    assert any(line.split()[:4] == ["to", "create", "output", "field"] for line in verbose)


def test_a_column_the_mapping_needs_is_missing(config: Path) -> None:
    source = config.parent / "accounts.csv"
    source.write_text(source.read_text("utf-8").replace("modified_time", "changed"), "utf-8")
    CliRunner().invoke(main, ["provision", "-c", str(config)])
    code, items, _ = check(config)
    assert code == 2
    assert items["field modified_field"] == "failed no field 'modified_time' in accounts"
    assert "mapping fields" not in items


def test_an_unreadable_input_exits_3(config: Path) -> None:
    (config.parent / "accounts.csv").unlink()
    code, items, _ = check(config)
    assert code == 3
    assert items["connection"] == f"failed {config.parent / 'accounts.csv'}: input file not found"
    assert items["mapping fields"].startswith("unverified")


def test_an_output_folder_that_does_not_exist_fails(config: Path) -> None:
    (config.parent / "out").rmdir()
    code, items, _ = check(config)
    assert code == 2  # the outputs cannot be there either; 2 is the more severe
    assert items["output location"] == f"failed {config.parent / 'out'} is not a writable folder"


def test_the_cli_log_handler_masks_registered_secrets() -> None:
    """Whatever logs a secret, the CLI's stderr handler prints it masked."""
    program = "\n".join(
        [
            "import logging",
            "from crmqual.cli.main import main",
            "from crmqual.http import SECRETS",
            "SECRETS.register('s3cret-token-value')",
            "@main.command('leak')",
            "def leak() -> None:",
            "    logging.getLogger('somewhere').warning('token=%s', 's3cret-token-value')",
            "main(['leak'])",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING somewhere: token=****" in done.stderr
    assert "s3cret-token-value" not in done.stderr
