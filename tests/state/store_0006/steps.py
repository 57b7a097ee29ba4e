"""The steps the upgrade test repeats on an upgraded store, and the figures it compares:
what crmqual of schema 0006 answered to them is ``expected.json`` (``make.py``)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from crmqual.cli.main import main

AS_OF = "2025-12-31"
SYNC_AS_OF = "2026-01-15"
TARGET = "file-crm"
#: Accounts whose inputs a person edits before the sync (the first ones in the file).
EDITED = 10
#: The account whose history is compared (it has rows of the old schema only).
HISTORY_OF = 200


def file_config(state_url: str = "sqlite:///state.sqlite") -> str:
    return (
        f"crm: file\ntarget: {TARGET}\nstate: {state_url}\n"
        "connection: {input: accounts.csv, output: outputs.csv}\n"
    )


def run(folder: Path, *args: str) -> Any:
    """`crmqual ARGS --json` on the folder's crmqual.yaml: its JSON (lines: a list)."""
    result = CliRunner().invoke(main, [*args, "--json", "-c", str(folder / "crmqual.yaml")])
    assert result.exit_code in (0, 1), (args, result.exit_code, result.stderr, result.exception)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if len(lines) == 1:
        return json.loads(lines[0])
    return [json.loads(line) for line in lines]


def outputs_table(folder: Path) -> list[dict[str, str]]:
    with (folder / "outputs.csv").open(encoding="utf-8", newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: r["id"])


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_accounts(folder: Path, rows: list[dict[str, Any]]) -> None:
    with (folder / "accounts.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def edit_inputs(folder: Path) -> list[str]:
    """A person raises the longest overdue of the first accounts (their modified time moves
    to now, past every run's watermark)."""
    with (folder / "accounts.csv").open(encoding="utf-8", newline="") as f:
        rows: list[dict[str, Any]] = list(csv.DictReader(f))
    for row in rows[:EDITED]:
        row["overdue_max_days"] = "200"
        row["modified_time"] = now_iso()
    write_accounts(folder, rows)
    return [r["id"] for r in rows[:EDITED]]


def report_figures(folder: Path) -> dict[str, Any]:
    figures = run(folder, "report", "--out", str(folder / "report.html"))
    return {k: v for k, v in figures.items() if k not in ("meta", "runs", "html")}


def backtest_figures(folder: Path) -> dict[str, Any]:
    found = run(folder, "policy", "backtest", "default", "--as-of", AS_OF, "--window", "6m")
    return {k: v for k, v in found.items() if k != "backtest_id"}


def history_kinds(folder: Path, account_id: str) -> list[list[Any]]:
    lines = run(folder, "history", account_id)
    lines = lines if isinstance(lines, list) else [lines]
    return [
        [h.get("kind"), h.get("status"), (h.get("outputs") or {}).get("grade")]
        for h in lines
        if "assessed_at" in h
    ]


def run_steps(folder: Path, state_url: str) -> dict[str, Any]:
    """The steps, on the folder's CRM files and the store at ``state_url``; their figures."""
    (folder / "crmqual.yaml").write_text(file_config(state_url), encoding="utf-8")
    found: dict[str, Any] = {}
    found["report"] = report_figures(folder)
    found["backtest"] = backtest_figures(folder)
    found["diff"] = run(folder, "policy", "diff", "default", "default", "--as-of", AS_OF)
    ids = sorted(r["id"] for r in outputs_table(folder))
    old_history = ids[HISTORY_OF]
    found["history_old_rows"] = run(folder, "history", old_history)
    edited = edit_inputs(folder)
    summary = run(folder, "sync", "--as-of", SYNC_AS_OF)
    keys = ("status", "mode", "read", "assessed", "changed", "written", "failed", "overridden")
    found["sync"] = {k: summary[k] for k in (*keys, "warnings", "events")}
    found["outputs_after_sync"] = outputs_table(folder)
    found["history_edited"] = history_kinds(folder, edited[0])
    found["report_after_sync"] = report_figures(folder)
    reverted = run(folder, "revert", str(summary["run_id"]))
    found["revert"] = {k: v for k, v in reverted.items() if k not in ("run_id", "duration_s")}
    found["outputs_after_revert"] = outputs_table(folder)
    found["history_reverted"] = history_kinds(folder, edited[0])
    found["prune"] = run(folder, "prune", "--older-than", "0")
    found["backtest_after_prune"] = backtest_figures(folder)
    found["report_after_prune"] = report_figures(folder)
    return found
