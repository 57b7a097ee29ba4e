"""The adapter contract suite (adapters/contract.py) run against the Zoho adapter, with the
sandbox's Zoho dialect (in-process, on Zoho's real US hosts) as the backend (zoho_backend.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from zoho_backend import ZohoBackend

from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho

contract = pytest.importorskip("crmqual.contract_suite")


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[ZohoBackend]:
    box = ZohoSandbox(tmp_path / "contract.db")
    box.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    seed_zoho(box.store, 0, seed=1)  # the org's custom input fields, no accounts
    with box.inprocess() as creds:
        yield ZohoBackend(box, creds)
    box.close()


def _check_id(check: Callable[..., None]) -> str:
    return check.__name__


@pytest.mark.parametrize("check", contract.CHECKS, ids=_check_id)
def test_contract(check: Callable[[ZohoBackend], None], backend: ZohoBackend) -> None:
    check(backend)
