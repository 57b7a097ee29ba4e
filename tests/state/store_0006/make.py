"""Makes the state store of schema 0006 that ``tests/state/test_upgrade_0006.py`` upgrades,
and what crmqual of that schema answered to the steps the test repeats (``expected.json``).

Run once, with crmqual at commit a783905 (schema 0006) installed, from this folder:
``python make.py``. It writes ``old/`` (a file CRM and its state store: a demo portfolio with
outcomes imported) and ``expected.json``. Not run by the tests.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

from click.testing import CliRunner

from crmqual.cli.main import main

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "sync"))
from steps import AS_OF, file_config, now_iso, run_steps, write_accounts  # noqa: E402
from syncutil import company  # noqa: E402


def cli(folder: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(folder / "crmqual.yaml")])
    return result.exit_code, result.stdout, result.stderr


def make_old(folder: Path) -> None:
    """A file CRM of 300 accounts, synced in full, then again after a person edited some
    inputs (so some accounts have two rows), with outcomes imported for the policy lab."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    rows = [
        company(i, period_end="2024-12-31", modified_time="2025-11-01T08:00:00+00:00")
        for i in range(300)
    ]
    write_accounts(folder, rows)
    (folder / "crmqual.yaml").write_text(file_config(), encoding="utf-8")
    for args in (("provision",), ("sync", "--as-of", "2025-11-30")):
        code, _, err = cli(folder, *args)
        assert code == 0, (args, err)
    for row in rows[::7]:
        row |= {"overdue_count": 5, "modified_time": now_iso()}
    write_accounts(folder, rows)
    code, _, err = cli(folder, "sync", "--as-of", AS_OF)
    assert code == 0, err
    rng = random.Random(7)
    lines = ["id,date,outcome"]
    for row in rows:
        if rng.random() < 0.15 + 0.5 * (row["overdue_count"] >= 3):
            lines.append(f"{row['id']},2026-03-{rng.randint(1, 28):02d},defaulted")
        elif rng.random() < 0.3:
            lines.append(f"{row['id']},2026-06-30,paid_as_agreed")
    (folder / "outcomes.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = cli(folder, "outcomes", "import", str(folder / "outcomes.csv"))
    assert code == 0, err


if __name__ == "__main__":
    old = HERE / "old"
    make_old(old)
    work = HERE / "work"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(old, work)
    expected = run_steps(work, f"sqlite:///{work / 'state.sqlite'}")
    shutil.rmtree(work)
    (HERE / "expected.json").write_text(
        json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8"
    )
    print(f"wrote {old} and expected.json")
