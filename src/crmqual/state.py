"""The state store: runs, the per-target lock, cursors, assessments, schedule, failures, events.

Where the state lives
    ``default_state_url()`` returns ``$CRMQUAL_STATE_URL`` when it is set, otherwise an
    embedded SQLite file at ``$XDG_STATE_HOME/crmqual/state.sqlite``, or
    ``~/.local/state/crmqual/state.sqlite`` when ``XDG_STATE_HOME`` is unset, empty or relative
    (the XDG spec says to ignore a relative value). Two back ends are supported and tested:
    ``sqlite:///PATH`` and ``postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB``.

What opening a store does
    For a SQLite file, the missing parent directories are created with mode 0700 and the file
    with mode 0600 before the first connection (an existing file is left alone; a warning is
    logged if other users can read it). Every SQLite connection uses WAL and a busy timeout, so
    a sync and a ``crmqual runs`` (or a second, refused sync) can share the file, and write
    transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing.
    Then the schema is brought to the newest Alembic revision (``upgrade head``), with the
    migration scripts shipped inside the package; on PostgreSQL under an advisory lock, so
    two processes opening a fresh database at once do not both create the tables.

Contracts shared by every method
    * Everything is keyed by ``target``: one CRM org plus mapping, e.g. ``"zoho:org123"``, so
      one store serves several CRMs.
    * Datetimes in must be timezone-aware (a naive one raises ``ValueError``); datetimes out
      are aware and in UTC.
    * JSON payloads (``dict``/``list``) are stored as given; ``date``/``datetime`` inside them
      come back as ISO strings, ``Decimal`` as a string, an ``Enum`` as its value.
    * Each method is one transaction; writes take lists (a page of ~200 records) and use
      ``executemany`` and ``IN`` lists chunked at :data:`CHUNK`.
    * The URL's password never appears in a log line or an error message.

Adding a migration
    Write ``crmqual/migrations/versions/revNNNN_<what>.py`` by hand with ``revision = "NNNN"``
    and ``down_revision`` the previous number (see ``script.py.mako``), and mirror the change in
    the tables below. Use ``op.batch_alter_table`` for anything SQLite cannot ``ALTER``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from crmqual.errors import LockHeldError, StateStoreError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "CHUNK",
    "AssessmentIn",
    "AssessmentRecord",
    "AssessmentStatus",
    "Cursor",
    "EventIn",
    "EventRecord",
    "FailureIn",
    "FailureRecord",
    "LockHeldError",
    "LockHolder",
    "RunRecord",
    "StateStore",
    "alembic_config",
    "default_state_url",
    "metadata",
]

logger = logging.getLogger(__name__)

CHUNK = 500
"""Largest ``IN`` list or batch sent in one statement."""

SQLITE_BUSY_TIMEOUT_S = 30
"""How long a SQLite connection waits for another process's write transaction."""

RUN_RUNNING = "running"

# Arbitrary constant: the PostgreSQL advisory lock that serialises schema upgrades.
_PG_MIGRATION_LOCK_KEY = 0x63726D7175616C  # "crmqual"
_WRITE_OPTION = "crmqual_write"
_LOCK_ATTEMPTS = 5

T = TypeVar("T")


class AssessmentStatus(StrEnum):
    PENDING = "pending"  # recorded before the batch is sent; unknown whether the CRM has it
    WRITTEN = "written"
    FAILED = "failed"  # the CRM rejected the write
    ABANDONED = "abandoned"  # never applied (or superseded by a newer pending row)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: int
    target: str
    mode: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    signpost: datetime | None
    watermark: datetime | None
    policy_version: str
    mapping_hash: str
    counts: dict[str, int]
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next incremental run of a target starts, and what it was computed with."""

    watermark: datetime | None
    policy_version: str
    mapping_hash: str
    updated_at: datetime
    run_id: int


@dataclass(frozen=True, slots=True)
class AssessmentIn:
    """An assessment crmqual decided to write to the CRM."""

    account_id: str
    assessed_at: datetime
    account: dict[str, Any]  # the mapped common-model account, so the grade can be reproduced
    outputs: dict[str, Any]  # canonical outputs
    native: dict[str, Any]  # native field values to write
    previous_native: dict[str, Any]  # the CRM's output values before the write (for revert)
    policy_version: str
    grade: str | None
    reasons: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    """A stored assessment.

    ``run_id`` is the run that recorded it; ``written_run_id`` the run that resolved it as
    written or failed (a later run when it was resolved on resume), else ``None``.
    """

    id: int
    run_id: int
    written_run_id: int | None
    target: str
    account_id: str
    assessed_at: datetime
    account: dict[str, Any]
    outputs: dict[str, Any]
    native: dict[str, Any]
    previous_native: dict[str, Any]
    policy_version: str
    grade: str | None
    reasons: list[dict[str, Any]]
    status: AssessmentStatus
    written_at: datetime | None


@dataclass(frozen=True, slots=True)
class WriteRow:
    """One write's row as sending it (queued) or undoing it (sent) needs: the native values
    it carries and the CRM's values before it."""

    id: int
    account_id: str
    native: dict[str, Any]
    previous_native: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FailureIn:
    """One record a run could not process or write."""

    record_id: str
    field: str | None
    reason: str
    code: str | None = None  # the CRM's own error code, when it gave one


