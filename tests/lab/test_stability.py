"""Population stability (crmqual.stability): the index itself, and a sync on a shifted
portfolio reporting it in its summary and in `crmqual runs`."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from portfolio import companies

from crmqual.cli.main import main
from crmqual.stability import compare, level, psi

BINS = st.lists(st.integers(0, 1000), min_size=2, max_size=12)


def test_psi_of_known_populations() -> None:
    assert psi([50, 50], [50, 50]) == 0.0
    expected = (0.9 - 0.5) * math.log(0.9 / 0.5) + (0.1 - 0.5) * math.log(0.1 / 0.5)
    assert psi([50, 50], [90, 10]) == pytest.approx(expected)
    assert psi([500, 500], [90, 10]) == pytest.approx(expected)  # shares, not counts
    assert psi([0, 10], [10, 0]) == pytest.approx(2 * (1 - 1e-4) * math.log(1 / 1e-4))
    assert psi([0, 0], [1, 1]) is None
    with pytest.raises(ValueError):
        psi([1, 2], [1, 2, 3])
    assert [level(x) for x in (None, 0.0, 0.0999, 0.1, 0.2499, 0.25, 3)] == [
        "stable",
        "stable",
        "stable",
        "watch",
        "watch",
        "act",
        "act",
    ]


@given(BINS, st.data())
def test_psi_is_symmetric_non_negative_and_zero_for_the_same_shares(
    expected: list[int], data: st.DataObject
) -> None:
    actual = data.draw(
        st.lists(st.integers(0, 1000), min_size=len(expected), max_size=len(expected))
    )
    forward, backward = psi(expected, actual), psi(actual, expected)
    if forward is None:
        assert backward is None
        return
    assert forward >= 0 and forward == pytest.approx(backward)
    assert psi(expected, [3 * x for x in expected]) == pytest.approx(0.0, abs=1e-12)


def test_compare_reports_only_what_is_binned_alike() -> None:
    before = {
        "edges": {"score": [50], "debt_ratio": [0.5]},
        "counts": {"score": [50, 50, 0], "debt_ratio": [90, 10, 0]},
    }
    after = {
        "edges": {"score": [50], "debt_ratio": [0.7]},
        "counts": {"score": [10, 90, 0], "debt_ratio": [10, 90, 0]},
    }
    found = compare(before, after)
    assert set(found["psi"]) == {"score"} and found["act"] == ["score"] and found["level"] == "act"


def write_accounts(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_sync_on_a_shifted_portfolio_reports_its_population_stability(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [{"modified_time": "2026-01-10T00:00:00+00:00", **c} for c in companies(9, 300)]
    write_accounts(tmp_path / "accounts.csv", rows)
    assert invoke("init", "--crm", "file")[0] == 0
    assert invoke("provision")[0] == 0
    code, out, _ = invoke("sync", "--as-of", "2026-01-31", "--json")
    assert code == 0 and json.loads(out)["stability"] is None  # the first snapshot
    code, out, _ = invoke("sync", "--as-of", "2026-01-31", "--json")
    second = json.loads(out)["stability"]
    assert second["level"] == "stable" and second["compared_with_run"] == 1
    assert set(second["psi"].values()) == {0.0} and "score" in second["psi"]

    # Half the portfolio takes on debt and pays late: leverage, lateness and the score shift.
    # Modified after the last run's signpost (the CRM's clock): a nightly incremental run
    # reads only these, and the stability compares whole portfolios all the same.
    now = datetime.now(UTC).isoformat()
    shifted = []
    for i, row in enumerate(rows):
        if i % 2 == 0:
            liabilities = float(row["total_assets"]) * 0.95  # type: ignore[arg-type]
            row = row | {
                "total_liabilities": round(liabilities),
                "equity": round(float(row["total_assets"]) - liabilities),  # type: ignore[arg-type]
                "overdue_max_days": 120,
                "overdue_count": 6,
                "modified_time": now,
            }
        shifted.append(row)
    write_accounts(tmp_path / "accounts.csv", shifted)
    code, out, _ = invoke("sync", "--as-of", "2026-02-28")
    assert code == 0 and "read 150 · assessed 150" in out
    line = next(x for x in out.splitlines() if "population stability" in x)
    assert "(PSI against run 2)" in line and "act on" in line
    assert "debt_ratio" in line and "overdue_max_days" in line and "score" in line
    code, out, _ = invoke("runs", "--json")
    newest = json.loads(out.splitlines()[0])
    assert newest["stability"]["level"] == "act"
    assert newest["stability"]["psi"]["debt_ratio"] >= 0.25
    code, out, _ = invoke("runs")
    assert "PSI: act on" in out.splitlines()[1]
    code, out, _ = invoke("runs", "--lang", "zh")
    assert "PSI: 需处理" in out.splitlines()[1]
