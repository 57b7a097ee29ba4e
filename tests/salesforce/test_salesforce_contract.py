"""The adapter contract suite (crmqual.contract_suite) run against the Salesforce adapter,
with the sandbox's Salesforce dialect as the backend (salesforce_backend.py): in-process on
Salesforce's own hosts, and served over HTTPS on loopback (logins at its origin, its CA)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from salesforce_backend import SalesforceBackend

from crmqual.contract_suite import CHECKS
from crmqual.sandbox.salesforce.backend import SalesforceSandbox
from crmqual.sandbox.salesforce.seed import seed_salesforce


@pytest.fixture(params=["inprocess", "served"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SalesforceBackend]:
    box = SalesforceSandbox(tmp_path / "contract.db")
    box.clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    seed_salesforce(box.store, 0, seed=1)  # the org's custom input fields, no accounts
    if request.param == "served":
        with box.served() as (_server, creds):
            yield SalesforceBackend(box, creds, served=True)
    else:
        with box.inprocess() as creds:
            yield SalesforceBackend(box, creds)
    box.close()


def _check_id(check: Callable[..., None]) -> str:
    return check.__name__


@pytest.mark.parametrize("check", CHECKS, ids=_check_id)
def test_contract(check: Callable[[SalesforceBackend], None], backend: SalesforceBackend) -> None:
    check(backend)
