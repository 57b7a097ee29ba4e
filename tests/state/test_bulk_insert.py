"""BulkInsert stores what SQLAlchemy's own ``conn.execute(insert, rows)`` stores, value for
value (times, dates, JSON, bytes, floats, nulls), on SQLite and PostgreSQL, plain and as an
upsert; values every row shares go once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from stateutil import T0, new_run

from crmqual.state import StateStore
from crmqual.state.bulk_insert import BulkInsert
from crmqual.state.schema import assessments, schedule

SHARED = {"target": "zoho:acme", "status": "pending", "form": 1, "policy_version": "p1"}
COLUMNS = (
    "account_id",
    "assessed_at",
    "grade",
    "inputs",
    "exposure",
    "period_end",
    "flags",
    "reasons",
    "previous_native",
    "downgraded_at",
    "score",
)
EAST = timezone(timedelta(hours=8))


def rows() -> list[tuple[Any, ...]]:
    return [
        ("A1", T0, "A", b"\x93\x01\x00\xa1x", 1250.5, date(2025, 12, 31), ["overdue"],
         [["R1", "k1", 3]], {"Credit_Grade": "B"}, T0.astimezone(EAST), 88),
        ("A2", T0 + timedelta(microseconds=7), None, None, None, None, [], [], None, None, None),
        ("A3", T0.astimezone(EAST), "E", b"", 0.0, date(2000, 1, 1), ["a", "中文"],
         [["R2", "k2"]], {"x": None, "y": [1, 2]}, None, 0),
    ]  # fmt: skip


def stored(store: StateStore, table: sa.Table, key: str) -> list[dict[str, Any]]:
    """The table's rows but their ids."""
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(table).order_by(table.c[key])).all()
    return [{k: v for k, v in row._mapping.items() if k != "id"} for row in found]


def test_rows_are_stored_as_conn_execute_stores_them(store: StateStore) -> None:
    run_a, run_b = new_run(store), new_run(store)
    dialect = store.engine.dialect
    bulk = BulkInsert(sa.insert(assessments), ["run_id", *SHARED], COLUMNS, dialect)
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(assessments),
            [{"run_id": run_a, **SHARED, **dict(zip(COLUMNS, r, strict=True))} for r in rows()],
        )
        bulk.execute(conn, {"run_id": run_b, **SHARED}, rows())
    by_run: dict[int, list[dict[str, Any]]] = {run_a: [], run_b: []}
    for row in stored(store, assessments, "id"):
        by_run[row.pop("run_id")].append(row)
    assert by_run[run_a] == by_run[run_b]
    assert [r["account_id"] for r in by_run[run_b]] == ["A1", "A2", "A3"]
    a1, _, a3 = by_run[run_b]
    assert a3["assessed_at"] == T0 and a3["assessed_at"].tzinfo == UTC  # given in UTC+8
    assert a1["downgraded_at"] == T0 and a1["reasons"] == [["R1", "k1", 3]]
    assert a3["flags"] == ["a", "中文"] and a3["previous_native"] == {"x": None, "y": [1, 2]}


def test_an_upsert_with_a_shared_time(store: StateStore) -> None:
    stmt = (
        sa.dialects.sqlite.insert(schedule)
        if store.engine.dialect.name == "sqlite"
        else sa.dialects.postgresql.insert(schedule)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["target", "account_id"], set_={"grade": stmt.excluded.grade}
    )
    bulk = BulkInsert(
        stmt, ["target", "assessed_at"], ["account_id", "grade"], store.engine.dialect
    )
    with store.engine.begin() as conn:
        bulk.execute(conn, {"target": "t", "assessed_at": T0}, [("A1", "A"), ("A2", None)])
        bulk.execute(conn, {"target": "t", "assessed_at": T0}, [("A1", "C")])
    assert stored(store, schedule, "account_id") == [
        {"target": "t", "account_id": "A1", "grade": "C", "assessed_at": T0},
        {"target": "t", "account_id": "A2", "grade": None, "assessed_at": T0},
    ]


def test_a_statement_whose_binds_are_not_the_columns_is_refused(store: StateStore) -> None:
    stmt = sa.insert(assessments).values(form=sa.bindparam("shape"))
    with pytest.raises(ValueError, match="bind names"):
        BulkInsert(stmt, ["form"], ["account_id"], store.engine.dialect)


def test_a_null_goes_in_as_the_columns_type_makes_it(store: StateStore) -> None:
    """JSON without ``none_as_null`` stores None as the JSON text null, as SQLAlchemy does;
    a JSON column with it, and other types, store SQL NULL."""
    docs = sa.Table(
        f"docs_{store.engine.dialect.name}",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("via", sa.String(8)),
        sa.Column("doc", sa.JSON()),
        sa.Column("kept", sa.JSON(none_as_null=True)),
    )
    docs.create(store.engine)
    try:
        bulk = BulkInsert(sa.insert(docs), ["via"], ["doc", "kept"], store.engine.dialect)
        with store.engine.begin() as conn:
            conn.execute(sa.insert(docs), [{"via": "sa", "doc": None, "kept": None}])
            bulk.execute(conn, {"via": "bulk"}, [(None, None)])
            nulls = sa.select(docs.c.via, docs.c.doc.is_(None), docs.c.kept.is_(None))
            found = {via: (doc, kept) for via, doc, kept in conn.execute(nulls)}
        assert found["sa"] == found["bulk"] == (False, True)
    finally:
        docs.drop(store.engine)


def test_a_value_repeated_from_the_row_before_is_stored_alike(store: StateStore) -> None:
    """A value the row before had (the same object) is converted once and reused; a
    different one in between is converted on its own."""
    run_a, run_b = new_run(store), new_run(store)
    later = T0 + timedelta(days=1)
    times = [T0, T0, later, T0, later, later]
    columns = ("account_id", "assessed_at")
    given = [(f"A{i}", at) for i, at in enumerate(times)]
    bulk = BulkInsert(sa.insert(assessments), ["run_id", *SHARED], columns, store.engine.dialect)
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(assessments),
            [{"run_id": run_a, **SHARED, "account_id": a, "assessed_at": t} for a, t in given],
        )
        bulk.execute(conn, {"run_id": run_b, **SHARED}, given)
    by_run: dict[int, list[Any]] = {run_a: [], run_b: []}
    for row in stored(store, assessments, "id"):
        by_run[row["run_id"]].append((row["account_id"], row["assessed_at"]))
    assert by_run[run_a] == by_run[run_b] == given


def test_sqlite_binds_nulls_and_bytes_as_they_are(store: StateStore) -> None:
    """A SQLite store binds None and bytes through adapters of their own (the sqlite3
    module's lookup for any other value is costly): a null stays NULL, bytes a BLOB, the
    empty ones too, byte for byte."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the sqlite3 module's adapters")
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert (bytes, sqlite3.PrepareProtocol) in sqlite3.adapters
    values = (None, b"", b"\x00\xff", None, b"", b"\x00\xff")
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT typeof(?), typeof(?), typeof(?), ?, ?, ?", values
        ).one()
    assert tuple(found) == ("null", "blob", "blob", None, b"", b"\x00\xff")