@dataclass(frozen=True, slots=True)
class FailureRecord:
    id: int
    run_id: int
    target: str
    record_id: str
    field: str | None
    reason: str
    code: str | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventIn:
    """A monitoring event; ``event_id`` is made by the caller and stable across reruns."""

    event_id: str
    account_id: str
    kind: str
    severity: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventRecord:
    event_id: str
    run_id: int
    target: str
    account_id: str
    kind: str
    severity: str
    payload: dict[str, Any]
    created_at: datetime
    followup_ref: str | None
    followed_up_at: datetime | None


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds the lock of a target."""

    hostname: str
    pid: int
    run_id: int
    acquired_at: datetime
    heartbeat_at: datetime


# --------------------------------------------------------------------------- schema


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime, always returned in UTC.

    SQLite has no time zone type: values are stored as naive UTC, whose fixed-width text
    compares in time order, and given ``tzinfo=UTC`` again when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value!r}: the state store needs timezone-aware times"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The tables as the code uses them; the migrations in crmqual.migrations.versions create them.
metadata = sa.MetaData()
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("dry_run", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("signpost", UtcDateTime(), nullable=True),
    sa.Column("watermark", UtcDateTime(), nullable=True),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("mapping_hash", sa.String(200), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.Column("summary", sa.JSON(), nullable=False),
    sa.Index("ix_runs_target_id", "target", "id"),
)

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("acquired_at", UtcDateTime(), nullable=False),
    sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("watermark", UtcDateTime(), nullable=True),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("mapping_hash", sa.String(200), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
)

assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("written_run_id", sa.Integer(), nullable=True),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("account_id", sa.String(255), nullable=False),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
    sa.Column("account", sa.JSON(), nullable=False),
    sa.Column("outputs", sa.JSON(), nullable=False),
    sa.Column("native", sa.JSON(), nullable=False),
    sa.Column("previous_native", sa.JSON(), nullable=False),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("grade", sa.String(32), nullable=True),
    sa.Column("reasons", sa.JSON(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("written_at", UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_assessments_run_id_runs"),
    sa.ForeignKeyConstraint(
        ["written_run_id"], ["runs.id"], name="fk_assessments_written_run_id_runs"
    ),
    sa.Index("ix_assessments_account", "account_id", "target", "status"),
    sa.Index("ix_assessments_target_status_account", "target", "status", "account_id"),
    sa.Index("ix_assessments_run_status", "run_id", "status", "id"),
    sa.Index("ix_assessments_written_run", "written_run_id", "status", "id"),
)

schedule = sa.Table(
    "schedule",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("account_id", sa.String(255), primary_key=True),
    sa.Column("grade", sa.String(32), nullable=True),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_schedule_due", "target", "assessed_at"),
)

failures_table = sa.Table(
    "failures",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("record_id", sa.String(255), nullable=False),
    sa.Column("field", sa.String(255), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("code", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_failures_run_id_runs"),
    sa.Index("ix_failures_open", "target", "resolved_at", "record_id"),
    sa.Index("ix_failures_run", "run_id"),
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("account_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("followup_ref", sa.String(500), nullable=True),
    sa.Column("followed_up_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_events_run_id_runs"),
    sa.Index("ix_events_target_followup", "target", "followup_ref"),
    sa.Index("ix_events_run", "run_id"),
)


# --------------------------------------------------------------------------- helpers


def default_state_url() -> str:
    """``$CRMQUAL_STATE_URL``, else the SQLite file under the XDG state directory."""
    configured = os.environ.get("CRMQUAL_STATE_URL")
    if configured:
        return configured
    xdg = os.environ.get("XDG_STATE_HOME", "")
    root = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return f"sqlite:///{root / 'crmqual' / 'state.sqlite'}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _this_host() -> str:
    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as alive)."""
    if pid <= 0:  # 0 and negatives address process groups; never treat them as dead
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to another user
        return True
    return True


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


def _json_dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


#: Assessment ids a prune deletes in one transaction.
PRUNE_RANGE = 50_000


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _require_aware(value: datetime | None, name: str) -> None:
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


# --------------------------------------------------------------------------- the store


