"""Fixtures of the policy lab's tests: the default and a stricter policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from portfolio import strict_policy_text


@pytest.fixture
def strict_file(tmp_path: Path) -> Path:
    path = tmp_path / "strict.yaml"
    path.write_text(strict_policy_text(), encoding="utf-8")
    return path
