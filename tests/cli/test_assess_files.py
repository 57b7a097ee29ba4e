"""`crmqual assess` on files as people save them (issue 13, sections 1 and 2): no row is
lost without a line saying so, values are read as typed, and encodings are detected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main

HEADER = "id,name,currency,total_assets,total_liabilities,equity,revenue,registered_capital"


def row(i: int, name: str | None = None, capital: str = "1000000") -> str:
    return f"ACC-{i:03d},{name or f'Company {i}'},CNY,8000000,3000000,5000000,9000000,{capital}"


def invoke(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def assess_json(path: Path, *extra: str) -> tuple[int, list[dict[str, Any]], list[str], dict]:
    """(exit code, graded objects on stdout, stderr lines but the summary, the summary)."""
    code, out, err = invoke("assess", str(path), "--json", "--as-of", "2026-06-30", *extra)
    graded = [json.loads(line) for line in out.splitlines()]
    lines = err.splitlines()
    summary = json.loads(lines[-1])["summary"]
    return code, graded, lines[:-1], summary


def write(tmp_path: Path, lines: list[str], encoding: str = "utf-8", name: str = "a.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_a_stray_quote_loses_no_row(tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 13)]
    rows[3] = row(4, name='"Acme Big Co')  # the quote opens a value and never closes it
    path = write(tmp_path, [HEADER, *rows])
    code, graded, problems, summary = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == [f"ACC-{i:03d}" for i in range(1, 13) if i != 4]
    assert len(problems) == 1
    assert problems[0].startswith("error: row 5 (id ACC-004) at line 5: ")
    assert "quote" in problems[0]
    assert summary == {"assessed": 11, "failed": 1, "unreadable": {}}


def test_a_stray_quote_closed_by_a_later_quoted_value(tmp_path: Path) -> None:
    rows = [row(i) for i in range(1, 7)]
    rows[1] = row(2, name='"Acme')
    rows[4] = row(5, name='"Beijing, Ltd"')  # a real quoted value further down
    path = write(tmp_path, [HEADER, *rows])
    code, graded, problems, _ = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-003", "ACC-004", "ACC-005", "ACC-006"]
    assert len(problems) == 1 and "row 3 (id ACC-002) at line 3" in problems[0]


def test_a_real_multi_line_value_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1, name='"Acme\nTrading"'), row(2)])
    code, graded, problems, _ = assess_json(path)
    assert (code, problems) == (0, [])
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-002"]


def test_short_and_long_rows_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1), "ACC-002,Short Co,CNY", row(3) + ",extra", row(4)])
    code, graded, problems, summary = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-004"]
    assert "row 3 (id ACC-002) at line 3: (row): 3 cells where the header has 8" in problems[0]
    assert "row 4 (id ACC-003) at line 4: (row): 9 cells where the header has 8" in problems[1]
    assert (summary["assessed"], summary["failed"]) == (2, 2)


def test_a_repeated_id_is_assessed_once_first_wins(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1), row(2, name="First"), row(3), row(2, name="Second")])
    code, graded, problems, _ = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-002", "ACC-003"]
    assert problems == [
        "error: row 5 (id ACC-002) at line 5: (row): repeated id, first at row 3 (line 3),"
        " which is assessed"
    ]
    code, out, _ = invoke("assess", str(path), "--explain", "ACC-002")
    assert code == 1 and "First" in out and "Second" not in out


def test_a_repeated_id_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "J1"}\n{"id": "J2"}\n{"id": "J1"}\n', encoding="utf-8")
    code, graded, problems, _ = assess_json(path)
    assert code == 1 and [g["id"] for g in graded] == ["J1", "J2"]
    assert "row 3 (id J1) at line 3" in problems[0] and "repeated id" in problems[0]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_chinese_files_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    lines = [
        HEADER,
        row(1, name="上海远航贸易有限公司"),
        row(2, name="北京华信科技", capital="2409.5万"),
    ]
    path = write(tmp_path, lines, encoding)
    code, graded, problems, _ = assess_json(path)
    assert (code, problems) == (0, [])
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-002"]
    code, out, _ = invoke("assess", str(path), "--explain", "ACC-001")
    assert code == 0 and "上海远航贸易有限公司" in out


def test_a_bom_before_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1)], "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    code, graded, _, _ = assess_json(path)
    assert code == 0 and graded[0]["id"] == "ACC-001"


def test_the_encoding_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1, name="华信")], "gb18030")
    code, _, _, _ = assess_json(path, "--encoding", "gb18030")
    assert code == 0
    code, _out, err = invoke("assess", str(path), "--encoding", "klingon")
    assert code == 2 and "unknown encoding" in err and "Traceback" not in err


def test_an_undecodable_byte_is_reported_by_line(tmp_path: Path) -> None:
    lines = [HEADER, row(1, name="上海远航"), row(2, name="北京华信"), row(3, name="广州"), row(4)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    data = data.replace("广州".encode(), b"\xff\xfe broken")
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    code, graded, problems, _ = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == ["ACC-001", "ACC-002", "ACC-004"]
    assert len(problems) == 1
    assert "row 4 (id ACC-003) at line 4" in problems[0] and "byte 0xFF" in problems[0]


def test_stdin_is_read_the_same_way() -> None:
    data = ("\n".join([HEADER, row(1, name="华信"), row(1)]) + "\n").encode("gbk")
    code, out, err = invoke("assess", "-", "--json", stdin=data)
    assert code == 1 and len(out.splitlines()) == 1 and "repeated id" in err


def test_an_unreadable_optional_value_is_graded_with_its_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path, [HEADER, row(1, capital="about two million"), row(2, capital='"3,389,000"')]
    )
    code, graded, problems, summary = assess_json(path)
    assert code == 0  # graded, nothing failed
    first = graded[0]
    assert "INCOMPLETE_DATA" in first["flags"]
    reason = next(r for r in first["reasons"] if r["code"] == "UNREADABLE_VALUE")
    assert "registered_capital" in reason["en"] and "about two million" in reason["en"]
    assert "registered_capital" in reason["zh"] and "about two million" in reason["zh"]
    assert "UNREADABLE_VALUE" not in [r["code"] for r in graded[1]["reasons"]]
    assert len(problems) == 1 and "row 2 (id ACC-001) at line 2" in problems[0]
    assert summary == {"assessed": 2, "failed": 0, "unreadable": {"registered_capital": 1}}


def test_an_unreadable_knock_out_input_fails_the_row(tmp_path: Path) -> None:
    path = write(
        tmp_path, ["id,business_status,sanctions_hit", "A,吊销,no", "B,存续,maybe", "C,存续,否"]
    )
    code, graded, problems, _ = assess_json(path)
    assert code == 1
    assert [g["id"] for g in graded] == ["C"]
    assert "row 2 (id A) at line 2: business_status: could not read '吊销'" in problems[0]
    assert "row 3 (id B) at line 3: sanctions_hit: could not read 'maybe'" in problems[1]


def test_a_locale_reads_ambiguous_separators(tmp_path: Path) -> None:
    path = write(tmp_path, ["id,currency,revenue", "A,EUR,1.234", 'B,EUR,"12,5"'])
    _, _, _, summary = assess_json(path)
    assert summary["unreadable"] == {"revenue": 1}  # 1.234 is ambiguous; 12,5 is not
    code, _, _, summary = assess_json(path, "--locale", "de")
    assert summary["unreadable"] == {} and code == 0
    code, _, err = invoke("assess", str(path), "--locale", "klingon")
    assert code == 2 and "--locale" in err


def test_table_mode_prints_counts_only_when_something_was_off(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, row(1)])
    code, _, err = invoke("assess", str(path))
    assert (code, err) == (0, "")
    path = write(tmp_path, [HEADER, row(1, capital="TBD"), "X,1"])
    code, _, err = invoke("assess", str(path))
    assert code == 1
    assert err.splitlines()[-1] == (
        "assessed 1 · failed 1 · unreadable values (assessed as missing): registered_capital 1"
    )
