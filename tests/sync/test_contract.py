"""The adapter contract suite, run for the file adapter and the in-memory CRM."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from backends import FileBackend, MemoryBackend

from crmqual.contract_suite import CHECKS, Backend


@pytest.fixture(params=["file", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "file":
        return FileBackend(tmp_path)
    return MemoryBackend()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_contract(check: Callable[[Backend], None], backend: Backend) -> None:
    check(backend)
