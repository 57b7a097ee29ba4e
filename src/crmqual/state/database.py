"""Opening the state store: the URL, the SQLite file (0600) and its settings, the Alembic
upgrade (under a PostgreSQL advisory lock), and the transactions every part uses."""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from crmqual.errors import StateStoreError, StateStoreUrlError
from crmqual.state.bulk_insert import BulkInsert

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

logger = logging.getLogger("crmqual.state")

CHUNK = 500
"""Largest ``IN`` list or batch sent in one statement."""

SQLITE_BUSY_TIMEOUT_S = 30
"""How long a SQLite connection waits for another process's write transaction."""

# Arbitrary constant: the PostgreSQL advisory lock that serialises schema upgrades.
_PG_MIGRATION_LOCK_KEY = 0x63726D7175616C  # "crmqual"
_WRITE_OPTION = "crmqual_write"

T = TypeVar("T")


def default_state_url() -> str:
    """``$CRMQUAL_STATE_URL``, else the SQLite file under the XDG state directory."""
    configured = os.environ.get("CRMQUAL_STATE_URL")
    if configured:
        return configured
    xdg = os.environ.get("XDG_STATE_HOME", "")
    root = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return f"sqlite:///{root / 'crmqual' / 'state.sqlite'}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in the state store: {value!r}")


#: One encoder for every JSON column (``json.dumps`` with options builds one per call).
_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))


