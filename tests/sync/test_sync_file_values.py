"""`crmqual sync` on the file adapter with files as people save them (issue 13): broken rows
are reported by row and line and fail the run, values are read as typed, and a value that
cannot be read is left missing, named in the account's reasons and counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.adapters.file import FileAdapter
from crmqual.cli.main import main

pytestmark = pytest.mark.slow


def cli(backend: FileBackend, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    return result.exit_code, result.stdout, result.stderr


def sync_json(backend: FileBackend, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli(backend, "sync", "--json", *args)
    assert out.strip(), err
    return code, json.loads(out.strip().splitlines()[-1]), err


def outputs(backend: FileBackend) -> dict[str, dict[str, Any]]:
    return FileAdapter(backend.connection).outputs()


@pytest.fixture
def backend(tmp_path: Path) -> FileBackend:
    b = FileBackend(tmp_path)
    b.load([company(i) for i in range(12)])
    assert cli(b, "provision")[0] == 0
    return b


def test_an_unreadable_value_is_graded_named_and_counted(backend: FileBackend) -> None:
    backend.hand_edit("A003", {"registered_capital": "about two million"})
    backend.hand_edit("A004", {"registered_capital": "2409.5万", "total_assets": "¥8,000,000"})
    code, summary, err = sync_json(backend)
    assert code == 0, err
    assert (summary["read"], summary["written"], summary["failed"]) == (12, 12, 0)
    assert summary["unreadable"] == {"registered_capital": 1}
    assert err == ""
    written = outputs(backend)
    assert "INCOMPLETE_DATA" in written["A003"]["crmqual_flags"]
    reasons = written["A003"]["crmqual_reasons"]
    assert "UNREADABLE_VALUE: registered_capital: could not read “about two million”" in reasons
    assert "registered_capital：无法识别“about two million”" in reasons
    assert "UNREADABLE_VALUE" not in written["A004"]["crmqual_reasons"]
    code, out, _ = cli(backend, "sync", "--full")
    assert code == 0 and "could not be read (assessed as missing): registered_capital 1" in out


def test_an_unreadable_knock_out_input_fails_the_record_once(backend: FileBackend) -> None:
    backend.hand_edit("A005", {"business_status": "吊销"})
    code, out, err = cli(backend, "sync", "--quiet")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error: record A005: business_status (business_status): could not read '吊销':"
        " not a business status (active, suspended, deregistered, liquidation);"
        " map it in the mapping"
    ]


def test_broken_rows_of_the_file_are_reported_by_row_and_line(backend: FileBackend) -> None:
    lines = backend.input.read_text("utf-8").splitlines()
    header = lines[0].split(",")
    broken = lines[4].split(",")  # A003
    broken[header.index("name")] = '"Company 3'  # a stray quote
    lines[4] = ",".join(broken)
    lines[7] = lines[7] + ",surplus"  # A006: a cell too many
    lines.append(lines[2])  # A001 again
    backend.input.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, summary, err = sync_json(backend)
    assert code == 1
    assert (summary["read"], summary["written"], summary["failed"]) == (10, 10, 3)
    reasons = sorted(f["reason"] for f in summary["failures"])
    assert reasons[0].startswith("accounts.csv row 14 (line 14): repeated id, first at row 3")
    assert reasons[1].startswith("accounts.csv row 5 (line 5): a quote")
    assert reasons[2].startswith("accounts.csv row 8 (line 8): 25 cells where the header has 24")
    assert sorted(outputs(backend)) == [f"A{i:03d}" for i in range(12) if i not in (3, 6)]
    assert len(err.splitlines()) == 3  # each printed once


def test_a_gbk_input_with_chinese_values(tmp_path: Path) -> None:
    backend = FileBackend(tmp_path)
    backend.load(
        [
            company(0, name="上海远航贸易有限公司", registered_capital="2409.5万"),
            company(
                1, name="北京华信科技", founding_date="2012年3月5日", revenue="１２，０００，０００"
            ),
        ]
    )
    text = backend.input.read_text("utf-8")
    backend.input.write_bytes(text.encode("gbk"))
    assert cli(backend, "provision")[0] == 0
    code, summary, err = sync_json(backend)
    assert code == 0, err
    assert (summary["written"], summary["unreadable"]) == (2, {})
    config = yaml.safe_load(backend.config.read_text("utf-8"))
    config["connection"]["encoding"] = "utf-8"  # a wrong encoding: each line says so
    backend.config.write_text(yaml.safe_dump(config), encoding="utf-8")
    code, summary, err = sync_json(backend, "--full")
    assert code == 1
    assert summary["failed"] == 2
    assert all("is not utf-8 text" in f["reason"] for f in summary["failures"])
