"""Fixtures for the Zoho adapter's tests: `responses` with a token answer, recorded sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses import matchers
from zoho_payloads import TOKEN_URL, token_body, token_form


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every registered answer must be used; unregistered requests fail."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def token(rsps: responses.RequestsMock) -> responses.BaseResponse:
    """One refresh-token exchange, asserting the form Zoho documents."""
    return rsps.post(
        TOKEN_URL,
        json=token_body(),
        match=[matchers.urlencoded_params_matcher(token_form())],
    )


@pytest.fixture
def sleeps() -> list[float]:
    """Waits the retry logic asked for (nothing really sleeps in these tests)."""
    return []
