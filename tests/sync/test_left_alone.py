"""Records left alone (changed by hand since crmqual wrote them, or overridden) are listed
with why in `crmqual sync --json` (first 200, with the count) and shown by `crmqual history`
(issue 13, section 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backends import FileBackend
from click.testing import CliRunner
from syncutil import MakeSync, company

from crmqual.adapters.memory import MemoryCrm
from crmqual.cli.main import main
from crmqual.state import StateStore
from crmqual.sync import LISTED, SyncRequest


def cli(backend: FileBackend, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    return result.exit_code, result.stdout, result.stderr


def sync_json(backend: FileBackend, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(backend, "sync", "--json", *args)
    assert out.strip(), err
    return code, json.loads(out.strip().splitlines()[-1])


def test_a_hand_edited_record_is_listed_in_the_json_summary_and_in_history(
    tmp_path: Path,
) -> None:
    backend = FileBackend(tmp_path)
    backend.load([company(i) for i in range(6)])
    assert cli(backend, "provision")[0] == 0
    code, first = sync_json(backend)
    assert (code, first["left_alone"], first["overridden"]) == (0, [], 0)
    backend.hand_edit("A002", {"crmqual_grade": "E"})
    code, second = sync_json(backend, "--full")
    assert code == 0
    assert second["overridden"] == 1
    assert second["left_alone"] == [
        {"id": "A002", "reason": "changed by hand since crmqual wrote it: crmqual_grade"}
    ]
    code, out, err = cli(backend, "history", "A002")
    assert code == 0, err
    assert f"run {second['run_id']} left it alone: changed by hand since crmqual wrote it" in out
    code, out, _ = cli(backend, "history", "A002", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[-1] == {
        "left_alone_at": rows[-1]["left_alone_at"],
        "status": "left_alone",
        "run_id": second["run_id"],
        "reason": "changed by hand since crmqual wrote it: crmqual_grade",
    }
    assert [r["status"] for r in rows[:-1]] == ["written"]


def test_overridden_records_listed_first_200_with_the_count(
    crm: MemoryCrm, make_sync: MakeSync, state: StateStore
) -> None:
    crm.load([company(100 + i, credit_override="yes") for i in range(LISTED + 5)])
    summary = make_sync().run(SyncRequest())
    assert summary.overridden == LISTED + 5
    listed = summary.as_json()["left_alone"]
    assert len(listed) == LISTED
    assert listed[0] == {"id": listed[0]["id"], "reason": "credit_override is set"}
    one = listed[0]["id"]
    [left] = state.left_alone(None, one)
    assert (left.run_id, left.reason) == (summary.run_id, "credit_override is set")
    assert len({r.record_id for r in _all_left(state, summary.run_id)}) == LISTED + 5


def _all_left(state: StateStore, run_id: int | None) -> list[Any]:
    from crmqual.state.schema import left_alone_table

    with state.engine.connect() as conn:
        return list(
            conn.execute(left_alone_table.select().where(left_alone_table.c.run_id == run_id))
        )
