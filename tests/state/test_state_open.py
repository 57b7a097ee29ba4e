"""Opening a state store: file permissions, SQLite settings, migrations, URLs, secrets."""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from stateutil import new_run, state_url_for

from crmqual.errors import CrmqualError, ExitCode, StateStoreError
from crmqual.state import (
    StateStore,
    alembic_config,
    default_state_url,
    metadata,
)

TABLES = {
    "runs",
    "locks",
    "cursors",
    "assessments",
    "schedule",
    "failures",
    "events",
    "field_names",
    "left_alone",
    "outcomes",
    "backtests",
    "backtest_assessments",
}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: StateStore) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_file_is_owner_only_in_new_owner_only_dirs(tmp_path: Path) -> None:
    tmp_mode = mode_of(tmp_path)
    db = tmp_path / "xdg" / "crmqual" / "state.sqlite"
    old_umask = os.umask(0o002)  # a permissive umask must not leak into the modes
    try:
        with StateStore(f"sqlite:///{db}") as store:
            new_run(store)
            # SQLite gives its side files the database file's mode.
            assert mode_of(db.with_name("state.sqlite-wal")) == 0o600
            assert mode_of(db.with_name("state.sqlite-shm")) == 0o600
    finally:
        os.umask(old_umask)
    assert mode_of(db) == 0o600
    assert mode_of(db.parent) == 0o700
    assert mode_of(db.parent.parent) == 0o700
    assert mode_of(tmp_path) == tmp_mode  # an existing directory is not touched


def test_existing_sqlite_file_keeps_its_mode_and_data(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite"
    with StateStore(f"sqlite:///{db}") as store:
        run = new_run(store)
    db.chmod(0o640)
    with StateStore(f"sqlite:///{db}") as store:
        assert store.get_run(run) is not None
    assert mode_of(db) == 0o640


def test_uncreatable_sqlite_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateStoreError, match="cannot create the state store"):
        StateStore(f"sqlite:///{blocker}/state.sqlite")


def test_sqlite_uses_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    with StateStore(f"sqlite:///{tmp_path / 's.sqlite'}") as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_open_migrates_to_head(store: StateStore) -> None:
    assert head_revision() == "0008"
    assert current_revision(store) == ["0008"]
    assert set(sa.inspect(store.engine).get_table_names()) >= TABLES


def test_migrations_match_the_tables_the_code_uses(store: StateStore) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_reopening_is_a_no_op_upgrade(open_store: Callable[..., StateStore]) -> None:
    first = open_store()
    run = new_run(first)
    first.close()
    second = open_store()
    assert current_revision(second) == [head_revision()]
    assert [r.run_id for r in second.list_runs()] == [run]


def test_migrations_downgrade_to_base_and_back(store: StateStore, state_url: str) -> None:
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert not TABLES & set(sa.inspect(store.engine).get_table_names())
    store.close()
    with StateStore(state_url) as again:
        assert current_revision(again) == [head_revision()]
        assert again.list_runs() == []


def test_concurrent_opens_of_a_fresh_database_all_succeed(state_url: str) -> None:
    # Races for creating the schema (PostgreSQL) and for switching a new file to WAL (SQLite).
    errors: list[BaseException] = []
    stores: list[StateStore] = []

    def open_one() -> None:
        try:
            stores.append(StateStore(state_url))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert errors == []
    assert len(stores) == 6


def test_default_url_prefers_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRMQUAL_STATE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_url() == "postgresql+psycopg://u@h/db"


def test_default_url_under_xdg_state_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CRMQUAL_STATE_URL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_url() == f"sqlite:///{tmp_path}/crmqual/state.sqlite"


@pytest.mark.parametrize("xdg", ["", "relative/dir"])
def test_default_url_falls_back_to_local_state(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str
) -> None:
    monkeypatch.delenv("CRMQUAL_STATE_URL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_state_url() == f"sqlite:///{tmp_path}/.local/state/crmqual/state.sqlite"


def test_unreachable_database_error_hides_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = "postgresql+psycopg://crmqual:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=5"
    with pytest.raises(StateStoreError) as raised:
        StateStore(url)
    assert "s3cret-pw" not in str(raised.value)
    assert "crmqual:***@127.0.0.1:1/nowhere" in str(raised.value)
    assert "s3cret-pw" not in caplog.text
    assert isinstance(raised.value, CrmqualError)
    assert raised.value.exit_code == ExitCode.STATE_STORE


def test_repr_hides_the_password() -> None:
    # An unsupported backend fails before connecting; its message hides the password too.
    with pytest.raises(StateStoreError, match=r"mysql://u:\*\*\*@h/db") as raised:
        StateStore("mysql://u:hunter2@h/db")
    assert "hunter2" not in str(raised.value)


def test_naive_datetimes_are_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_run_with_signpost(store, datetime(2025, 1, 1, 12, 0))


def test_datetimes_come_back_aware_in_utc(store: StateStore) -> None:
    beijing = timezone(timedelta(hours=8))
    signpost = datetime(2025, 1, 1, 20, 0, 0, 123456, tzinfo=beijing)
    run = store.get_run(new_run_with_signpost(store, signpost))
    assert run is not None
    assert run.signpost == signpost
    assert run.signpost is not None and run.signpost.tzinfo == UTC
    assert run.signpost.hour == 12 and run.signpost.microsecond == 123456
    assert run.started_at.tzinfo == UTC


def new_run_with_signpost(store: StateStore, signpost: datetime) -> int:
    return store.start_run(
        "zoho:org1",
        mode="full",
        dry_run=True,
        signpost=signpost,
        policy_version="p1",
        mapping_hash="m1",
    )


def test_plain_postgresql_url_uses_psycopg(tmp_path: Path) -> None:
    with state_url_for("postgresql", tmp_path) as url:
        plain = sa.make_url(url).set(drivername="postgresql")
        with StateStore(plain.render_as_string(hide_password=False)) as store:
            assert store.engine.dialect.driver == "psycopg"
            assert current_revision(store) == [head_revision()]


def test_a_store_written_by_a_newer_crmqual_is_refused_with_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    StateStore(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(StateStoreError) as raised:
        StateStore(url)
    message = str(raised.value)
    assert "newer crmqual" in message and "9999" in message and "state:" in message
