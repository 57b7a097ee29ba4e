"""Fixtures: every state store test runs on a SQLite file and on PostgreSQL (see stateutil)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from stateutil import BACKENDS, T0, FakeClock, new_run, state_url_for

from crmqual.state import StateStore


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def state_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with state_url_for(backend, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def open_store(state_url: str) -> Iterator[Callable[..., StateStore]]:
    """Opens more stores on the same database (as other processes would); closes them all."""
    opened: list[StateStore] = []

    def _open(clock: Callable[[], datetime] | None = None) -> StateStore:
        store = StateStore(state_url, clock=clock)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[..., StateStore], clock: FakeClock) -> StateStore:
    return open_store(clock)


@pytest.fixture
def run_id(store: StateStore) -> int:
    return new_run(store)
