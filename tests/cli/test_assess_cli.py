"""`crmqual assess` and `crmqual policy` as an admin runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.outputs import CSV_COLUMNS, OUTPUT_NAMES

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "accounts.csv"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_sample_is_assessed_as_a_table() -> None:
    code, out, err = invoke("assess", str(SAMPLE), "--as-of", "2026-06-30")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["id", "name", "status", "grade", "score"]
    assert len(lines) == 1 + 12
    assert any("ACC-008" in line and "rejected" in line for line in lines)


def test_json_lines_carry_every_output_and_the_input_id() -> None:
    code, out, _ = invoke("assess", str(SAMPLE), "--json", "--as-of", "2026-06-30")
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["id"] for o in objects][:2] == ["ACC-001", "ACC-002"]
    for o in objects:
        assert set(OUTPUT_NAMES) <= set(o)
        assert o["assessed_at"] == "2026-06-30T00:00:00+00:00"
        assert all({"code", "en", "zh"} == set(r) for r in o["reasons"])


def test_csv_has_the_documented_columns() -> None:
    code, out, _ = invoke("assess", str(SAMPLE), "--csv", "--as-of", "2026-06-30")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["id", *CSV_COLUMNS]
    rejected = next(r for r in rows if r["id"] == "ACC-008")
    assert rejected["credit_limit"] == "0"
    assert rejected["reasons"].split(";")[0] == "KO_DEREGISTERED"


def test_a_bad_row_is_reported_and_the_rest_assessed(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    bad = text[3].split(",")
    bad[header.index("total_assets")] = "-5"
    bad[header.index("overdue_count")] = "many"
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join([text[0], text[1], ",".join(bad), text[2]]) + "\n", encoding="utf-8")
    code, out, err = invoke("assess", str(path), "--json", "--as-of", "2026-06-30")
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["ACC-001", "ACC-002"]
    assert "row 3 (id ACC-003)" in err
    assert "total_assets" in err and "overdue_count" in err


def test_jsonl_input_and_a_broken_line(tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_text(
        '{"id": "J1", "currency": "USD", "total_assets": 100}\nnot json\n{"id": "J2"}\n',
        encoding="utf-8",
    )
    code, out, err = invoke("assess", str(path), "--json")
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["J1", "J2"]
    assert "row 2" in err and "not JSON" in err


def test_unknown_columns_are_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,total_asets\nA,5\n", encoding="utf-8")
    code, _, err = invoke("assess", str(path))
    assert code == 0
    assert "unknown column 'total_asets'" in err


def test_explain_shows_the_reasoning_in_either_language() -> None:
    code, out, _ = invoke("assess", str(SAMPLE), "--explain", "ACC-004", "--as-of", "2026-06-30")
    assert code == 0
    for part in ("Scorecard", "debt_ratio", "Credit limit", "Reasons", "Grade   E"):
        assert part in out
    code, out, _ = invoke(
        "assess", str(SAMPLE), "--explain", "ACC-004", "--lang", "zh", "--as-of", "2026-06-30"
    )
    assert code == 0 and "风险很高" in out


def test_explain_of_an_unknown_id_fails() -> None:
    code, _, err = invoke("assess", str(SAMPLE), "--explain", "NOPE")
    assert code == 2 and "NOPE" in err


@pytest.mark.parametrize("content", ["", "name\nx\n"])
def test_unusable_input_exits_2_before_any_output(tmp_path: Path, content: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(content, encoding="utf-8")
    code, out, err = invoke("assess", str(path))
    assert code == 2 and out == ""
    assert str(path) in err


def test_missing_input_exits_2(tmp_path: Path) -> None:
    code, out, err = invoke("assess", str(tmp_path / "absent.csv"))
    assert (code, out) == (2, "")
    assert "cannot read" in err


def test_bad_policy_exits_2_listing_every_problem(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: broken\ngrades: []\n", encoding="utf-8")
    code, out, err = invoke("assess", str(SAMPLE), "--policy", str(policy))
    assert (code, out) == (2, "")
    assert f"{policy}: admission: Field required" in err
    assert f"{policy}:2: grades: must list A, B, C, D and E" in err
    code, _, err = invoke("policy", "check", str(policy))
    assert code == 2 and "problem(s)" in err


def test_policy_show_round_trips_through_check(tmp_path: Path) -> None:
    code, out, _ = invoke("policy", "show")
    assert code == 0
    path = tmp_path / "mine.yaml"
    path.write_text(out, encoding="utf-8")
    code, out, _ = invoke("policy", "check", str(path))
    assert code == 0 and "valid, version crmqual-default@" in out


def test_bad_as_of_is_a_usage_error() -> None:
    code, _, err = invoke("assess", str(SAMPLE), "--as-of", "yesterday")
    assert code == 2 and "--as-of" in err


def test_negative_values_are_named_negative_in_both_languages() -> None:
    args = ("assess", str(SAMPLE), "--explain", "ACC-004", "--as-of", "2026-06-30")
    code, out, _ = invoke(*args)
    assert code == 0
    assert "Net profit margin is negative (-11.6%)." in out
    assert "Cash flow is negative against the debt (-11%)." in out
    assert "Low or negative" not in out
    code, out, _ = invoke(*args, "--lang", "zh")
    assert code == 0
    assert "净利润率为负（-11.6%）。" in out and "现金流为负，无法覆盖债务（-11%）。" in out
    assert "偏低或为负" not in out


def test_explain_shows_ratios_as_percentages_and_zh_amounts_in_wan() -> None:
    args = ("assess", str(SAMPLE), "--explain", "ACC-010", "--as-of", "2026-06-30")
    _, out, _ = invoke(*args)
    assert "85.2 %" in out and "0.852" not in out and "4,500,000 CNY" in out
    _, out, _ = invoke(*args, "--lang", "zh")
    assert "85.2%" in out and "450.0 万元" in out
    for key in ("financial_health", "terms_days", "capacity_equity", "debt_ratio"):
        assert key not in out
