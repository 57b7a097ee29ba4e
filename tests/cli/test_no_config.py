"""A command run where there is no crmqual.yaml points to `crmqual init` and `-c` (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main


@pytest.mark.parametrize("command", [["sync"], ["check"], ["provision"], ["runs"]])
def test_without_a_config_the_admin_is_told_how_to_make_one(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMQUAL_CONFIG", raising=False)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2
    assert "crmqual.yaml: no such file: write one with `crmqual init --crm NAME`" in result.output
    assert "-c FILE or $CRMQUAL_CONFIG" in result.output
    assert "zoho" in result.output
