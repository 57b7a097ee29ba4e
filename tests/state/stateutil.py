"""Helpers for tests that need a state store on SQLite and on the real PostgreSQL server.

PostgreSQL comes from ``$CRMQUAL_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each test gets a fresh schema, chosen
through ``search_path`` in the URL, which is dropped afterwards. When no server answers the
PostgreSQL half is skipped, unless ``CRMQUAL_REQUIRE_PG=1``, which turns that into a failure.

``tests/state/conftest.py`` turns these into fixtures; another test folder can do the same
with ``state_url_for`` (a context manager giving the URL of a fresh, empty store).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from crmqual.state import AssessmentIn, StateStore

PG_URL_ENV = "CRMQUAL_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def state_url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty state store on ``backend`` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'state.sqlite'}"
        return
    base = sa.make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    schema = f"crmqual_test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        where = base.render_as_string(hide_password=True)
        if os.environ.get("CRMQUAL_REQUIRE_PG") == "1":
            pytest.fail(f"CRMQUAL_REQUIRE_PG=1 but no PostgreSQL at {where}: {exc.orig}")
        pytest.skip(f"no PostgreSQL at {where}: {exc.orig}")
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


class FakeClock:
    """A settable clock, so time-dependent behaviour is tested without waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def new_run(store: StateStore, target: str = "zoho:org1") -> int:
    return store.start_run(
        target,
        mode="incremental",
        dry_run=False,
        signpost=T0,
        policy_version="p1",
        mapping_hash="m1",
    )


def assessment(account_id: str, grade: str | None = "B", **changes: Any) -> AssessmentIn:
    values: dict[str, Any] = {
        "account_id": account_id,
        "assessed_at": T0,
        "account": {"name": f"客户 {account_id}", "revenue": 1200.5},
        "outputs": {"grade": grade, "limit": 50000},
        "native": {"Credit_Grade__c": grade},
        "previous_native": {"Credit_Grade__c": None},
        "policy_version": "p1",
        "grade": grade,
        "reasons": [{"code": "R1", "text": "ok"}],
    }
    values.update(changes)
    return AssessmentIn(**values)