class StateStore:
    """crmqual's durable state in one SQL database; see the module docstring for contracts.

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
        self._clock = clock or _utcnow
        backend = self._url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StateStoreError(
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
                json_serializer=_json_dumps,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            )
            sa.event.listen(self._engine, "connect", _sqlite_on_connect)
            sa.event.listen(self._engine, "begin", _sqlite_on_begin)
        else:
            self._engine = sa.create_engine(
                self._url, json_serializer=_json_dumps, pool_pre_ping=True
            )
        try:
            self._upgrade()
        except sa.exc.DBAPIError as exc:
            self._engine.dispose()
            raise StateStoreError(
                f"cannot open the state store {self.safe_url}: {exc.orig}"
            ) from None
        logger.debug("state store %s is ready", self.safe_url)

    # -- lifecycle

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and maintenance; prefer the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection. The store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StateStore({self.safe_url!r})"

    def _upgrade(self) -> None:
        """Run Alembic ``upgrade head`` in one transaction (a no-op when already at head)."""
        from alembic import command

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
                    command.upgrade(config, "head")
            finally:
                if self._sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed on normal exit."""
        with self._engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table) if self._sqlite else postgresql.insert(table)

    # -- lock

    def acquire_lock(
        self, target: str, run_id: int, *, stale_after: timedelta = timedelta(minutes=10)
    ) -> None:
        """Take the lock of ``target`` for ``run_id``, or raise :class:`LockHeldError`.

        A lock left by a killed run is taken over: at once when it was taken on this host and
        its process is gone; from another host once its heartbeat is older than
        ``stale_after``. Taking it again for the same run and process only refreshes it.
        """
        host, pid = _this_host(), os.getpid()
        holder: LockHolder | None = None
        for _attempt in range(_LOCK_ATTEMPTS):
            now = self._clock()
            mine = {
                "hostname": host,
                "pid": pid,
                "run_id": run_id,
                "acquired_at": now,
                "heartbeat_at": now,
            }
            with self._write() as conn:
                insert = (
                    self._insert(locks)
                    .values(target=target, **mine)
                    .on_conflict_do_nothing(index_elements=["target"])
                )
                if conn.execute(insert).rowcount == 1:
                    return
                row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
                if row is None:  # released between our INSERT and SELECT: try again
                    continue
                holder = _lock_holder(row)
                if (holder.hostname, holder.pid, holder.run_id) == (host, pid, run_id):
                    self._touch_lock(conn, target, run_id, now)
                    return
                if not self._may_take_over(holder, host, now, stale_after):
                    raise LockHeldError(self._lock_message(target, holder, stale_after))
                # Compare-and-swap: only if nobody changed the row since we read it.
                swap = (
                    sa.update(locks)
                    .where(
                        locks.c.target == target,
                        locks.c.hostname == holder.hostname,
                        locks.c.pid == holder.pid,
                        locks.c.run_id == holder.run_id,
                        locks.c.heartbeat_at == holder.heartbeat_at,
                    )
                    .values(**mine)
                )
                if conn.execute(swap).rowcount == 1:
                    logger.warning(
                        "took over the lock of %r left by run %s (pid %s on %s, last heartbeat %s)",
                        target,
                        holder.run_id,
                        holder.pid,
                        holder.hostname,
                        holder.heartbeat_at.isoformat(),
                    )
                    return
        if holder is None:  # pragma: no cover - the row kept appearing and vanishing
            raise LockHeldError(f"could not take the lock of {target!r}: too much contention")
        raise LockHeldError(self._lock_message(target, holder, stale_after))

    @staticmethod
    def _may_take_over(
        holder: LockHolder, host: str, now: datetime, stale_after: timedelta
    ) -> bool:
        if holder.hostname == host:
            # Same host: the process table is the truth, no need to wait for staleness.
            return not _pid_alive(holder.pid)
        return now - holder.heartbeat_at > stale_after

    def _lock_message(self, target: str, holder: LockHolder, stale_after: timedelta) -> str:
        minutes = stale_after.total_seconds() / 60
        return (
            f"another crmqual run holds the lock of {target!r}: run {holder.run_id}, "
            f"pid {holder.pid} on host {holder.hostname!r}, since "
            f"{holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC (last heartbeat "
            f"{holder.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC). Wait for it to finish and try "
            f"again. If that run was killed, its lock is taken over automatically: on host "
            f"{holder.hostname!r} as soon as pid {holder.pid} is gone, from any other host once "
            f"its heartbeat is older than {minutes:g} minutes. State store: {self.safe_url}"
        )

    @staticmethod
    def _touch_lock(conn: Connection, target: str, run_id: int, now: datetime) -> int:
        result = conn.execute(
            sa.update(locks)
            .where(locks.c.target == target, locks.c.run_id == run_id)
            .values(heartbeat_at=now)
        )
        return result.rowcount

    def heartbeat(self, target: str, run_id: int) -> None:
        """Show that ``run_id`` is alive; call it after every batch, well within ``stale_after``.

        Raises :class:`LockHeldError` when the run no longer holds the lock (another run
        took it over as stale): the caller must stop writing.
        """
        with self._write() as conn:
            if self._touch_lock(conn, target, run_id, self._clock()) == 0:
                raise LockHeldError(
                    f"run {run_id} no longer holds the lock of {target!r} (it was taken over "
                    "after its heartbeat went stale); stopping so two runs do not write at once"
                )

    def lock_holder(self, target: str) -> LockHolder | None:
        """Who holds the lock of ``target`` now, if anyone (alive or not)."""
        with self._read() as conn:
            row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
        return None if row is None else _lock_holder(row)

    def force_release_lock(self, target: str) -> LockHolder | None:
        """Remove the lock of ``target`` whoever holds it; returns who held it.

        For an operator who knows the holder is gone but it cannot be detected (its pid
        was reused on the same host, or its host is gone and waiting is not an option).
        """
        with self._write() as conn:
            row = conn.execute(sa.select(locks).where(locks.c.target == target)).one_or_none()
            if row is None:
                return None
            holder = _lock_holder(row)
            conn.execute(
                sa.delete(locks).where(
                    locks.c.target == target,
                    locks.c.run_id == holder.run_id,
                    locks.c.heartbeat_at == holder.heartbeat_at,
                )
            )
        logger.warning(
            "removed the lock of %r held by run %s (pid %s on %s)",
            target,
            holder.run_id,
            holder.pid,
            holder.hostname,
        )
        return holder

    def release_lock(self, target: str, run_id: int) -> None:
        """Release the lock of ``target`` if ``run_id`` still holds it; otherwise do nothing."""
        with self._write() as conn:
            conn.execute(sa.delete(locks).where(locks.c.target == target, locks.c.run_id == run_id))

    # -- runs

    def start_run(
        self,
        target: str,
        *,
        mode: str,
        dry_run: bool,
        signpost: datetime | None,
        policy_version: str,
        mapping_hash: str,
    ) -> int:
        """Record a new run with status ``"running"``; returns its id (increasing)."""
        _require_aware(signpost, "signpost")
        with self._write() as conn:
            result = conn.execute(
                sa.insert(runs).values(
                    target=target,
                    mode=mode,
                    dry_run=dry_run,
                    status=RUN_RUNNING,
                    started_at=self._clock(),
                    signpost=signpost,
                    policy_version=policy_version,
                    mapping_hash=mapping_hash,
                    counts={},
                    summary={},
                )
            )
            pk = result.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict[str, int],
        watermark: datetime | None,
        summary: dict[str, Any],
    ) -> None:
        """Store the end of a run. Raises ``KeyError`` for an unknown run."""
        _require_aware(watermark, "watermark")
        with self._write() as conn:
            result = conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(
                    status=status,
                    finished_at=self._clock(),
                    counts=dict(counts),
                    watermark=watermark,
                    summary=summary,
                )
            )
            if result.rowcount == 0:
                raise KeyError(f"no run {run_id} in the state store")

    def list_runs(self, target: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs (of ``target``, or of every target), newest first."""
        query = sa.select(runs).order_by(runs.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(runs.c.target == target)
        with self._read() as conn:
            return [_run(row) for row in conn.execute(query)]

    def get_run(self, run_id: int) -> RunRecord | None:
        with self._read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one_or_none()
        return None if row is None else _run(row)

    # -- cursor

    def get_cursor(self, target: str) -> Cursor | None:
        with self._read() as conn:
            row = conn.execute(sa.select(cursors).where(cursors.c.target == target)).one_or_none()
        if row is None:
            return None
        return Cursor(
            watermark=row.watermark,
            policy_version=row.policy_version,
            mapping_hash=row.mapping_hash,
            updated_at=row.updated_at,
            run_id=row.run_id,
        )

    def set_cursor(
        self,
        target: str,
        *,
        watermark: datetime | None,
        policy_version: str,
        mapping_hash: str,
        run_id: int,
    ) -> None:
        """Replace the cursor of ``target`` (call only after what it covers is recorded)."""
        _require_aware(watermark, "watermark")
        values = {
            "target": target,
            "watermark": watermark,
            "policy_version": policy_version,
            "mapping_hash": mapping_hash,
            "updated_at": self._clock(),
            "run_id": run_id,
        }
        stmt = self._insert(cursors).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["target"],
            set_={key: stmt.excluded[key] for key in values if key != "target"},
        )
        with self._write() as conn:
            conn.execute(stmt)

    # -- assessments

    def record_pending(self, run_id: int, target: str, rows: Sequence[AssessmentIn]) -> None:
        """Record, in one transaction, the assessments about to be sent to the CRM.

        Committed (durable) when this returns: call it before sending the batch.
        """
        if not rows:
            return
        params = []
        for row in rows:
            _require_aware(row.assessed_at, "assessed_at")
            params.append(
                {
                    "run_id": run_id,
                    "written_run_id": None,
                    "target": target,
                    "account_id": row.account_id,
                    "assessed_at": row.assessed_at,
                    "account": row.account,
                    "outputs": row.outputs,
                    "native": row.native,
                    "previous_native": row.previous_native,
                    "policy_version": row.policy_version,
                    "grade": row.grade,
                    "reasons": row.reasons,
                    "status": AssessmentStatus.PENDING.value,
                    "written_at": None,
                }
            )
        with self._write() as conn:
            for chunk in _chunks(params):
                conn.execute(sa.insert(assessments), list(chunk))

    def pending(
        self,
        target: str,
        account_ids: Sequence[str] | None = None,
        *,
        before_run: int | None = None,
    ) -> list[AssessmentRecord]:
        """Rows still pending (left by a killed run), oldest first; optionally only these
        accounts' rows, or only rows recorded by runs before ``before_run``."""
        conditions = [
            assessments.c.target == target,
            assessments.c.status == AssessmentStatus.PENDING.value,
        ]
        if before_run is not None:
            conditions.append(assessments.c.run_id < before_run)
        if account_ids is None:
            return self._assessments(*conditions)
        found: list[AssessmentRecord] = []
        for chunk in _chunks(_unique(account_ids)):
            found += self._assessments(*conditions, assessments.c.account_id.in_(chunk))
        return found

    def pending_ids(self, target: str, *, before_run: int | None = None) -> list[str]:
        """The accounts with a pending row (of runs before ``before_run``), oldest first."""
        conditions = [
            assessments.c.target == target,
            assessments.c.status == AssessmentStatus.PENDING.value,
        ]
        if before_run is not None:
            conditions.append(assessments.c.run_id < before_run)
        query = (
            sa.select(assessments.c.account_id, sa.func.min(assessments.c.id).label("first"))
            .where(*conditions)
            .group_by(assessments.c.account_id)
            .order_by("first")
        )
        with self._read() as conn:
            return [row.account_id for row in conn.execute(query)]

    def pending_writes_of_run(
        self, target: str, run_id: int, *, after_id: int = 0, limit: int = CHUNK
    ) -> list[WriteRow]:
        """The next ``limit`` pending rows recorded by ``run_id`` after row ``after_id``, with
        only what sending them needs (row id, account, native values, the CRM's values
        before). Keyset paging: a run sends millions of queued writes without holding them."""
        return self._write_rows(
            (
                assessments.c.target == target,
                assessments.c.run_id == run_id,
                assessments.c.status == AssessmentStatus.PENDING.value,
            ),
            after_id,
            limit,
        )

    def _write_rows(
        self, conditions: Sequence[sa.ColumnElement[bool]], after_id: int, limit: int
    ) -> list[WriteRow]:
        """The next ``limit`` rows after row ``after_id`` that meet ``conditions``, in id
        order, as ``WriteRow``s."""
        a = assessments
        query = (
            sa.select(a.c.id, a.c.account_id, a.c.native, a.c.previous_native)
            .where(*conditions, a.c.id > after_id)
            .order_by(a.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [
                WriteRow(row.id, row.account_id, row.native, row.previous_native)
                for row in conn.execute(query)
            ]

    def mark_written(self, target: str, account_ids: Sequence[str], *, run_id: int) -> None:
        """The pending rows of these accounts were applied by the CRM.

        The newest pending row of each account becomes written (``written_at`` = now,
        ``written_run_id`` = ``run_id``); older pending rows of the same account, which the
        CRM no longer shows, become abandoned. Accounts without a pending row are ignored.
        """
        newer = assessments.alias("newer")
        now = self._clock()
        with self._write() as conn:
            for chunk in _chunks(_unique(account_ids)):
                newest = (
                    sa.select(sa.func.max(newer.c.id))
                    .where(
                        newer.c.target == target,
                        newer.c.status == AssessmentStatus.PENDING.value,
                        newer.c.account_id.in_(chunk),
                    )
                    .group_by(newer.c.account_id)
                )
                conn.execute(
                    sa.update(assessments)
                    .where(assessments.c.id.in_(newest))
                    .values(
                        status=AssessmentStatus.WRITTEN.value,
                        written_at=now,
                        written_run_id=run_id,
                    )
                )
                self._set_pending(conn, target, chunk, status=AssessmentStatus.ABANDONED)

    def mark_abandoned(self, target: str, account_ids: Sequence[str]) -> None:
        """The pending rows of these accounts were never applied (e.g. the CRM differs)."""
        with self._write() as conn:
            for chunk in _chunks(_unique(account_ids)):
                self._set_pending(conn, target, chunk, status=AssessmentStatus.ABANDONED)

    def mark_failed(self, target: str, account_ids: Sequence[str], *, run_id: int) -> None:
        """The CRM rejected the writes of these accounts' pending rows (in run ``run_id``)."""
        with self._write() as conn:
            for chunk in _chunks(_unique(account_ids)):
                self._set_pending(
                    conn, target, chunk, status=AssessmentStatus.FAILED, written_run_id=run_id
                )

    @staticmethod
    def _set_pending(
        conn: Connection,
        target: str,
        account_ids: Sequence[str],
        *,
        status: AssessmentStatus,
        written_run_id: int | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value}
        if written_run_id is not None:
            values["written_run_id"] = written_run_id
        conn.execute(
            sa.update(assessments)
            .where(
                assessments.c.target == target,
                assessments.c.status == AssessmentStatus.PENDING.value,
                assessments.c.account_id.in_(account_ids),
            )
            .values(**values)
        )

    def last_written(self, target: str, account_ids: Sequence[str]) -> dict[str, AssessmentRecord]:
        """The latest written row (highest id) of each account that has one.

        One query per :data:`CHUNK` account ids, so one per page of records.
        """
        found: dict[str, AssessmentRecord] = {}
        latest = assessments.alias("latest")
        with self._read() as conn:
            for chunk in _chunks(_unique(account_ids)):
                newest = (
                    sa.select(sa.func.max(latest.c.id))
                    .where(
                        latest.c.target == target,
                        latest.c.status == AssessmentStatus.WRITTEN.value,
                        latest.c.account_id.in_(chunk),
                    )
                    .group_by(latest.c.account_id)
                )
                for row in conn.execute(sa.select(assessments).where(assessments.c.id.in_(newest))):
                    found[row.account_id] = _assessment(row)
        return found

    def history(self, target: str | None, account_id: str) -> list[AssessmentRecord]:
        """Every row of ``account_id`` (in ``target``, or in any target), oldest first."""
        conditions = [assessments.c.account_id == account_id]
        if target is not None:
            conditions.append(assessments.c.target == target)
        return self._assessments(*conditions)

    def written_in_run(self, run_id: int) -> list[AssessmentRecord]:
        """The rows run ``run_id`` wrote (including pending rows it confirmed on resume)."""
        return self._assessments(
            assessments.c.written_run_id == run_id,
            assessments.c.status == AssessmentStatus.WRITTEN.value,
        )

    def writes_of_run(
        self, run_id: int, *, after_id: int = 0, limit: int = CHUNK
    ) -> list[WriteRow]:
        """The next ``limit`` rows run ``run_id`` wrote after row ``after_id``, in id order, the
        newest of each account only, with only what undoing them needs. Keyset paging: a
        revert of a million records never holds them all."""
        return self._write_rows(self._newest_writes_of(run_id), after_id, limit)

    def count_written_in_run(self, run_id: int) -> int:
        """How many accounts run ``run_id`` wrote (what ``writes_of_run`` pages through)."""
        query = sa.select(sa.func.count()).where(*self._newest_writes_of(run_id))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    @staticmethod
    def _newest_writes_of(run_id: int) -> tuple[sa.ColumnElement[bool], ...]:
        # A run that resumed a killed one can have written an account twice: the killed
        # run's pending row it found applied, then its own. Only the newer one counts.
        a, newer = assessments, assessments.alias("newer")
        return (
            a.c.written_run_id == run_id,
            a.c.status == AssessmentStatus.WRITTEN.value,
            ~sa.exists().where(
                newer.c.account_id == a.c.account_id,
                newer.c.target == a.c.target,
                newer.c.status == AssessmentStatus.WRITTEN.value,
                newer.c.written_run_id == run_id,
                newer.c.id > a.c.id,
            ),
        )

    def prune(self, target: str, before: datetime, *, dry_run: bool = False) -> int:
        """Delete the assessment rows of runs started before ``before`` that nothing needs any
        more; the number deleted (or, with ``dry_run``, that would be).

        Kept whatever their age: every pending row, and each account's newest written row
        (it tells the next sync which values are crmqual's, and what a revert restores).
        Deleted: older written rows of an account, and abandoned and failed rows. Works run by
        run in id ranges, one transaction each, so a million rows never make one transaction.
        """
        _require_aware(before, "before")
        a, newer = assessments, assessments.alias("newer")
        superseded = sa.exists().where(
            newer.c.target == a.c.target,
            newer.c.status == AssessmentStatus.WRITTEN.value,
            newer.c.account_id == a.c.account_id,
            newer.c.id > a.c.id,
        )
        kinds = (
            ([AssessmentStatus.ABANDONED.value, AssessmentStatus.FAILED.value], ()),
            ([AssessmentStatus.WRITTEN.value], (superseded,)),
        )
        old_runs = sa.select(runs.c.id).where(runs.c.target == target, runs.c.started_at < before)
        with self._read() as conn:
            run_ids = list(conn.execute(old_runs.order_by(runs.c.id)).scalars())
        deleted = 0
        for run_id in run_ids:
            for statuses, more in kinds:
                of_run = (a.c.target == target, a.c.run_id == run_id, a.c.status.in_(statuses))
                with self._read() as conn:
                    span = sa.select(sa.func.min(a.c.id), sa.func.max(a.c.id)).where(*of_run)
                    low, high = conn.execute(span).one()
                if low is None:
                    continue
                for start in range(int(low) - 1, int(high), PRUNE_RANGE):
                    where = (*of_run, a.c.id > start, a.c.id <= start + PRUNE_RANGE, *more)
                    if dry_run:
                        with self._read() as conn:
                            count = sa.select(sa.func.count()).select_from(a).where(*where)
                            deleted += int(conn.execute(count).scalar_one())
                    else:
                        with self._write() as conn:
                            deleted += conn.execute(sa.delete(a).where(*where)).rowcount
        return deleted

    def _assessments(self, *conditions: sa.ColumnElement[bool]) -> list[AssessmentRecord]:
        query = sa.select(assessments).where(*conditions).order_by(assessments.c.id)
        with self._read() as conn:
            return [_assessment(row) for row in conn.execute(query)]

    # -- schedule

    def touch_accounts(self, target: str, rows: Sequence[tuple[str, str | None, datetime]]) -> None:
        """Upsert ``(account_id, grade, assessed_at)`` for every account assessed.

        When an account appears twice in ``rows``, its latest ``assessed_at`` wins.
        """
        latest: dict[str, tuple[str | None, datetime]] = {}
        for account_id, grade, assessed_at in rows:
            _require_aware(assessed_at, "assessed_at")
            seen = latest.get(account_id)
            if seen is None or assessed_at >= seen[1]:
                latest[account_id] = (grade, assessed_at)
        if not latest:
            return
        params = [
            {"target": target, "account_id": account_id, "grade": grade, "assessed_at": at}
            for account_id, (grade, at) in latest.items()
        ]
        stmt = self._insert(schedule)
        stmt = stmt.on_conflict_do_update(
            index_elements=["target", "account_id"],
            set_={"grade": stmt.excluded.grade, "assessed_at": stmt.excluded.assessed_at},
        )
        with self._write() as conn:
            for chunk in _chunks(params):
                conn.execute(stmt, list(chunk))

    def due_accounts(
        self,
        target: str,
        as_of: datetime,
        intervals: Mapping[str, timedelta],
        default_interval: timedelta,
    ) -> list[str]:
        """Accounts whose ``assessed_at + interval(grade) <= as_of``, least recent first.

        ``intervals`` maps a grade to its re-assessment interval; accounts with another grade
        or none use ``default_interval``.
        """
        _require_aware(as_of, "as_of")
        col = schedule.c
        due: list[sa.ColumnElement[bool]] = [
            sa.and_(col.grade == grade, col.assessed_at <= as_of - interval)
            for grade, interval in intervals.items()
        ]
        other_grade = (
            sa.or_(col.grade.is_(None), col.grade.not_in(list(intervals)))
            if intervals
            else sa.true()
        )
        due.append(sa.and_(other_grade, col.assessed_at <= as_of - default_interval))
        query = (
            sa.select(col.account_id)
            .where(col.target == target, sa.or_(*due))
            .order_by(col.assessed_at, col.account_id)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    # -- failures

    def record_failures(self, run_id: int, target: str, failures: Sequence[FailureIn]) -> None:
        """Record per-record failures of a run; they stay open until resolved."""
        if not failures:
            return
        now = self._clock()
        params = [
            {
                "run_id": run_id,
                "target": target,
                "record_id": failure.record_id,
                "field": failure.field,
                "reason": failure.reason,
                "code": failure.code,
                "created_at": now,
                "resolved_at": None,
            }
            for failure in failures
        ]
        with self._write() as conn:
            for chunk in _chunks(params):
                conn.execute(sa.insert(failures_table), list(chunk))

    def open_failures(self, target: str) -> list[str]:
        """Ids of records with an unresolved failure (to retry), sorted."""
        query = (
            sa.select(failures_table.c.record_id)
            .where(failures_table.c.target == target, failures_table.c.resolved_at.is_(None))
            .distinct()
            .order_by(failures_table.c.record_id)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def resolve_failures(self, target: str, record_ids: Sequence[str]) -> None:
        """Close every open failure of these records (they have now succeeded)."""
        now = self._clock()
        with self._write() as conn:
            for chunk in _chunks(_unique(record_ids)):
                conn.execute(
                    sa.update(failures_table)
                    .where(
                        failures_table.c.target == target,
                        failures_table.c.resolved_at.is_(None),
                        failures_table.c.record_id.in_(chunk),
                    )
                    .values(resolved_at=now)
                )

    def failures_of_run(self, run_id: int) -> list[FailureRecord]:
        query = (
            sa.select(failures_table)
            .where(failures_table.c.run_id == run_id)
            .order_by(failures_table.c.id)
        )
        with self._read() as conn:
            return [
                FailureRecord(
                    id=row.id,
                    run_id=row.run_id,
                    target=row.target,
                    record_id=row.record_id,
                    field=row.field,
                    reason=row.reason,
                    code=row.code,
                    created_at=row.created_at,
                    resolved_at=row.resolved_at,
                )
                for row in conn.execute(query)
            ]

    # -- events

    def record_events(self, run_id: int, target: str, events_in: Sequence[EventIn]) -> list[str]:
        """Insert the events whose ``event_id`` is not stored yet; returns those new ids.

        Idempotent: recording the same events again (a rerun, a resumed run) adds nothing and
        returns ``[]``. The order of the returned ids follows ``events_in``.
        """
        unique: dict[str, EventIn] = {}
        for event in events_in:
            unique.setdefault(event.event_id, event)  # the first of duplicates wins
        if not unique:
            return []
        now = self._clock()
        params = [
            {
                "event_id": event.event_id,
                "run_id": run_id,
                "target": target,
                "account_id": event.account_id,
                "kind": event.kind,
                "severity": event.severity,
                "payload": event.payload,
                "created_at": now,
            }
            for event in unique.values()
        ]
        stmt = (
            self._insert(events_table)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(events_table.c.event_id)
        )
        inserted: set[str] = set()
        with self._write() as conn:
            for chunk in _chunks(params):
                inserted.update(conn.execute(stmt, list(chunk)).scalars())
        return [
            event_id
            for event_id in _unique([e.event_id for e in events_in])
            if event_id in inserted
        ]

    def events(self, target: str | None = None, run_id: int | None = None) -> list[EventRecord]:
        """Events (of a target, of a run, or all), in the order they were first recorded."""
        conditions: list[sa.ColumnElement[bool]] = []
        if target is not None:
            conditions.append(events_table.c.target == target)
        if run_id is not None:
            conditions.append(events_table.c.run_id == run_id)
        return self._events(*conditions)

    def unfollowed_events(self, target: str) -> list[EventRecord]:
        """Events of ``target`` with no follow-up item yet."""
        return self._events(events_table.c.target == target, events_table.c.followup_ref.is_(None))

    def mark_followed_up(self, event_id: str, ref: str) -> None:
        """Store the CRM's reference of the follow-up item made for ``event_id``.

        Raises ``KeyError`` for an unknown event.
        """
        with self._write() as conn:
            result = conn.execute(
                sa.update(events_table)
                .where(events_table.c.event_id == event_id)
                .values(followup_ref=ref, followed_up_at=self._clock())
            )
            if result.rowcount == 0:
                raise KeyError(f"no event {event_id!r} in the state store")

    def _events(self, *conditions: sa.ColumnElement[bool]) -> list[EventRecord]:
        query = sa.select(events_table).where(*conditions).order_by(events_table.c.id)
        with self._read() as conn:
            return [
                EventRecord(
                    event_id=row.event_id,
                    run_id=row.run_id,
                    target=row.target,
                    account_id=row.account_id,
                    kind=row.kind,
                    severity=row.severity,
                    payload=row.payload,
                    created_at=row.created_at,
                    followup_ref=row.followup_ref,
                    followed_up_at=row.followed_up_at,
                )
                for row in conn.execute(query)
            ]


def _lock_holder(row: sa.Row[Any]) -> LockHolder:
    return LockHolder(
        hostname=row.hostname,
        pid=row.pid,
        run_id=row.run_id,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
    )


def _run(row: sa.Row[Any]) -> RunRecord:
    return RunRecord(
        run_id=row.id,
        target=row.target,
        mode=row.mode,
        dry_run=bool(row.dry_run),
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        signpost=row.signpost,
        watermark=row.watermark,
        policy_version=row.policy_version,
        mapping_hash=row.mapping_hash,
        counts=dict(row.counts),
        summary=dict(row.summary),
    )


def _assessment(row: sa.Row[Any]) -> AssessmentRecord:
    return AssessmentRecord(
        id=row.id,
        run_id=row.run_id,
        written_run_id=row.written_run_id,
        target=row.target,
        account_id=row.account_id,
        assessed_at=row.assessed_at,
        account=row.account,
        outputs=row.outputs,
        native=row.native,
        previous_native=row.previous_native,
        policy_version=row.policy_version,
        grade=row.grade,
        reasons=row.reasons,
        status=AssessmentStatus(row.status),
        written_at=row.written_at,
    )
