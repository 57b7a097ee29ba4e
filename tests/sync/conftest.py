"""Fixtures for the sync engine's tests: an in-memory CRM, a state store, a Sync."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stateutil import BACKENDS, state_url_for
from syncutil import T0, Clock, MakeSync, company

from crmqual.adapters.memory import MemoryAdapter, MemoryCrm
from crmqual.compiled import compiled
from crmqual.config import SyncSettings
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.state import StateStore
from crmqual.sync import Sync


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def crm(clock: Clock) -> MemoryCrm:
    crm = MemoryCrm(clock=clock)
    crm.load([company(i) for i in range(10)])
    return crm


@pytest.fixture(params=BACKENDS)
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with state_url_for(str(request.param), tmp_path) as url:
        yield url


@pytest.fixture
def state(state_url: str) -> Iterator[StateStore]:
    store = StateStore(state_url)
    yield store
    store.close()


@pytest.fixture
def make_sync(crm: MemoryCrm, state: StateStore) -> MakeSync:
    shipped, source = load_mapping(None, "file")
    mapping = shipped.model_copy(update={"override_field": "credit_override"})
    policy = compiled(load_policy())

    def make(
        *, provision: bool = True, settings: SyncSettings | None = None, **adapter_kw: Any
    ) -> Sync:
        adapter = MemoryAdapter(crm, **adapter_kw)
        if provision:
            adapter.provision(wanted_fields(mapping, policy.policy))
        return Sync(
            adapter=adapter,
            mapping=mapping,
            mapping_source=source,
            policy=policy,
            state=state,
            target="memory",
            settings=settings,
        )

    return make
