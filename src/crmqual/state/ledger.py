"""The ledger of assessment rows: recorded as pending before a batch is sent, then written,
failed or abandoned; what a run wrote (for a revert), each account's history, and pruning."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crmqual.state.database import CHUNK, chunks, require_aware, unique
from crmqual.state.reading import AS_GIVEN, SLIM, Layout, RowReader, RowReading, reason_text_key
from crmqual.state.rows import (
    ACCOUNT_COLUMNS,
    RESULT_COLUMNS,
    account_columns,
    account_dict,
    account_values,
    compact_previous,
    encode_inputs,
    output_columns,
    result_values,
)
from crmqual.state.schema import (
    SNAPSHOT_COLUMNS,
    assessments,
    backtest_assessments,
    outcomes,
    reason_texts,
    runs,
)

if TYPE_CHECKING:
    from crmqual.engine import Assessment
    from crmqual.model import Account

#: Assessment ids a prune deletes in one transaction.
PRUNE_RANGE = 50_000
#: How much history a prune keeps per account: its newest written row in each such period.
KEEP_PERIODS = ("month", "quarter", "year", "none")


class AssessmentStatus(StrEnum):
    PENDING = "pending"  # recorded before the batch is sent; unknown whether the CRM has it
    WRITTEN = "written"
    FAILED = "failed"  # the CRM rejected the write
    ABANDONED = "abandoned"  # never applied (or superseded by a newer pending row)


@dataclass(frozen=True, slots=True)
class AssessmentIn:
    """An assessment crmqual decided to write to the CRM."""

    account_id: str
    assessed_at: datetime
    #: The mapped common-model account, so the grade can be reproduced: the Account itself
    #: or its JSON values as a dict.
    account: dict[str, Any] | Account
    outputs: dict[str, Any]  # canonical outputs
    native: dict[str, Any]  # native field values to write
    previous_native: dict[str, Any]  # the CRM's output values before the write (for revert)
    policy_version: str
    grade: str | None
    reasons: list[dict[str, Any]]
    #: The engine's assessment behind a sync's row: given, the row is kept slim (outputs
    #: and reasons are taken from it, native values rendered from the run's layout; see
    #: ``crmqual.state.rows``) and ``outputs``, ``native`` and ``reasons`` are not read.
    result: Assessment | None = None
    #: Inputs of ``account`` the row does not keep (``crmqual.state.rows.PERSONAL``).
    leave_out: frozenset[str] = frozenset()
    #: The account's stability snapshot bins as a slim row keeps them: (the key of their
    #: bands, the bins packed; ``crmqual.stability.SnapshotCounts.kept``), or None.
    snapshot: tuple[int, bytes] | None = None


@dataclass(frozen=True)
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
    policy_version: str
    grade: str | None
    status: AssessmentStatus
    written_at: datetime | None
    _row: Any = field(repr=False, compare=False)
    _reader: RowReader = field(repr=False, compare=False)

    @functools.cached_property
    def account(self) -> dict[str, Any]:
        """The account's inputs as assessed (null values left out of a slim row)."""
        return self._reader.account(self._row)

    @functools.cached_property
    def outputs(self) -> dict[str, Any]:
        """Canonical outputs (``crmqual.outputs.canonical`` and ``downgraded_at``)."""
        return self._reader.outputs(self._row)

    def as_previous(self) -> Assessment | None:
        """The row as the engine's ``previous`` (``RowReader.as_previous``)."""
        return self._reader.as_previous(self._row)

    @functools.cached_property
    def native(self) -> dict[str, Any]:
        """The native values the row stands for (for a sync's row: all output fields)."""
        return self._reader.native(self._row)

    @functools.cached_property
    def previous_native(self) -> dict[str, Any]:
        """The CRM's values before the write."""
        return self._reader.previous(self._row, self.native)

    @functools.cached_property
    def reasons(self) -> list[dict[str, Any]]:
        return self._reader.reasons(self._row)


@dataclass(frozen=True, slots=True)
class WriteRow:
    """One write's row as undoing it needs: the native values it carries and the CRM's
    values before it."""

    id: int
    account_id: str
    native: dict[str, Any]
    previous_native: dict[str, Any]


