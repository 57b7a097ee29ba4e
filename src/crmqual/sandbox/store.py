"""The sandbox's SQLite store: records, field metadata, tokens, the call log and the write log.

One file, shared by a server process and the test or benchmark that watches it (WAL mode, a
connection per thread, `BEGIN IMMEDIATE` for writes). Dialect-neutral: records are JSON objects
under the CRM's native field names; `id`, created and modified times are real columns, indexed
so that paging by id or by modified time stays an index walk at a million records.

Times in the store are UTC ISO-8601 strings of one fixed shape (`2025-01-01T00:00:00+00:00`),
so that comparing the strings compares the instants.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmqual.sandbox.fielddef import FieldDef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    module TEXT NOT NULL, id INTEGER NOT NULL,
    created_time TEXT NOT NULL, modified_time TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (module, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_modified ON records (module, modified_time, id);
CREATE INDEX IF NOT EXISTS records_created ON records (module, created_time, id);
CREATE TABLE IF NOT EXISTS modules (api_name TEXT PRIMARY KEY, def TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fields (
    module TEXT NOT NULL, api_name TEXT NOT NULL, position INTEGER NOT NULL, def TEXT NOT NULL,
    PRIMARY KEY (module, api_name));
CREATE TABLE IF NOT EXISTS calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, endpoint TEXT NOT NULL, status INTEGER NOT NULL, client TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS writes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, module TEXT NOT NULL,
    record_id INTEGER NOT NULL, source TEXT NOT NULL, client TEXT NOT NULL,
    user_id TEXT NOT NULL, changes TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS writes_record ON writes (module, record_id);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
    user_id TEXT NOT NULL, expires_at TEXT, used INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS page_tokens (
    token TEXT PRIMARY KEY, state TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credits (minute INTEGER PRIMARY KEY, spent INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS mints (refresh TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mints_refresh ON mints (refresh, at);
CREATE TABLE IF NOT EXISTS custom_views (
    id TEXT PRIMARY KEY, module TEXT NOT NULL, name TEXT NOT NULL, criteria TEXT NOT NULL);
"""

SORT_COLUMNS = {"id": "id", "Created_Time": "created_time", "Modified_Time": "modified_time"}
_CHUNK = 500


def iso(instant: datetime) -> str:
    """The store's one time format: UTC, whole seconds, `+00:00`."""
    return instant.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class StoredRecord:
    """One record: system columns plus every other field value under its native name."""

    module: str
    id: int
    created_time: str
    modified_time: str
    data: dict[str, Any]


@dataclass(frozen=True)
class WriteEntry:
    """One write to one record: `changes` maps field -> (old, new) for fields whose value changed.

    `source` is `api` (a client's call), `hand` (a person, through the sandbox's Python API) or
    `seed`; `client` names the caller (the `X-ZOHO-SDK` header, else the User-Agent)."""

    seq: int
    at: str
    module: str
    record_id: int
    source: str
    client: str
    user_id: str
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class CallEntry:
    """One API call as the sandbox answered it; `endpoint` is the route's stable name."""

    seq: int
    at: str
    method: str
    path: str
    endpoint: str
    status: int
    client: str


@dataclass(frozen=True)
class TokenRow:
    token: str
    kind: str
    client_id: str
    scopes: tuple[str, ...]
    user_id: str
    expires_at: str | None
    used: bool


@dataclass
class Scan:
    """Which records to walk and in which order; `after` is a keyset cursor (sort value, id)."""

    module: str
    sort_by: str = "id"
    descending: bool = False
    modified_after: str | None = None
    after: tuple[Any, int] | None = None
    ids: list[int] | None = field(default=None)


