"""The calls a sync makes for every page and every write batch find their rows through an
index bounded by the accounts or the run at hand: a run queues all its writes as pending, so a
search of "this target's pending rows" alone would grow with the run and make it quadratic.

SQLite only: it plans by fixed rules here (no statistics), which is where the wrong index
was chosen; PostgreSQL plans by its statistics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from stateutil import assessment, new_run

from crmqual.state import StateStore

TARGET = "zoho:org1"
#: A search by target and status alone, e.g. "(target=? AND status=?)".
TARGET_AND_STATUS_ONLY = re.compile(r"\(target=\? AND status=\?\)")


@contextmanager
def plans_of(store: StateStore) -> Iterator[list[tuple[str, str]]]:
    """(statement, plan line) of every single SELECT/UPDATE/DELETE run inside the block."""
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            seen.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", before)
    lines: list[tuple[str, str]] = []
    try:
        yield lines
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", before)
    with store.engine.connect() as conn:
        for statement, params in seen:
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params):
                lines.append((statement, str(row[-1])))


@pytest.fixture
def busy_store(tmp_path: Path) -> Iterator[tuple[StateStore, int]]:
    """A store in the middle of a run: many pending rows queued, some written before."""
    with StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}") as store:
        earlier = new_run(store, TARGET)
        store.record_pending(earlier, TARGET, [assessment(f"w{i}") for i in range(50)])
        store.mark_written(TARGET, [f"w{i}" for i in range(50)], run_id=earlier)
        run = new_run(store, TARGET)
        store.record_pending(run, TARGET, [assessment(f"a{i}") for i in range(2000)])
        yield store, run


CALLS: dict[str, Callable[[StateStore, int], object]] = {
    "pending": lambda s, run: s.pending(TARGET, ["a1", "a2", "w3"], before_run=run),
    "last_written": lambda s, run: s.last_written(TARGET, ["a1", "w3"]),
    "mark_written": lambda s, run: s.mark_written(TARGET, ["a1", "a2"], run_id=run),
    "mark_abandoned": lambda s, run: s.mark_abandoned(TARGET, ["a3"]),
    "mark_failed": lambda s, run: s.mark_failed(TARGET, ["a4"], run_id=run),
    "pending_writes_of_run": lambda s, run: s.pending_writes_of_run(TARGET, run, after_id=10),
    "pending_rows_of_run": lambda s, run: s.pending_rows_of_run(TARGET, run, after_id=10),
    "mark_rows_written": lambda s, run: s.mark_rows_written(TARGET, [(5, "a4")], run_id=run),
    "resolve_failures": lambda s, run: s.resolve_failures(TARGET, ["a1"]),
    "prune": lambda s, run: s.prune(TARGET, datetime.now(UTC) + timedelta(days=1)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_per_page_and_per_batch_calls_never_scan_a_targets_pending_rows(
    busy_store: tuple[StateStore, int], name: str
) -> None:
    store, run = busy_store
    with plans_of(store) as lines:
        CALLS[name](store, run)
    assert lines, f"{name} ran no statement"
    for statement, plan in lines:
        assert not plan.startswith("SCAN"), f"{name}: {plan}\n{statement}"
        assert not TARGET_AND_STATUS_ONLY.search(plan), f"{name}: {plan}\n{statement}"
