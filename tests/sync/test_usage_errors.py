"""Every usage error exits 2 (issue 14): click's own and crmqual's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.cli.main import main


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> FileBackend:
    b = FileBackend(Path(tmp_path_factory.mktemp("usage")))
    b.load([company(i) for i in range(3)])
    for args in (["provision"], ["sync"], ["prune", "--older-than", "30"]):
        result = CliRunner().invoke(main, [*args, "-c", str(b.config)])
        assert result.exit_code == 0, result.stderr
    return b


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["history", "nope"], "no assessments of nope"),
        (["history"], "Missing argument"),
        (["revert", "999"], "no run 999"),
        (["revert", "999", "--dry-run"], "no run 999"),
        (["revert", "PRUNE"], "is a prune"),
        (["revert", "abc"], "not a valid integer"),
        (["prune"], "Missing option '--older-than'"),
        (["prune", "--older-than", "-1"], "-1 is not in the range"),
        (["prune", "--older-than", "soon"], "not a valid integer"),
        (["runs", "--limit", "0"], "0 is not in the range"),
        (["sync", "--as-of", "someday"], "not an ISO date"),
        (["sync", "--limit", "0"], "0 is not in the range"),
    ],
)
def test_usage_errors_exit_2(backend: FileBackend, args: list[str], says: str) -> None:
    if "PRUNE" in args:
        runs = CliRunner().invoke(main, ["runs", "--json", "-c", str(backend.config)])
        prune_id = json.loads(runs.stdout.splitlines()[0])["run_id"]  # the newest
        args = [str(prune_id) if a == "PRUNE" else a for a in args]
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert says in result.stderr