class Ledger(RowReading):
    """The assessments table."""

    def record_layout(self, run_id: int, layout: Layout) -> None:
        """How run ``run_id``'s slim rows render their native values; before its first row."""
        with self._write() as conn:
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(layout=layout.as_json()))
        self._reader.layouts[run_id] = layout

    def record_pending(
        self,
        run_id: int,
        target: str,
        rows: Sequence[AssessmentIn],
    ) -> None:
        """Record, in one transaction, the assessments about to be sent to the CRM.

        Committed (durable) when this returns: call it before sending the batch. A row with
        its ``result`` is kept slim (``crmqual.state.rows``); the run must have recorded its
        layout first.
        """
        if not rows:
            return
        for row in rows:
            require_aware(row.assessed_at, "assessed_at")
        texts: dict[str, tuple[str, str]] = {}
        batches: list[Callable[[Connection], None]] = []
        for as_given, group in itertools.groupby(rows, key=lambda row: row.result is None):
            if as_given:
                batches.append(self._as_given_rows(run_id, target, list(group)))
            else:
                batches.append(self._slim_rows(run_id, target, list(group), texts))
        with self._write() as conn:
            if texts:
                # In key order: runs of other orgs sharing a PostgreSQL store insert the same
                # texts at once, and rows locked in two orders deadlock (one run then fails).
                new = [{"key": k, "en": en, "zh": zh} for k, (en, zh) in sorted(texts.items())]
                conn.execute(self._insert(reason_texts).on_conflict_do_nothing(), new)
            for insert in batches:
                insert(conn)

    def _as_given_rows(
        self, run_id: int, target: str, rows: Sequence[AssessmentIn]
    ) -> Callable[[Connection], None]:
        """Rows kept as given (no ``result``): how to insert them."""
        params = [self._row_params(run_id, target, row) for row in rows]
        # Columns no row of the batch fills are left to their default (NULL): each column
        # given costs every row its bind processing.
        unused = [k for k in _SELDOM if all(p[k] is None for p in params)]
        if unused:
            params = [{k: v for k, v in p.items() if k not in unused} for p in params]

        def insert(conn: Connection) -> None:
            for chunk in chunks(params):
                conn.execute(sa.insert(assessments), list(chunk))

        return insert

    def _slim_rows(
        self,
        run_id: int,
        target: str,
        rows: Sequence[AssessmentIn],
        texts: dict[str, tuple[str, str]],
    ) -> Callable[[Connection], None]:
        """A sync's rows (each with its ``result``), kept slim: how to insert them. Values
        every row shares go once per batch (``BulkInsert``)."""
        if self._reader.layouts.get(run_id) is None:
            raise ValueError(f"run {run_id} has no output layout: record_layout() first")
        shared: dict[str, Any] = {
            "run_id": run_id,
            "target": target,
            "status": AssessmentStatus.PENDING.value,
            "form": SLIM,
        }
        values = []
        for row in rows:
            inputs = encode_inputs(row.account_id, row.account, row.leave_out)
            result: Assessment = row.result  # type: ignore[assignment]
            values.append(
                (
                    row.account_id,
                    row.policy_version,
                    row.grade,
                    inputs,
                    None if inputs is not None else account_dict(row.account, row.leave_out),
                    *account_values(row.account),
                    compact_previous(row.previous_native),
                    self._reasons(result, texts),
                    *result_values(result),
                    row.assessed_at,
                    *(row.snapshot or (None, None)),
                )
            )
        bulk = self._bulk_insert(
            "assessments", lambda: sa.insert(assessments), shared, _SLIM_COLUMNS
        )

        def insert(conn: Connection) -> None:
            for chunk in chunks(values):
                bulk.execute(conn, shared, chunk)

        return insert

    def _reasons(self, result: Assessment, texts: dict[str, tuple[str, str]]) -> list[list[Any]]:
        """A result's reasons as a slim row keeps them; their templates into ``texts``."""
        reasons: list[list[Any]] = []
        for r in result.reasons:
            key = reason_text_key(r.en_template, r.zh_template)
            texts[key] = (r.en_template, r.zh_template)
            reasons.append([r.code, key] if r.value is None else [r.code, key, r.value])
        return reasons

    def _row_params(self, run_id: int, target: str, row: AssessmentIn) -> dict[str, Any]:
        """A row kept as given, as insert parameters."""
        inputs = encode_inputs(row.account_id, row.account, row.leave_out)
        return {
            "run_id": run_id,
            "written_run_id": None,
            "target": target,
            "account_id": row.account_id,
            "assessed_at": row.assessed_at,
            "policy_version": row.policy_version,
            "grade": row.grade,
            "status": AssessmentStatus.PENDING.value,
            "written_at": None,
            "inputs": inputs,
            "account": None if inputs is not None else account_dict(row.account, row.leave_out),
            **account_columns(row.account),
            "form": AS_GIVEN,
            "outputs": row.outputs,
            "native": row.native,
            "previous_native": row.previous_native,
            "reasons": row.reasons,
            **output_columns(row.outputs),
        }

    def _records(self, rows: Sequence[Any]) -> list[AssessmentRecord]:
        """Stored rows as records (what decoding them needs fetched first)."""
        self._reader.prepare(rows)
        return [_assessment(row, self._reader) for row in rows]

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
        for chunk in chunks(unique(account_ids)):
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
        query = sa.select(*_WITHOUT_INPUTS).where(*conditions, a.c.id > after_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(a.c.id).limit(limit)).all()
        self._reader.prepare(rows)
        found = []
        for row in rows:
            native = self._reader.native(row)
            previous = self._reader.previous(row, native)
            found.append(WriteRow(row.id, row.account_id, native, previous))
        return found

    def pending_rows_of_run(
        self, target: str, run_id: int, *, after_id: int = 0, limit: int = CHUNK
    ) -> list[tuple[int, str]]:
        """The next ``limit`` pending rows of ``run_id`` after row ``after_id``, in id order,
        as (row id, account): what a run's flush marks when its writes are answered."""
        a = assessments
        query = (
            sa.select(a.c.id, a.c.account_id)
            .where(
                a.c.target == target,
                a.c.run_id == run_id,
                a.c.status == AssessmentStatus.PENDING.value,
                a.c.id > after_id,
            )
            .order_by(a.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [(r.id, r.account_id) for r in conn.execute(query)]

    def mark_rows_written(
        self, target: str, rows: Sequence[tuple[int, str]], *, run_id: int
    ) -> None:
        """These pending rows (row id, account) were applied by the CRM: written now by run
        ``run_id``; older pending rows of the same accounts become abandoned."""
        now = self._clock()
        a = assessments
        with self._write() as conn:
            for chunk in chunks(list(rows)):
                conn.execute(
                    sa.update(a)
                    .where(a.c.id.in_([row_id for row_id, _ in chunk]))
                    .values(
                        status=AssessmentStatus.WRITTEN.value,
                        written_at=now,
                        written_run_id=run_id,
                    )
                )
                accounts = [account for _, account in chunk]
                self._set_pending(conn, target, accounts, status=AssessmentStatus.ABANDONED)

    def mark_written(self, target: str, account_ids: Sequence[str], *, run_id: int) -> None:
        """The pending rows of these accounts were applied by the CRM.

        The newest pending row of each account becomes written (``written_at`` = now,
        ``written_run_id`` = ``run_id``); older pending rows of the same account, which the
        CRM no longer shows, become abandoned. Accounts without a pending row are ignored.
        """
        newer = assessments.alias("newer")
        now = self._clock()
        with self._write() as conn:
            for chunk in chunks(unique(account_ids)):
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
            for chunk in chunks(unique(account_ids)):
                self._set_pending(conn, target, chunk, status=AssessmentStatus.ABANDONED)

    def mark_failed(self, target: str, account_ids: Sequence[str], *, run_id: int) -> None:
        """The CRM rejected the writes of these accounts' pending rows (in run ``run_id``)."""
        with self._write() as conn:
            for chunk in chunks(unique(account_ids)):
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
            for chunk in chunks(unique(account_ids)):
                newest = (
                    sa.select(sa.func.max(latest.c.id))
                    .where(
                        latest.c.target == target,
                        latest.c.status == AssessmentStatus.WRITTEN.value,
                        latest.c.account_id.in_(chunk),
                    )
                    .group_by(latest.c.account_id)
                )
                query = sa.select(*_WITHOUT_INPUTS).where(assessments.c.id.in_(newest))
                for record in self._records(conn.execute(query).all()):
                    found[record.account_id] = record
        return found

    def written_before(
        self, target: str, rows: Sequence[tuple[str, int]]
    ) -> dict[str, AssessmentRecord]:
        """For each (account, row id), the account's newest written row older than that row,
        where one is left (a revert restores what it held). One pair per account."""
        bound = dict(rows)
        a = assessments
        found: dict[str, AssessmentRecord] = {}
        with self._read() as conn:
            for chunk in chunks(list(bound)):
                query = sa.select(a.c.id, a.c.account_id).where(
                    a.c.target == target,
                    a.c.status == AssessmentStatus.WRITTEN.value,
                    a.c.account_id.in_(chunk),
                    a.c.id < max(bound[i] for i in chunk),
                )
                newest: dict[str, int] = {}
                for row in conn.execute(query):
                    if row.id < bound[row.account_id] and row.id > newest.get(row.account_id, 0):
                        newest[row.account_id] = row.id
                if newest:
                    chosen = sa.select(a).where(a.c.id.in_(list(newest.values())))
                    records = self._records(conn.execute(chosen).all())
                    found.update((r.account_id, r) for r in records)
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

    def prune(
        self,
        target: str,
        before: datetime,
        *,
        dry_run: bool = False,
        keep_every: str = "month",
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Delete the assessment rows of runs started before ``before`` that nothing needs any
        more; the number deleted (or, with ``dry_run``, that would be).

        Kept whatever their age: every pending row; each account's newest written row (it
        tells the next sync which values are crmqual's, and what a revert restores); its
        newest written row in each ``keep_every`` period (``month``, ``quarter``, ``year``
        of ``assessed_at`` in UTC; ``none`` keeps no history), which the policy lab reads;
        and every row an outcome or a backtest refers to. Deleted: other written rows, and
        abandoned and failed rows nothing refers to. Works run by run in id ranges, one
        transaction each, so a million rows never make one transaction; ``on_progress``
        hears the count so far after each range.
        """
        require_aware(before, "before")
        if keep_every not in KEEP_PERIODS:
            raise ValueError(f"keep_every must be one of {', '.join(KEEP_PERIODS)}")
        a, newer = assessments, assessments.alias("newer")
        same_period = []
        if keep_every != "none":
            same_period.append(
                self._period(newer.c.assessed_at, keep_every)
                == self._period(a.c.assessed_at, keep_every)
            )
        superseded = sa.exists().where(
            newer.c.target == a.c.target,
            newer.c.status == AssessmentStatus.WRITTEN.value,
            newer.c.account_id == a.c.account_id,
            newer.c.id > a.c.id,
            *same_period,
        )
        referenced = (
            ~sa.exists().where(outcomes.c.assessment_id == a.c.id),
            ~sa.exists().where(backtest_assessments.c.assessment_id == a.c.id),
        )
        kinds = (
            ([AssessmentStatus.ABANDONED.value, AssessmentStatus.FAILED.value], referenced),
            ([AssessmentStatus.WRITTEN.value], (superseded, *referenced)),
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
                    if on_progress is not None:
                        on_progress(deleted)
        return deleted

    def _period(self, column: sa.ColumnElement[Any], period: str) -> sa.ColumnElement[Any]:
        """The UTC month, quarter or year of a time column, as text, on either database."""
        if self._sqlite:  # stored as naive UTC text: 2026-12-04 14:30:00.000000
            year = sa.func.substr(column, 1, 4, type_=sa.String)
            month = sa.func.substr(column, 6, 2, type_=sa.String)
        else:
            utc = sa.func.timezone("UTC", column)
            year = sa.func.to_char(utc, "YYYY", type_=sa.String)
            month = sa.func.to_char(utc, "MM", type_=sa.String)
        if period == "year":
            return year
        if period == "month":
            return year.concat("-").concat(month)
        quarter = (sa.cast(month, sa.Integer) + 2) // 3
        return year.concat("-Q").concat(sa.cast(quarter, sa.String))

    def _assessments(self, *conditions: sa.ColumnElement[bool]) -> list[AssessmentRecord]:
        query = sa.select(assessments).where(*conditions).order_by(assessments.c.id)
        with self._read() as conn:
            return self._records(conn.execute(query).all())


#: Columns most rows leave empty (a slim row never fills the JSON kept as given).
_SELDOM = ("written_run_id", "written_at", "account", "outputs", "native", "downgraded_at")

#: The per-row columns of a slim row, in the order ``_slim_rows`` gives them.
_SLIM_COLUMNS = (
    "account_id",
    "policy_version",
    "grade",
    "inputs",
    "account",
    *ACCOUNT_COLUMNS,
    "previous_native",
    "reasons",
    *RESULT_COLUMNS,
    "assessed_at",
    *SNAPSHOT_COLUMNS,
)

#: Every column but the account's inputs: what reading a row's outputs and writes needs.
_WITHOUT_INPUTS = [
    c for c in assessments.c if c.name not in ("inputs", "account", *SNAPSHOT_COLUMNS)
]


def _assessment(row: Any, reader: RowReader) -> AssessmentRecord:
    return AssessmentRecord(
        id=row.id,
        run_id=row.run_id,
        written_run_id=row.written_run_id,
        target=row.target,
        account_id=row.account_id,
        assessed_at=row.assessed_at,
        policy_version=row.policy_version,
        grade=row.grade,
        status=AssessmentStatus(row.status),
        written_at=row.written_at,
        _row=row,
        _reader=reader,
    )
