"""The adapter contract suite (crmqual.contract_suite) run against the Fxiaoke adapter, with
the sandbox's Fxiaoke dialect (in-process, on the legacy host) as the backend, in both token
modes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fx_backend import FxiaokeBackend

from crmqual import contract_suite
from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings


@pytest.fixture(params=["header", "body"])
def backend(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FxiaokeBackend]:
    box = FxiaokeSandbox(tmp_path / "contract.db", settings=FxiaokeSettings(rate_per_second=0))
    box.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    seed_fxiaoke(box.store, 0, seed=1)  # the tenant's custom input fields, no accounts
    with box.inprocess() as creds:
        yield FxiaokeBackend(box, creds, mode=request.param)
    box.close()


@pytest.mark.parametrize("check", contract_suite.CHECKS, ids=lambda c: c.__name__)
def test_contract(check: Callable[[FxiaokeBackend], None], backend: FxiaokeBackend) -> None:
    check(backend)
