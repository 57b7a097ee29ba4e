"""Loading seeded rows into the store, chunk by chunk, in worker processes when it pays.

Each dialect's seed splits its accounts into chunks (jobs) and makes a chunk's rows with a
module-level function (picklable, so a worker process can run it); this module runs the
jobs, in this process or in a pool, and bulk-inserts the rows in job order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from crmqual.sandbox.store import SandboxStore

Row = tuple[int, str, str, str]
"""(id, created time, modified time, JSON data): one row of the records table."""

Job = TypeVar("Job")


def load_chunks(
    store: SandboxStore,
    module: str,
    jobs: Sequence[Job],
    make_rows: Callable[[Job], list[Row]],
    total: int,
    *,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Insert the rows ``make_rows`` gives for each job. ``workers`` processes (default: one
    fewer than the CPUs, none for two jobs or fewer) make them; ``on_progress(done, total)``
    hears each chunk inserted."""
    if workers is None:
        workers = max(0, (os.cpu_count() or 1) - 1) if len(jobs) > 2 else 0
    done = 0

    def insert(rows: list[Row]) -> None:
        nonlocal done
        store.insert_rows(module, rows)
        done += len(rows)
        if on_progress is not None:
            on_progress(done, total)

    with store.bulk_load():
        if workers == 0:
            for job in jobs:
                insert(make_rows(job))
        else:
            # spawn: a fork would copy the store's open SQLite connection into the workers
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            with pool:
                for rows in pool.map(make_rows, jobs):
                    insert(rows)
