"""Policies that used to crash `crmqual` (issue 13, section 3): refused with exit 2, naming
the file and the key, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.policy import default_policy_text, load_policy

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "accounts.csv"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def policy_file(tmp_path: Path, old: str, new: str) -> Path:
    text = default_policy_text()
    assert old in text
    path = tmp_path / "p.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("USD: 2000000,", "USD: .nan,", "credit_limit.max_limit.USD"),
        ("USD: 2000000,", "USD: .inf,", "credit_limit.max_limit.USD"),
        ("rounding: 1000", "rounding: -.inf", "credit_limit.rounding"),
        (
            "bands: [0.3, 0.4,",
            "bands: [.nan, 0.4,",
            "scorecard.dimensions[1].indicators[1].bands[1]",
        ),
        (
            "{indicator: debt_ratio, gt: 0.7}",
            "{indicator: debt_ratio, gt: .inf}",
            "flags[1].when.gt",
        ),
    ],
)
def test_non_finite_numbers_are_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = policy_file(tmp_path, old, new)
    code, _, err = invoke("policy", "check", str(path))
    assert code == 2
    assert f"{path}:" in err and f": {key}: must be a finite number" in err
    code, out, err = invoke("assess", str(SAMPLE), "--policy", str(path))
    assert (code, out) == (2, "")
    assert f": {key}: " in err and "Traceback" not in err


def test_a_list_where_a_code_belongs_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = policy_file(tmp_path, "  - code: HIGH_LEVERAGE", "  - code: [HIGH_LEVERAGE]")
    code, _, err = invoke("policy", "check", str(path))
    assert code == 2
    line = default_policy_text().splitlines().index("  - code: HIGH_LEVERAGE") + 1
    assert f"{path}:{line}: flags[1].code: " in err
    assert "unhashable" not in err


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("grade_terms: {A: NET60,", "grade_terms: {A: [NET60],"),
        ("rejected_terms: PREPAY", "rejected_terms: [PREPAY]"),
        ("  - {code: NET60, days: 60,", "  - {code: [NET60], days: 60,"),
        ("conditional_grades: [D, E]", "conditional_grades: 5"),
        ("  - name: financial_health", "  - name: [financial_health]"),
    ],
)
def test_other_lists_where_values_belong(tmp_path: Path, old: str, new: str) -> None:
    path = policy_file(tmp_path, old, new)
    code, _, err = invoke("policy", "check", str(path))
    assert code == 2 and "problem(s)" in err


def test_a_policy_written_before_unreadable_reasons_still_loads(tmp_path: Path) -> None:
    text = default_policy_text()
    start = text.index("  # A value that cannot be read")
    end = text.index("  unreadable_flag: INCOMPLETE_DATA\n") + len(
        "  unreadable_flag: INCOMPLETE_DATA\n"
    )
    path = tmp_path / "old.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    policy = load_policy(path)
    assert policy.scorecard.unreadable_flag == "INCOMPLETE_DATA"
    assert "{field}" in policy.scorecard.unreadable_reason.en


def test_an_unknown_unreadable_flag_is_a_problem(tmp_path: Path) -> None:
    path = policy_file(tmp_path, "unreadable_flag: INCOMPLETE_DATA", "unreadable_flag: NOPE")
    code, _, err = invoke("policy", "check", str(path))
    assert code == 2 and "scorecard.unreadable_flag: no flag with code 'NOPE'" in err
