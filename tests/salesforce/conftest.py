"""Fixtures for the Salesforce adapter's tests: `responses` with a login, recorded sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from salesforce_payloads import TOKEN_URL, token_body


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every registered answer must be used; unregistered requests fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def login(rsps: responses.RequestsMock) -> responses.BaseResponse:
    """One JWT bearer login answered with the org's instance."""
    return rsps.post(TOKEN_URL, json=token_body())


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the retry logic and job polls asked for (nothing really sleeps here)."""
    return []
