"""What the policy lab reads and keeps: each account's latest assessed inputs (the portfolio
as it stood at a moment), outcomes (what really happened to an account, and when), and the
backtests run with the assessment rows each one scored (prune keeps those rows)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from crmqual.model import Account
from crmqual.state.database import chunks, require_aware, unique
from crmqual.state.ledger import AssessmentStatus
from crmqual.state.reading import RowReading
from crmqual.state.schema import (
    SNAPSHOT_COLUMNS,
    assessments,
    backtest_assessments,
    backtests,
    outcomes,
)

#: Rows fetched at a time while a portfolio is streamed.
STREAM_BATCH = 1000
#: What reading a row's inputs and outputs back needs (not its native values or write).
_READ_BACK = [
    c
    for c in assessments.c
    if c.name
    not in ("native", "previous_native", "written_at", "written_run_id", *SNAPSHOT_COLUMNS)
]
#: What a row's inputs and score need, and no more.
_SCORES_AND_INPUTS = [
    assessments.c[name]
    for name in (
        "id",
        "account_id",
        "assessed_at",
        "score",
        "inputs",
        "account",
        "name",
        "currency",
        "exposure",
        "period_end",
    )
]


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """One account's latest written assessment at a moment: its row id, inputs and outputs;
    ``model`` (``scores_only`` rows): the inputs as an Account, where the store kept them
    from one, equal to them validated again (``crmqual.backtest.row_account`` gives the
    Account either way)."""

    id: int
    account_id: str
    assessed_at: datetime
    account: dict[str, Any]
    outputs: dict[str, Any]
    model: Account | None = None


@dataclass(frozen=True, slots=True)
class OutcomeIn:
    account_id: str
    outcome: str
    occurred_on: date


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    id: int
    target: str
    account_id: str
    outcome: str
    occurred_on: date
    source: str
    #: The account's latest written assessment on or before ``occurred_on`` when recorded.
    assessment_id: int | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class BacktestRecord:
    id: int
    target: str
    created_at: datetime
    as_of: datetime
    window_months: int
    policy_version: str
    against_version: str | None
    figures: dict[str, Any]


#: One account's written assessments, oldest first: (account id, [(assessed_at, credit record)]).
CreditHistory = tuple[str, list[tuple[datetime, dict[str, Any]]]]


def _kept_by(key: int) -> sa.ColumnElement[bool]:
    """A row kept its snapshot bins under ``key`` (negated: every other row, a null key
    or null bins included)."""
    a = assessments
    return sa.and_(
        a.c.snapshot_key.is_not(None), a.c.snapshot_key == key, a.c.snapshot_bins.is_not(None)
    )


def end_of(day: date) -> datetime:
    """The first moment after ``day`` (UTC): assessments made on ``day`` come before it."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


