"""Fixtures for the portfolio report: a state store on SQLite and on PostgreSQL holding a
portfolio written by three runs (see ``portfolio.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from report_portfolio import Book, write_book
from stateutil import BACKENDS, state_url_for

from crmqual.state import StateStore


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with state_url_for(str(request.param), tmp_path) as url:
        yield url


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    with StateStore(state_url) as store:
        yield store


@pytest.fixture
def book(store: StateStore) -> Book:
    return write_book(store)
