"""Fixtures for the sandbox's tests: a sandbox on a temporary file, served in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import START, Api

from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.seed import seed_zoho


@pytest.fixture
def box(tmp_path: Path) -> Iterator[ZohoSandbox]:
    """A sandbox with 30 seeded accounts and its clock frozen at START."""
    sandbox = ZohoSandbox(tmp_path / "zoho.db")
    sandbox.clock.freeze(START)
    seed_zoho(sandbox.store, 30, seed=7)
    yield sandbox
    sandbox.close()


@pytest.fixture
def api(box: ZohoSandbox) -> Iterator[Api]:
    """The sandbox in-process on Zoho's US hosts, and a client with every scope."""
    with box.inprocess() as creds:
        yield Api(creds)