class SandboxStore:
    """Access to one sandbox database file. Safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._conn().executescript(_SCHEMA)

    # -- connections and transactions -------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (nested calls join the outer one)."""
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def close(self) -> None:
        """Close this thread's connection (other threads' close when they end)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def next_ids(self, count: int, base: int) -> list[int]:
        """Reserve `count` fresh numeric ids (digit strings in the API); the first is `base`."""
        with self.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key='next_id'").fetchone()
            start = int(row[0]) if row else base
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_id', ?)",
                (str(start + count),),
            )
        return list(range(start, start + count))

    # -- modules and fields -------------------------------------------------------------------
    def put_module(self, api_name: str, definition: dict[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO modules (api_name, def) VALUES (?, ?)",
                (api_name, json.dumps(definition)),
            )

    def modules(self) -> dict[str, dict[str, Any]]:
        rows = self._conn().execute("SELECT api_name, def FROM modules ORDER BY api_name")
        return {name: json.loads(d) for name, d in rows}

    def put_field(self, module: str, definition: FieldDef) -> None:
        """Add a field at the end of the module's list, or replace it where it stands."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT position FROM fields WHERE module=? AND api_name=?",
                (module, definition.api_name),
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM fields WHERE module=?", (module,)
                ).fetchone()
            conn.execute(
                "INSERT OR REPLACE INTO fields (module, api_name, position, def) VALUES (?,?,?,?)",
                (module, definition.api_name, row[0], definition.model_dump_json()),
            )

    def drop_field(self, module: str, api_name: str) -> None:
        """Delete a field and every record's value of it (a CRM deleting a custom field)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM fields WHERE module=? AND api_name=?", (module, api_name))
            path = '$."' + api_name.replace('"', "") + '"'
            conn.execute(
                "UPDATE records SET data=json_remove(data, ?) WHERE module=? AND "
                "json_type(data, ?) IS NOT NULL",
                (path, module, path),
            )

    def fields(self, module: str) -> list[FieldDef]:
        rows = self._conn().execute(
            "SELECT def FROM fields WHERE module=? ORDER BY position", (module,)
        )
        return [FieldDef.model_validate_json(d) for (d,) in rows]

    # -- records ------------------------------------------------------------------------------
    def insert_records(self, module: str, rows: Iterable[StoredRecord]) -> int:
        """Insert many records at once (seeding); returns how many."""
        with self.transaction() as conn:
            cur = conn.executemany(
                "INSERT INTO records (module, id, created_time, modified_time, data) "
                "VALUES (?, ?, ?, ?, ?)",
                ((module, r.id, r.created_time, r.modified_time, json.dumps(r.data)) for r in rows),
            )
            return cur.rowcount

    def insert_rows(self, module: str, rows: list[tuple[int, str, str, str]]) -> int:
        """Insert ready-made rows `(id, created, modified, JSON data)` (bulk seeding)."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO records (module, id, created_time, modified_time, data) "
                "VALUES (?, ?, ?, ?, ?)",
                [(module, *row) for row in rows],
            )
        return len(rows)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Loosen durability on this thread's connection while a bulk load runs: a crash
        mid-seed may lose the seed (it is rerun), never a running sandbox's writes."""
        conn = self._conn()
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: keeps the time index in memory
        try:
            yield
        finally:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-2000")

    def get_records(self, module: str, ids: Iterable[int]) -> dict[int, StoredRecord]:
        wanted = list(ids)
        found: dict[int, StoredRecord] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn().execute(
                "SELECT module, id, created_time, modified_time, data FROM records "
                f"WHERE module=? AND id IN ({marks})",
                (module, *chunk),
            )
            found.update((row[1], _record(row)) for row in rows)
        return found

    def delete_records(self, module: str, ids: Iterable[int]) -> int:
        """Delete records (not logged as writes: the sandbox logs writes to accounts only)."""
        wanted = list(ids)
        with self.transaction() as conn:
            deleted = 0
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                cur = conn.execute(
                    f"DELETE FROM records WHERE module=? AND id IN ({marks})", (module, *chunk)
                )
                deleted += cur.rowcount
            return deleted

    def count(self, module: str) -> int:
        row = self._conn().execute("SELECT COUNT(*) FROM records WHERE module=?", (module,))
        return int(row.fetchone()[0])

    def scan(self, spec: Scan) -> Iterator[StoredRecord]:
        """Walk records in (sort column, id) order by keyset chunks; memory stays flat."""
        column = SORT_COLUMNS[spec.sort_by]
        direction = "DESC" if spec.descending else "ASC"
        compare = "<" if spec.descending else ">"
        base = ["module=?"]
        base_params: list[Any] = [spec.module]
        if spec.ids is not None:
            base.append(f"id IN ({','.join('?' * len(spec.ids))})")
            base_params.extend(spec.ids)
        order = "id" if column == "id" else f"{column} {direction}, id"
        after = spec.after
        while True:
            where, params = list(base), list(base_params)
            bound = spec.modified_after
            # Past a cursor on modified_time the bound holds by itself. Stated as well, it
            # is what SQLite searches the index by, and every chunk would scan from the
            # bound up to the cursor again (quadratic in the records walked).
            if bound is not None and not (
                column == "modified_time" and not spec.descending and after and after[0] > bound
            ):
                where.append("modified_time > ?")
                params.append(bound)
            cursor_sql = ""
            cursor_params: list[Any] = []
            if after is not None:
                if column == "id":
                    cursor_sql = f" AND id {compare} ?"
                    cursor_params = [after[1]]
                else:
                    cursor_sql = f" AND ({column}, id) {compare} (?, ?)"
                    cursor_params = [after[0], after[1]]
            rows = (
                self._conn()
                .execute(
                    "SELECT module, id, created_time, modified_time, data FROM records "
                    f"WHERE {' AND '.join(where)}{cursor_sql} "
                    f"ORDER BY {order} {direction} LIMIT {_CHUNK}",
                    (*params, *cursor_params),
                )
                .fetchall()
            )
            for row in rows:
                yield _record(row)
            if len(rows) < _CHUNK:
                return
            last = _record(rows[-1])
            after = (sort_value(last, spec.sort_by), last.id)

    def update_record(
        self,
        record: StoredRecord,
        *,
        source: str,
        client: str,
        user_id: str,
        changes: dict[str, tuple[Any, Any]],
    ) -> None:
        """Store a record's new values and log the write, in one transaction."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE records SET modified_time=?, data=? WHERE module=? AND id=?",
                (record.modified_time, json.dumps(record.data), record.module, record.id),
            )
            conn.execute(
                "INSERT INTO writes (at, module, record_id, source, client, user_id, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.modified_time,
                    record.module,
                    record.id,
                    source,
                    client,
                    user_id,
                    json.dumps({k: list(v) for k, v in changes.items()}),
                ),
            )

    # -- observation --------------------------------------------------------------------------
    def log_call(
        self, *, at: str, method: str, path: str, endpoint: str, status: int, client: str
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO calls (at, method, path, endpoint, status, client) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, method, path, endpoint, status, client),
            )

    def calls(self, after_seq: int = 0) -> list[CallEntry]:
        rows = self._conn().execute(
            "SELECT seq, at, method, path, endpoint, status, client FROM calls "
            "WHERE seq > ? ORDER BY seq",
            (after_seq,),
        )
        return [CallEntry(*row) for row in rows]

    def call_counts(self) -> dict[str, int]:
        rows = self._conn().execute(
            "SELECT endpoint, COUNT(*) FROM calls GROUP BY endpoint ORDER BY endpoint"
        )
        return {endpoint: int(n) for endpoint, n in rows}

    def writes(self, after_seq: int = 0, record_id: int | None = None) -> list[WriteEntry]:
        sql = (
            "SELECT seq, at, module, record_id, source, client, user_id, changes FROM writes "
            "WHERE seq > ?"
        )
        params: list[Any] = [after_seq]
        if record_id is not None:
            sql += " AND record_id = ?"
            params.append(record_id)
        rows = self._conn().execute(sql + " ORDER BY seq", params)
        return [
            WriteEntry(
                seq,
                at,
                module,
                rid,
                source,
                client,
                user,
                {k: (v[0], v[1]) for k, v in json.loads(changes).items()},
            )
            for seq, at, module, rid, source, client, user, changes in rows
        ]

    # -- tokens -------------------------------------------------------------------------------
    def save_token(self, row: TokenRow, created_at: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (token, kind, client_id, scopes, user_id, expires_at, used, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.token,
                    row.kind,
                    row.client_id,
                    " ".join(row.scopes),
                    row.user_id,
                    row.expires_at,
                    int(row.used),
                    created_at,
                ),
            )

    def find_token(self, token: str) -> TokenRow | None:
        row = (
            self._conn()
            .execute(
                "SELECT token, kind, client_id, scopes, user_id, expires_at, used FROM tokens "
                "WHERE token=?",
                (token,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return TokenRow(row[0], row[1], row[2], tuple(row[3].split()), row[4], row[5], bool(row[6]))

    def mark_token_used(self, token: str) -> bool:
        """Mark a one-time token used; False if it already was (so it is spent exactly once)."""
        with self.transaction() as conn:
            cur = conn.execute("UPDATE tokens SET used=1 WHERE token=? AND used=0", (token,))
            return cur.rowcount == 1

    def expire_token(self, token: str, at: str) -> None:
        """End a token's life at `at` (a fault: a token that expires in the middle of a run)."""
        with self.transaction() as conn:
            conn.execute("UPDATE tokens SET expires_at=? WHERE token=?", (at, token))

    def record_mint(self, refresh: str, at: str) -> None:
        """Remember that an access token was minted from `refresh` (for the mint quota)."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO mints (refresh, at) VALUES (?, ?)", (refresh, at))

    def mints_since(self, refresh: str, since: str) -> int:
        row = self._conn().execute(
            "SELECT COUNT(*) FROM mints WHERE refresh=? AND at > ?", (refresh, since)
        )
        return int(row.fetchone()[0])

    # -- API credits --------------------------------------------------------------------------
    def add_credits(self, minute: int, cost: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO credits (minute, spent) VALUES (?, ?) "
                "ON CONFLICT (minute) DO UPDATE SET spent = spent + excluded.spent",
                (minute, cost),
            )

    def credits_since(self, after_minute: int) -> int:
        """Credits spent in minutes after `after_minute`."""
        row = self._conn().execute(
            "SELECT COALESCE(SUM(spent), 0) FROM credits WHERE minute > ?", (after_minute,)
        )
        return int(row.fetchone()[0])

    def put_page_token(self, token: str, state: dict[str, Any], expires_at: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO page_tokens (token, state, expires_at) VALUES (?, ?, ?)",
                (token, json.dumps(state), expires_at),
            )

    def get_page_token(self, token: str) -> tuple[dict[str, Any], str] | None:
        row = (
            self._conn()
            .execute("SELECT state, expires_at FROM page_tokens WHERE token=?", (token,))
            .fetchone()
        )
        return None if row is None else (json.loads(row[0]), str(row[1]))

    # -- custom views -------------------------------------------------------------------------
    def put_custom_view(self, view_id: str, module: str, name: str, criteria: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO custom_views (id, module, name, criteria) "
                "VALUES (?, ?, ?, ?)",
                (view_id, module, name, criteria),
            )

    def custom_view(self, view_id: str) -> tuple[str, str, str] | None:
        row = (
            self._conn()
            .execute("SELECT module, name, criteria FROM custom_views WHERE id=?", (view_id,))
            .fetchone()
        )
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))


def sort_value(record: StoredRecord, sort_by: str) -> Any:
    """The value a record sorts by under the API's `sort_by` name."""
    if sort_by == "Created_Time":
        return record.created_time
    if sort_by == "Modified_Time":
        return record.modified_time
    return record.id


def _record(row: tuple[Any, ...]) -> StoredRecord:
    return StoredRecord(row[0], int(row[1]), row[2], row[3], json.loads(row[4]))
