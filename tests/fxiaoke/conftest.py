"""Fixtures for the Fxiaoke adapter's `responses` tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from fx_payloads import FakeTime


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every registered answer must be used; unregistered requests fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()