def json_dumps(value: object) -> str:
    return _ENCODER.encode(value)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def require_aware(value: datetime | None, name: str) -> None:
    # Checked up front for a plain ValueError; UtcDateTime refuses them too, but wrapped.
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _prepare_sqlite_file(url: URL) -> None:
    """Create the database's missing directories (0700) and the file itself (0600)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).absolute()
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is narrowed by the umask; make it exact
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning(
                "the state store %s can be read by other users (mode %o); consider chmod 600",
                path,
                mode,
            )
        return
    try:
        if hasattr(os, "fchmod"):  # not on Windows
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (a setting stored in the file, so once is enough).

    Switching needs an exclusive lock, and SQLite reports "database is locked" at once,
    without its busy handler, when another connection is opening the same fresh file; so
    wait here, within the usual busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")  # an in-memory database stays "memory"
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _bind_plainly() -> None:
    """Bind None and bytes without the sqlite3 module's adaptation lookup.

    The module binds exact ints, floats and str as they are; any other value (None, bytes)
    first looks for ``__adapt__`` and ``__conform__``, two failed attribute lookups, each
    raising and clearing an AttributeError: a sync's pending row binds about nine such values
    (``bench/state_rows.py --plain-binds`` compares). An adapter registered for the exact
    type is found first; these give the value back as it is (``{}.get(None)`` is None;
    ``bytes(b)`` is ``b``), in C, so what is stored is unchanged.
    """
    none: dict[None, None] = {}
    sqlite3.register_adapter(type(None), cast(Callable[[None], None], none.get))
    sqlite3.register_adapter(bytes, bytes)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook below emit BEGIN, instead of the sqlite3 module's own
    # implicit transactions, so write transactions can be BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _enable_wal(cursor)  # readers never block the one writer
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # synchronous stays at its default FULL: a pending row must survive a power cut too.
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # A deferred transaction that later writes can fail at once with SQLITE_BUSY when
    # another process wrote in between; IMMEDIATE takes the write lock up front and waits
    # for it under busy_timeout.
    write = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def alembic_config() -> AlembicConfig:
    """An Alembic config for the migrations shipped in the package (no ``alembic.ini``).

    Commands run with it need an open connection in ``config.attributes["connection"]``.
    """
    from alembic.config import Config

    scripts = files("crmqual.migrations")
    if not isinstance(scripts, os.PathLike):
        raise StateStoreError("crmqual's migration scripts must be installed as plain files")
    config = Config()
    config.set_main_option("script_location", os.fspath(scripts))
    return config


class Database:
    """The connection to the store's database that every part of :class:`StateStore` uses.

    Use as a context manager or call :meth:`close`. Safe to share between threads (one
    connection per call, from the engine's pool) and, via the lock, between processes.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        """Open (creating and migrating as needed) the store at ``url``.

        ``clock`` returns the current aware time; tests pass a fake one. Raises
        :class:`StateStoreError` when the database cannot be reached or is not supported.
        """
        self._url = make_url(url)
        if self._url.drivername == "postgresql":  # SQLAlchemy's default driver is psycopg2
            self._url = self._url.set(drivername="postgresql+psycopg")
        self.safe_url = self._url.render_as_string(hide_password=True)
        self._clock = clock or utcnow
        #: the connection of the open `transaction()`, by thread
        self._joined = threading.local()
        backend = self._url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StateStoreUrlError(
                f"unsupported state store {self.safe_url}: use sqlite:///PATH "
                "or postgresql+psycopg://USER:PASSWORD@HOST/DB"
            )
        self._sqlite = backend == "sqlite"
        if self._sqlite:
            try:
                _prepare_sqlite_file(self._url)
            except OSError as exc:
                raise StateStoreError(
                    f"cannot create the state store {self.safe_url}: {exc}"
                ) from None
            self._engine = sa.create_engine(
                self._url,
                json_serializer=json_dumps,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            )
            _bind_plainly()
            sa.event.listen(self._engine, "connect", _sqlite_on_connect)
            sa.event.listen(self._engine, "begin", _sqlite_on_begin)
        else:
            self._engine = sa.create_engine(
                self._url, json_serializer=json_dumps, pool_pre_ping=True
            )
        try:
            with self._failures("cannot open"):
                self._upgrade()
        except StateStoreError:
            self._engine.dispose()
            raise
        logger.debug("state store %s is ready", self.safe_url)

    # -- lifecycle

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and maintenance; prefer the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection. The store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.safe_url!r})"

    def _upgrade(self) -> None:
        """Run Alembic ``upgrade head`` in one transaction (a no-op when already at head)."""
        from alembic import command
        from alembic.util import CommandError

        config = alembic_config()
        with self._engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            if self._sqlite:
                # Batch migrations recreate tables; with foreign keys enforced, dropping a
                # referenced table fails. The pragma is ignored inside a transaction, so it
                # goes to the driver connection before BEGIN.
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                conn.execution_options(**{_WRITE_OPTION: True})
                with conn.begin():
                    if not self._sqlite:
                        conn.execute(
                            sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK_KEY))
                        )
                    config.attributes["connection"] = conn
                    try:
                        command.upgrade(config, "head")
                    except CommandError as exc:
                        raise StateStoreError(self._newer_message(exc)) from None
            finally:
                if self._sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")

    def _newer_message(self, exc: Exception) -> str:
        """Alembic cannot place the store's schema revision among crmqual's: a newer crmqual
        wrote it (or it is not crmqual's)."""
        return (
            f"the state store {self.safe_url} has a schema this crmqual does not know "
            f"({' '.join(str(exc).split())}): it was written by a newer crmqual. Install that "
            "version (or newer), or point `state:` in crmqual.yaml (or $CRMQUAL_STATE_URL) at "
            "another store"
        )

    @contextmanager
    def _failures(self, doing: str = "cannot use") -> Iterator[None]:
        """The one place the database's own failures become :class:`StateStoreError`.

        A full disk, a file that cannot be written, a server that is down or refuses us: any
        DBAPI error (OperationalError, DatabaseError, ...; an IntegrityError, a caller's bug,
        goes on as it is) or OSError. One line, naming the
        store (password masked) and what to do; the transaction was rolled back, so what was
        recorded before stays, and the next run resumes the pending writes.
        """
        try:
            yield
        except sa.exc.IntegrityError:
            raise  # a constraint refused a row: a bug in the caller, not the store failing
        except (sa.exc.DBAPIError, OSError) as exc:
            raise StateStoreError(self._failure_message(doing, exc)) from None

    def _failure_message(self, doing: str, exc: BaseException) -> str:
        reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        what = " ".join(str(reason).split()) or type(reason).__name__
        advice = (
            "free disk space where the file lives" if self._sqlite else "check the database server"
        )
        return (
            f"{doing} the state store {self.safe_url}: {what}; {advice}, then run the command "
            "again (nothing recorded is lost: a sync resumes its pending writes)"
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every call of this store inside (in this thread) joins one write transaction,
        committed when the block ends, rolled back when it raises: what a sync records about
        a page or a batch of writes costs one commit, not one per call (or per record)."""
        if getattr(self._joined, "conn", None) is not None:
            yield  # already inside one: join it
            return
        with self._write() as conn:
            self._joined.conn = conn
            try:
                yield
            finally:
                self._joined.conn = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed on normal exit; inside
        a `transaction()`, that one."""
        joined: Connection | None = getattr(self._joined, "conn", None)
        if joined is not None:
            yield joined
            return
        with self._failures(), self._engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        joined: Connection | None = getattr(self._joined, "conn", None)
        if joined is not None:
            yield joined
            return
        with self._failures(), self._engine.connect() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)

    def _bulk_insert(
        self,
        name: str,
        statement: Callable[[], sa.Insert],
        shared: Mapping[str, Any],
        columns: Sequence[str],
    ) -> BulkInsert:
        """The ``BulkInsert`` of ``statement`` (built once; ``name`` tells statements apart)
        for rows of ``columns`` with the ``shared`` values."""
        key = (name, tuple(shared), tuple(columns))
        insert = self._bulk_inserts.get(key)
        if insert is None:
            insert = BulkInsert(statement(), key[1], key[2], self._engine.dialect)
            self._bulk_inserts[key] = insert
        return insert

    @functools.cached_property
    def _bulk_inserts(self) -> dict[tuple[str, tuple[str, ...], tuple[str, ...]], BulkInsert]:
        return {}
