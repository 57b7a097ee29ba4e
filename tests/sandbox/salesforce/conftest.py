"""Fixtures for the Salesforce dialect's tests: a seeded sandbox file with its clock frozen,
in-process on Salesforce's hosts, or served over HTTPS by a separate process."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.client import loopback_session
from crmqual.sandbox.salesforce.seed import seed_salesforce

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
ACCOUNTS = 450  # three REST pages of the minimum batch size (200)


def make_box(db: Path, accounts: int = ACCOUNTS, **kwargs: Any) -> SalesforceSandbox:
    box = SalesforceSandbox(db, **kwargs)
    box.clock.freeze(START)
    seed_salesforce(box.store, accounts, seed=3, workers=0)
    return box


@pytest.fixture
def box(tmp_path: Path) -> Iterator[SalesforceSandbox]:
    sandbox = make_box(tmp_path / "sf.db", accounts=30)
    yield sandbox
    sandbox.close()


@pytest.fixture
def creds(box: SalesforceSandbox) -> Iterator[SalesforceCredentials]:
    with box.inprocess() as c:
        yield c


@dataclass
class Served:
    """A sandbox served by `python -m crmqual.sandbox serve --crm salesforce` in its own
    process; `box` opens the same file (to move its clock, read its logs)."""

    box: SalesforceSandbox
    creds: SalesforceCredentials

    def session(self) -> requests.Session:
        return loopback_session(self.creds.login_url, self.creds.ca_file)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db = tmp_path_factory.mktemp("served") / "sf.db"
    box = make_box(db)
    with subprocess.Popen(box.serve_command(), stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            creds = SalesforceCredentials(**json.loads(line))
            yield Served(box, creds)
        finally:
            server.kill()
            server.wait(timeout=30)
    box.close()
