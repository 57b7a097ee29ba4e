"""Loading seeded rows into the store, chunk by chunk, in worker processes when it pays.

Each dialect's seed splits its accounts into chunks (jobs) and makes a chunk's rows with a
module-level function (picklable, so a worker process can run it); this module runs the
jobs, in this process or in a pool, and bulk-inserts the rows in job order.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from crmqual.sandbox.store import SandboxStore

Row = tuple[int, str, str, str]
"""(id, created time, modified time, JSON data): one row of the records table."""

CHUNK = 5_000
"""Accounts a job makes."""

dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""A row's JSON data, as compact as the store keeps it."""


@dataclass(frozen=True)
class ChunkJob:
    """One chunk of the seed: everything a worker process needs to make its rows alone."""

    seed: int
    index: int
    first: int  # company number of the chunk's first account (0-based)
    count: int
    first_id: int
    instant: datetime
    missing_rate: float
    bad_rate: float


def check_shares(**shares: float) -> None:
    """A ValueError for the first share that lies outside [0, 1]."""
    for name, share in shares.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {share}")


def chunk_jobs(
    seed: int, accounts: int, first_id: int, instant: datetime, missing: float, bad: float
) -> list[ChunkJob]:
    """`accounts` split into jobs of `CHUNK`, their store ids from `first_id` on."""
    return [
        ChunkJob(
            seed, i, start, min(CHUNK, accounts - start), first_id + start, instant, missing, bad
        )
        for i, start in enumerate(range(0, accounts, CHUNK))
    ]


def created_and_modified(rng: random.Random, instant: datetime) -> tuple[datetime, datetime]:
    """When a seeded record was created (an hour to three years before `instant`) and last
    changed (between then and `instant`)."""
    created = instant - timedelta(seconds=rng.randint(3_600, 3 * 365 * 86_400))
    return created, created + (instant - created) * rng.random()


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
