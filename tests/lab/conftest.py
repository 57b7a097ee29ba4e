"""Fixtures of the policy lab's tests: the default and a stricter policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmqual.policy import default_policy_text

#: A stricter policy than the default: higher grade floors, smaller grade-B limits.
STRICT_CHANGES = (
    ("min_score: 71", "min_score: 80"),
    ("min_score: 51", "min_score: 62"),
    ("min_score: 30", "min_score: 40"),
    ("min_score: 21", "min_score: 30"),
    ("name: crmqual-default", "name: strict"),
    ("equity_share: 0.35, revenue_share: 0.05", "equity_share: 0.25, revenue_share: 0.04"),
)


def strict_policy_text() -> str:
    text = default_policy_text()
    for old, new in STRICT_CHANGES:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def strict_file(tmp_path: Path) -> Path:
    path = tmp_path / "strict.yaml"
    path.write_text(strict_policy_text(), encoding="utf-8")
    return path
