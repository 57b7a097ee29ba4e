"""The state store: runs, the per-target lock, cursors, assessments, schedule, failures, events.

One module per concern, one class each over the shared :class:`~crmqual.state.database.Database`;
:class:`StateStore` is all of them together, the one object callers open:

    ``schema``     the tables and the ``UtcDateTime`` type
    ``database``   opening: the URL, the SQLite file and settings, the Alembic upgrade
    ``runs``       the runs table, the lock, its heartbeat and takeover
    ``cursors``    where the next incremental run starts
    ``ledger``     assessment rows: pending, written, failed, abandoned; history; prune
    ``schedule``   when each account is due for review
    ``failures``   per-record failures, open until the record succeeds
    ``events``     monitoring events and their follow-up items
    ``left_alone`` records a run left alone (override set, or edited by hand), and why
    ``lab``        the policy lab: portfolio snapshots, outcomes, backtests and their rows
    ``fleet_stops`` orgs of a fleet stopped until an admin resumes them

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
    ``crmqual.state.schema``. Use ``op.batch_alter_table`` for anything SQLite cannot ``ALTER``.
"""

from crmqual.errors import LockHeldError
from crmqual.state.cursors import Cursor
from crmqual.state.database import CHUNK, alembic_config, default_state_url
from crmqual.state.events import EventIn, EventRecord
from crmqual.state.failures import FailureIn, FailureRecord
from crmqual.state.fleet_stops import FleetStop
from crmqual.state.lab import BacktestRecord, OutcomeIn, OutcomeRecord, PortfolioRow
from crmqual.state.ledger import AssessmentIn, AssessmentRecord, AssessmentStatus, WriteRow
from crmqual.state.left_alone import LeftAloneRecord
from crmqual.state.runs import LockHolder, RunRecord
from crmqual.state.schema import metadata
from crmqual.state.store import StateStore

__all__ = [
    "CHUNK",
    "AssessmentIn",
    "AssessmentRecord",
    "AssessmentStatus",
    "BacktestRecord",
    "Cursor",
    "EventIn",
    "EventRecord",
    "FailureIn",
    "FailureRecord",
    "FleetStop",
    "LeftAloneRecord",
    "LockHeldError",
    "LockHolder",
    "OutcomeIn",
    "OutcomeRecord",
    "PortfolioRow",
    "RunRecord",
    "StateStore",
    "WriteRow",
    "alembic_config",
    "default_state_url",
    "metadata",
]
