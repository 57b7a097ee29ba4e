"""A state store written by crmqual of schema 0006 (``store_0006/old``, made by
``store_0006/make.py`` at commit a783905) is upgraded in place when opened, on SQLite and on
PostgreSQL; then the portfolio report, the policy lab, a sync, a revert and a prune give what
crmqual of schema 0006 gave for the same steps (``store_0006/expected.json``)."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from stateutil import BACKENDS, state_url_for

from crmqual.state import StateStore, alembic_config

HERE = Path(__file__).resolve().parent / "store_0006"
sys.path.insert(0, str(HERE))
from steps import run_steps  # noqa: E402

pytestmark = pytest.mark.slow

#: Figures that hold the moment they were made, not what was computed.
MOMENTS = {"before"}


def same(found: Any, expected: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 (PostgreSQL sums in another order than SQLite)."""
    if isinstance(expected, dict):
        assert isinstance(found, dict), where
        keys = set(expected) - MOMENTS
        assert set(found) - MOMENTS == keys, f"{where}: keys {set(found) ^ set(expected)}"
        for k in sorted(keys):
            same(found[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), where
        for i, (f, e) in enumerate(zip(found, expected, strict=True)):
            same(f, e, f"{where}[{i}]")
    elif isinstance(expected, float) and isinstance(found, int | float):
        assert math.isclose(found, expected, rel_tol=1e-9, abs_tol=1e-9), where
    else:
        assert found == expected, where


def copy_into_postgres(sqlite_file: Path, url: str) -> None:
    """The SQLite store's tables, as they are, in an empty PostgreSQL store of schema 0006."""
    target = sa.create_engine(url)
    source = sa.create_engine(f"sqlite:///{sqlite_file}")
    try:
        config = alembic_config()
        with target.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0006")
        old, new = sa.MetaData(), sa.MetaData()
        old.reflect(source)
        new.reflect(target)
        with source.connect() as read, target.begin() as write:
            write.exec_driver_sql("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC
            for table in old.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(r._mapping) for r in read.execute(sa.select(table))]
                if rows:
                    write.execute(sa.insert(new.tables[table.name]), rows)
                if "id" in table.c:
                    write.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
    finally:
        target.dispose()
        source.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_of_schema_0006_upgrades_and_behaves_as_before(
    backend: str, tmp_path: Path
) -> None:
    folder = tmp_path / "crm"
    shutil.copytree(HERE / "old", folder)
    expected = json.loads((HERE / "expected.json").read_text("utf-8"))
    with state_url_for(backend, tmp_path) as url:
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'state.sqlite'}"
        else:
            copy_into_postgres(folder / "state.sqlite", url)
        with StateStore(url) as store, store.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            assert version == "0008"
            slim = conn.exec_driver_sql("SELECT count(*) FROM assessments WHERE form = 1")
            assert slim.scalar() == 0  # rows written before keep their form
        found = run_steps(folder, url)
    assert set(found) == set(expected)
    for step in expected:
        same(found[step], expected[step], step)