class Lab(RowReading):
    """The outcomes, backtests and backtest_assessments tables, and portfolio snapshots."""

    def portfolio(
        self, target: str, as_of: datetime | None = None, *, scores_only: bool = False
    ) -> list[PortfolioRow]:
        """Each account's newest written assessment (by row id), among those assessed at or
        before ``as_of`` when given; ordered by account id. ``scores_only``: as
        ``iter_portfolio`` says (what a backtest needs: the inputs, a kept Account where the
        store has one).

        Written rows are what reached the CRM; a sync records a row only when an account's
        outputs change, so an account's newest row holds the inputs of its latest change.
        """
        return list(self.iter_portfolio(target, as_of, scores_only=scores_only))

    def iter_portfolio(
        self,
        target: str,
        as_of: datetime | None = None,
        *,
        scores_only: bool = False,
        not_of_run: int | None = None,
        not_kept_by: int | None = None,
    ) -> Iterator[PortfolioRow]:
        """`portfolio`'s rows, streamed a batch at a time: a sync's stability snapshot bins
        a million accounts without holding them (consume it whole; it holds a connection).
        With ``scores_only`` each row's outputs hold its score alone (what the snapshot
        bins), and no more is read; its inputs are then ``model`` where the store has it
        (``account`` is left empty), else ``account``. ``not_of_run``: leave out the
        accounts whose latest row that run recorded (a sync counts its own writes itself);
        ``not_kept_by``: only rows that did not keep their snapshot bins under that key
        (``iter_kept_bins`` gives the others)."""
        a = assessments
        conditions = self._latest_written(target, as_of, not_of_run)
        if not_kept_by is not None:
            conditions.append(~_kept_by(not_kept_by))
        columns = _SCORES_AND_INPUTS if scores_only else _READ_BACK
        query = sa.select(*columns).where(*conditions).order_by(a.c.account_id)
        reader = self._reader
        with self._read() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            for batch in result.partitions():
                if scores_only:
                    for r in batch:
                        model = reader.account_model(r)
                        account = {} if model is not None else reader.account(r)
                        outputs = {"score": r.score}
                        yield PortfolioRow(
                            r.id, r.account_id, r.assessed_at, account, outputs, model
                        )
                    continue
                reader.prepare(batch)
                for r in batch:
                    account, outputs = reader.account(r), reader.outputs(r)
                    yield PortfolioRow(r.id, r.account_id, r.assessed_at, account, outputs)

    def iter_kept_bins(
        self, target: str, key: int, *, not_of_run: int | None = None
    ) -> Iterator[bytes]:
        """The stability snapshot bins kept under ``key`` (``crmqual.stability``) by each
        account's latest written row that kept them, streamed (consume it whole);
        ``not_of_run`` as ``iter_portfolio`` says."""
        a = assessments
        conditions = self._latest_written(target, None, not_of_run)
        query = sa.select(a.c.snapshot_bins).where(*conditions, _kept_by(key))
        with self._read() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            for batch in result.scalars().partitions():
                yield from batch

    @staticmethod
    def _latest_written(
        target: str, as_of: datetime | None, not_of_run: int | None
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions of each account's newest written row (by row id), among those
        assessed at or before ``as_of``, leaving out those ``not_of_run`` recorded."""
        require_aware(as_of, "as_of")
        a, newer = assessments, assessments.alias("newer")
        conditions: list[sa.ColumnElement[bool]] = [
            a.c.target == target,
            a.c.status == AssessmentStatus.WRITTEN.value,
        ]
        later = [
            newer.c.target == a.c.target,
            newer.c.account_id == a.c.account_id,
            newer.c.status == AssessmentStatus.WRITTEN.value,
            newer.c.id > a.c.id,
        ]
        if as_of is not None:
            conditions.append(a.c.assessed_at <= as_of)
            later.append(newer.c.assessed_at <= as_of)
        if not_of_run is not None:
            conditions.append(a.c.run_id != not_of_run)
        conditions.append(~sa.exists().where(*later))
        return conditions

    # -- outcomes

    def record_outcomes(self, target: str, rows: Sequence[OutcomeIn], source: str) -> int:
        """Record outcomes; one already recorded (same account, outcome and date) is skipped.
        How many were new. Each is tied to the account's latest written assessment on or
        before its date, which prune then keeps."""
        if not rows:
            return 0
        now = self._clock()
        a = assessments
        added = 0
        with self._write() as conn:
            for chunk in chunks(list(rows)):
                ids = unique([r.account_id for r in chunk])
                written: dict[str, list[tuple[datetime, int]]] = {}
                query = sa.select(a.c.id, a.c.account_id, a.c.assessed_at).where(
                    a.c.target == target,
                    a.c.status == AssessmentStatus.WRITTEN.value,
                    a.c.account_id.in_(ids),
                )
                for found in conn.execute(query):
                    written.setdefault(found.account_id, []).append((found.assessed_at, found.id))
                params = []
                for row in chunk:
                    before = end_of(row.occurred_on)
                    known = [(i, at) for at, i in written.get(row.account_id, []) if at < before]
                    params.append(
                        {
                            "target": target,
                            "account_id": row.account_id,
                            "outcome": row.outcome,
                            "occurred_on": row.occurred_on,
                            "source": source[:500],
                            "assessment_id": max(known)[0] if known else None,
                            "recorded_at": now,
                        }
                    )
                for param in params:
                    insert = self._insert(outcomes).values(**param)
                    kept = insert.on_conflict_do_nothing(
                        index_elements=["target", "account_id", "outcome", "occurred_on"]
                    ).returning(outcomes.c.id)
                    added += len(conn.execute(kept).all())  # no row back: already recorded
        return added

    def credit_histories(
        self, target: str
    ) -> Iterator[tuple[str, list[tuple[datetime, dict[str, Any]]]]]:
        """Each account's written assessments, oldest first: (account id, [(assessed_at,
        the credit-record inputs: defaults, overdue_max_days)]), by account id."""
        a = assessments
        query = (
            sa.select(*_READ_BACK)
            .where(a.c.target == target, a.c.status == AssessmentStatus.WRITTEN.value)
            .order_by(a.c.account_id, a.c.id)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        history: list[tuple[datetime, dict[str, Any]]] = []
        current: str | None = None
        for row in rows:
            if row.account_id != current:
                if current is not None:
                    yield current, history
                current, history = row.account_id, []
            account = self._reader.account(row)
            record = {k: account.get(k) for k in ("defaults", "overdue_max_days")}
            history.append((row.assessed_at, record))
        if current is not None:
            yield current, history

    def outcomes(self, target: str, account_id: str | None = None) -> list[OutcomeRecord]:
        """Recorded outcomes (of one account, or all), by date then account."""
        o = outcomes
        query = sa.select(o).where(o.c.target == target)
        if account_id is not None:
            query = query.where(o.c.account_id == account_id)
        query = query.order_by(o.c.occurred_on, o.c.account_id, o.c.id)
        with self._read() as conn:
            return [
                OutcomeRecord(
                    r.id,
                    r.target,
                    r.account_id,
                    r.outcome,
                    r.occurred_on,
                    r.source,
                    r.assessment_id,
                    r.recorded_at,
                )
                for r in conn.execute(query)
            ]

    # -- backtests

    def record_backtest(
        self,
        target: str,
        *,
        as_of: datetime,
        window_months: int,
        policy_version: str,
        against_version: str | None,
        figures: dict[str, Any],
        assessment_ids: Sequence[int],
    ) -> int:
        """Keep a backtest's question, figures and the rows it scored; its id."""
        require_aware(as_of, "as_of")
        with self._write() as conn:
            backtest_id = int(
                conn.execute(
                    sa.insert(backtests)
                    .values(
                        target=target,
                        created_at=self._clock(),
                        as_of=as_of,
                        window_months=window_months,
                        policy_version=policy_version,
                        against_version=against_version,
                        figures=figures,
                    )
                    .returning(backtests.c.id)
                ).scalar_one()
            )
            refs = [
                {"backtest_id": backtest_id, "assessment_id": i}
                for i in sorted(set(assessment_ids))
            ]
            for chunk in chunks(refs):
                conn.execute(sa.insert(backtest_assessments), list(chunk))
        return backtest_id

    def list_backtests(self, target: str, limit: int = 20) -> list[BacktestRecord]:
        """The latest backtests of ``target``, newest first."""
        b = backtests
        query = sa.select(b).where(b.c.target == target).order_by(b.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [
                BacktestRecord(
                    r.id,
                    r.target,
                    r.created_at,
                    r.as_of,
                    r.window_months,
                    r.policy_version,
                    r.against_version,
                    r.figures,
                )
                for r in conn.execute(query)
            ]
