"""Fixtures for the Salesforce dialect's tests: a seeded sandbox file with its clock frozen,
in-process on Salesforce's hosts, or served over HTTPS by a separate process."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sf_helpers import Served, make_box

from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox


@pytest.fixture
def box(tmp_path: Path) -> Iterator[SalesforceSandbox]:
    sandbox = make_box(tmp_path / "sf.db", accounts=30)
    yield sandbox
    sandbox.close()


@pytest.fixture
def creds(box: SalesforceSandbox) -> Iterator[SalesforceCredentials]:
    with box.inprocess() as c:
        yield c


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
