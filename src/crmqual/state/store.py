"""The state store as callers open it: every part of :mod:`crmqual.state` in one object."""

from __future__ import annotations

from crmqual.state.cursors import Cursors
from crmqual.state.events import Events
from crmqual.state.failures import Failures
from crmqual.state.field_names import FieldNames
from crmqual.state.fleet_stops import FleetStops
from crmqual.state.lab import Lab
from crmqual.state.ledger import Ledger
from crmqual.state.left_alone import LeftAlone
from crmqual.state.runs import Runs
from crmqual.state.schedule import Schedule


class StateStore(
    Runs, Cursors, Ledger, Schedule, Failures, Events, FieldNames, LeftAlone, Lab, FleetStops
):
    """crmqual's durable state in one SQL database; see :mod:`crmqual.state` for contracts.

    ``StateStore(url)`` opens it (creating and migrating as needed); use it as a context
    manager or call :meth:`close`. Each concern's methods come from its own class (runs and
    the lock, cursors, the ledger of assessment rows, the review schedule, failures, events,
    output fields found by label, records left alone, the policy lab's outcomes and backtests),
    all over the one connection of :class:`~crmqual.state.database.Database`. Safe to share
    between threads (one connection per call, from the engine's pool) and, via the lock,
    between processes.
    """
