"""Fixtures for the Fxiaoke dialect's tests: a seeded tenant on a temporary file, its clock
frozen, served in-process on the legacy host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fx_client import FxClient
from sandbox_helpers import START

from crmqual.sandbox.fxiaoke.backend import FxiaokeCredentials, FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings


@pytest.fixture
def fxbox(tmp_path: Path) -> Iterator[FxiaokeSandbox]:
    """40 seeded accounts, the clock frozen at START, no rate limit (a frozen clock keeps
    every call in one second; the rate limit has its own test)."""
    box = FxiaokeSandbox(tmp_path / "fx.db", settings=FxiaokeSettings(rate_per_second=0))
    box.clock.freeze(START)
    seed_fxiaoke(box.store, 40, seed=3, workers=0)
    yield box
    box.close()


@pytest.fixture
def creds(fxbox: FxiaokeSandbox) -> Iterator[FxiaokeCredentials]:
    with fxbox.inprocess() as c:
        yield c


@pytest.fixture
def client(creds: FxiaokeCredentials) -> FxClient:
    return FxClient(
        creds.base_url, creds.app_id, creds.app_secret, creds.permanent_code, creds.open_user_id
    )
