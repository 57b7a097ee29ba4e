"""The portfolio report's figures, computed with SQL over the state store.

Everything is aggregated in the database (``GROUP BY`` over the latest assessment of each
account); only what the page lists is streamed, in bounded lists. Nothing here loads every
row: a report over a million accounts holds a few hundred rows in Python at most.

Definitions (the README's "Portfolio report" section says the same):

* **The portfolio as of run N** is the newest written assessment row (highest id) of each
  account of the target whose writing run is N or earlier. The default N is the target's
  newest run; ``--run N`` reproduces an earlier report.
* **The previous portfolio** is the same as of the run before N (``--since DATE``: as of the
  last run that started before DATE). What moved compares the two, account by account.
* **Exposure** is the account's ``current_exposure`` (open receivables: what it owes now),
  the value the engine's OVER_LIMIT flag compares with the limit. The statement field
  ``receivables`` is the customer's own balance-sheet item, not what it owes us, so it is
  not used. Amounts are summed per currency (the account's ``currency``, else its limit's),
  never across currencies.
* **Due for review** reads the review schedule (``sync.review_every_days``): as the store
  holds it now, even with ``--run``.
"""

from __future__ import annotations

import getpass
import heapq
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from crmqual.policy import GRADES
from crmqual.state import StateStore
from crmqual.state.database import utcnow
from crmqual.state.ledger import AssessmentStatus
from crmqual.state.runs import SYNC_MODES
from crmqual.state.schema import assessments, runs, schedule

#: How many accounts the "look at first" table lists.
TOP = 25
#: How many downgrades and new severe flags are listed (all are counted).
LISTED = 50
#: How many runs the run-health series shows.
RUNS = 30
#: The previous-grade row of accounts that had no earlier assessment.
NEW = "new"
#: Grade weight in "largest exposure × worst grade".
GRADE_WEIGHT = {g: i + 1 for i, g in enumerate(GRADES)}
#: Utilisation bands, in the order the page shows them.
BANDS = ("no_exposure", "no_limit", "under_50", "50_80", "80_100", "over")
SEVERE = "high"


class ReportError(Exception):
    """The state store cannot give the report asked for (no runs, unknown run...); ``key``
    names its text in :mod:`crmqual.texts`."""

    def __init__(self, key: str, **values: object) -> None:
        from crmqual.texts import t

        super().__init__(t(key, "en", **values))
        self.key, self.values = key, values


@dataclass(frozen=True)
class Meta:
    target: str
    generated_at: str
    generated_by: str
    state_url: str
    run_id: int
    run_started_at: str
    previous_run_id: int | None
    previous_at: str | None
    since: str | None
    policy_versions: dict[str, int]
    exposure_basis: str = "current_exposure"


@dataclass(frozen=True)
class PortfolioRow:
    """Accounts of one grade in one currency, with their exposure and limits."""

    grade: str
    currency: str
    accounts: int
    exposure: float
    limits: float
    with_limit: int
    over_limit: int
    over_limit_excess: float


@dataclass(frozen=True)
class StatusRow:
    status: str
    currency: str
    accounts: int
    exposure: float


@dataclass(frozen=True)
class BandRow:
    band: str
    accounts: int


@dataclass(frozen=True)
class MigrationCell:
    previous: str
    current: str
    accounts: int


@dataclass(frozen=True)
class Change:
    """One account that moved: a downgrade, or a new severe flag."""

    account_id: str
    name: str
    previous_grade: str
    grade: str
    exposure: float | None
    currency: str
    new_flags: list[str]
    reasons: list[dict[str, Any]]
    url: str | None = None


@dataclass(frozen=True)
class LimitChange:
    currency: str
    cuts: int
    cut_total: float
    rises: int
    rise_total: float


@dataclass
class Changes:
    compared: int = 0
    upgrades: int = 0
    downgrades: int = 0
    new_accounts: int = 0
    new_flags: dict[str, int] = field(default_factory=dict)
    new_severe_accounts: int = 0
    limits: list[LimitChange] = field(default_factory=list)
    downgraded: list[Change] = field(default_factory=list)
    new_severe: list[Change] = field(default_factory=list)
    due_now: int = 0
    newly_due: int = 0


@dataclass(frozen=True)
class FlagRow:
    code: str
    severity: str
    accounts: int
    by_grade: dict[str, int]


@dataclass(frozen=True)
class CompletenessRow:
    grade: str
    accounts: int
    average: float | None
    under_60: int
    no_statement: int
    stale: int


@dataclass(frozen=True)
class TopAccount:
    account_id: str
    name: str
    grade: str
    score: float | None
    status: str
    exposure: float | None
    currency: str
    credit_limit: float | None
    flags: list[str]
    new_severe: bool
    reasons: list[dict[str, Any]]
    url: str | None


@dataclass(frozen=True)
class RunLine:
    run_id: int
    kind: str
    status: str
    started_at: str
    duration_s: float | None
    read: int
    written: int
    failed: int
    api_calls: int
    exit_code: int | None


@dataclass
class Report:
    """Every figure of the page; the HTML and ``--json`` are both rendered from this."""

    meta: Meta
    portfolio: list[PortfolioRow]
    statuses: list[StatusRow]
    utilisation: list[BandRow]
    migration: list[MigrationCell]
    changes: Changes
    flags: list[FlagRow]
    completeness: list[CompletenessRow]
    top: list[TopAccount]
    runs: list[RunLine]
    #: Population stability of the score, from the policy lab (issue: policy lab). Not
    #: computed here; the page shows its section only when a value is given.
    psi: list[dict[str, Any]] | None = None

    @property
    def accounts(self) -> int:
        return sum(r.accounts for r in self.portfolio)

    def grade_counts(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for r in self.portfolio:
            counts[r.grade] += r.accounts
        return dict(counts)

    def exposure_totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for r in self.portfolio:
            totals[r.currency] = totals.get(r.currency, 0.0) + r.exposure
        return totals


# -- SQL ------------------------------------------------------------------------------------

_a = assessments
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _latest_ids(target: str, cut: int | None, name: str) -> sa.Subquery:
    """(account_id, id) of each account's newest written row written by run ``cut`` or
    earlier (``None``: any run)."""
    conditions = [_a.c.target == target, _a.c.status == AssessmentStatus.WRITTEN.value]
    if cut is not None:
        conditions.append(_a.c.written_run_id <= cut)
    return (
        sa.select(_a.c.account_id, sa.func.max(_a.c.id).label("id"))
        .where(*conditions)
        .group_by(_a.c.account_id)
        .subquery(name)
    )


def _snapshot_table() -> sa.Table:
    """The portfolio, one row per account, with the JSON values the report reads taken out
    once: a temporary table of this connection, dropped at the end."""
    return sa.Table(
        "crmqual_report_portfolio",
        sa.MetaData(),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("id", _BigId, nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("exposure", sa.Float(), nullable=True),
        sa.Column("credit_limit", sa.Float(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("completeness", sa.Float(), nullable=True),
        sa.Column("has_statement", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("prev_id", _BigId, nullable=True),
        sa.Column("prev_grade", sa.String(32), nullable=True),
        prefixes=["TEMPORARY"],
    )


def _fill_snapshot(
    conn: Connection, snap: sa.Table, target: str, cut: int | None, previous: int
) -> None:
    """One pass over the store: each account's latest row as of ``cut`` (``None``: the
    newest), joined with its latest row as of run ``previous`` (0: none)."""
    latest = _latest_ids(target, cut, "latest")
    before = _latest_ids(target, previous, "before")
    cur, prev = _a.alias("cur_row"), _a.alias("prev_row")
    joined = (
        latest.join(cur, cur.c.id == latest.c.id)
        .outerjoin(before, before.c.account_id == latest.c.account_id)
        .outerjoin(prev, prev.c.id == before.c.id)
    )
    values: dict[str, sa.ColumnElement[Any]] = {
        "exposure": cur.c.exposure,
        "account_currency": cur.c.currency,
        "period_end": cur.c.period_end,
        "credit_limit": cur.c.credit_limit,
        "limit_currency": cur.c.limit_currency,
        "status": cur.c.credit_status,
        "score": cur.c.score,
        "completeness": cur.c.data_completeness,
    }
    query = sa.select(
        latest.c.account_id,
        latest.c.id,
        sa.func.coalesce(cur.c.grade, "-"),
        sa.func.coalesce(values["account_currency"], values["limit_currency"], ""),
        values["exposure"],
        values["credit_limit"],
        sa.func.coalesce(values["status"], ""),
        values["score"],
        values["completeness"],
        sa.case((values["period_end"].is_(None), 0), else_=1),
        cur.c.policy_version,
        before.c.id,
        sa.func.coalesce(prev.c.grade, "-"),
    ).select_from(joined)
    names = [c.name for c in snap.columns]
    conn.execute(sa.insert(snap).from_select(names, query))
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"ANALYZE {snap.name}"))  # temporary tables get no autovacuum


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def build_report(
    state: StateStore,
    target: str,
    *,
    run_id: int | None = None,
    since: datetime | None = None,
    severities: Mapping[str, str] | None = None,
    review_days: Mapping[str, int] | None = None,
    record_url: Callable[[str], str | None] | None = None,
    now: datetime | None = None,
) -> Report:
    """The figures of ``target``'s portfolio as of run ``run_id`` (default: its newest run),
    compared with the run before it, or with the last run started before ``since``.

    ``severities`` maps flag codes to low/medium/high (the policy's); ``review_days`` the
    grades to their review interval in days; ``record_url`` gives the link to an account in
    the CRM (the adapter's :meth:`~crmqual.contract.Adapter.record_url`).

    All in one read transaction, so every figure sees the same state. The portfolio is
    first copied, one narrow row per account, into a temporary table (JSON read once), and
    every aggregate is a ``GROUP BY`` over it.
    """
    severities = dict(severities or {})
    engine = state.engine
    with engine.connect() as conn, conn.begin():
        cut_run, previous_run = _cuts(conn, target, run_id, since)
        cut = int(cut_run.id)
        previous = None if previous_run is None else int(previous_run.id)
        # Created in this transaction: a failure rolls it back with everything else.
        snap = _snapshot_table()
        snap.create(conn)
        _fill_snapshot(conn, snap, target, None if run_id is None else cut, previous or 0)
        meta = Meta(
            target=target,
            generated_at=_iso(now or utcnow()) or "",
            generated_by=f"{getpass.getuser()}@{socket.gethostname()}",
            state_url=state.safe_url,
            run_id=cut,
            run_started_at=_iso(cut_run.started_at) or "",
            previous_run_id=previous,
            previous_at=_iso(None if previous_run is None else previous_run.started_at),
            since=_iso(since),
            policy_versions=_policy_versions(conn, snap),
        )
        report = _figures(
            conn, snap, engine.dialect.name, meta, severities, record_url, state.readable_reasons
        )
        report.runs = _runs(conn, target, cut)
        report.psi = _stability(conn, target, cut) or None
        report.changes.due_now, report.changes.newly_due = _due(
            conn,
            target,
            review_days or {},
            cut_run.finished_at or cut_run.started_at,
            since
            if since is not None
            else (None if previous_run is None else previous_run.finished_at),
        )
        conn.execute(sa.text(f"DROP TABLE {snap.name}"))  # (no TEMPORARY in PG's DROP)
    return report


def _figures(
    conn: Connection,
    snap: sa.Table,
    dialect: str,
    meta: Meta,
    severities: Mapping[str, str],
    record_url: Callable[[str], str | None] | None,
    readable: Callable[[Any], list[dict[str, Any]]],
) -> Report:
    flags = _flags(conn, dialect, snap, severities)
    migration = _migration(conn, snap)
    changes = _changes(conn, snap, severities, record_url, readable)
    changes.new_accounts = sum(c.accounts for c in migration if c.previous == NEW)
    new_severe = {c.account_id for c in changes.new_severe}
    return Report(
        meta=meta,
        portfolio=_portfolio(conn, snap),
        statuses=_statuses(conn, snap),
        utilisation=_utilisation(conn, snap),
        migration=migration,
        changes=changes,
        flags=flags,
        completeness=_completeness(conn, snap, flags),
        top=_top(conn, snap, changes.new_severe, new_severe, record_url, readable),
        runs=[],
    )


def _cuts(
    conn: Connection, target: str, run_id: int | None, since: datetime | None
) -> tuple[Any, Any]:
    """The run the report is as of, and the run it compares with."""
    of_target = sa.select(runs.c.id, runs.c.started_at, runs.c.finished_at).where(
        runs.c.target == target
    )
    if run_id is None:
        row = conn.execute(of_target.order_by(runs.c.id.desc()).limit(1)).first()
        if row is None:
            raise ReportError("report.no_runs", target=target)
    else:
        row = conn.execute(of_target.where(runs.c.id == run_id)).first()
        if row is None:
            raise ReportError("report.no_run", run=run_id, target=target)
    if since is not None:
        before = of_target.where(runs.c.started_at < since, runs.c.id < row.id)
    else:
        before = of_target.where(runs.c.id < row.id)
    previous = conn.execute(before.order_by(runs.c.id.desc()).limit(1)).first()
    return row, previous


def _policy_versions(conn: Connection, snap: sa.Table) -> dict[str, int]:
    query = (
        sa.select(snap.c.policy_version, sa.func.count())
        .group_by(snap.c.policy_version)
        .order_by(snap.c.policy_version)
    )
    return {str(v): int(n) for v, n in conn.execute(query)}


def _sum(value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(value), 0)


def _portfolio(conn: Connection, snap: sa.Table) -> list[PortfolioRow]:
    c = snap.c
    over = sa.and_(c.credit_limit.is_not(None), c.exposure > c.credit_limit)
    query = (
        sa.select(
            c.grade,
            c.currency,
            sa.func.count().label("accounts"),
            _sum(c.exposure).label("exposure"),
            _sum(c.credit_limit).label("limits"),
            sa.func.count(c.credit_limit).label("with_limit"),
            _sum(sa.case((over, 1), else_=0)).label("over_limit"),
            _sum(sa.case((over, c.exposure - c.credit_limit), else_=0)).label("excess"),
        )
        .group_by(c.grade, c.currency)
        .order_by(c.grade, c.currency)
    )
    return [
        PortfolioRow(
            r.grade,
            r.currency,
            int(r.accounts),
            float(r.exposure),
            float(r.limits),
            int(r.with_limit),
            int(r.over_limit),
            float(r.excess),
        )
        for r in conn.execute(query)
    ]


def _statuses(conn: Connection, snap: sa.Table) -> list[StatusRow]:
    c = snap.c
    query = (
        sa.select(
            c.status,
            c.currency,
            sa.func.count().label("accounts"),
            _sum(c.exposure).label("exposure"),
        )
        .group_by(c.status, c.currency)
        .order_by(c.status, c.currency)
    )
    return [
        StatusRow(r.status, r.currency, int(r.accounts), float(r.exposure))
        for r in conn.execute(query)
    ]


def _utilisation(conn: Connection, snap: sa.Table) -> list[BandRow]:
    exposure, limit = snap.c.exposure, snap.c.credit_limit
    band = sa.case(
        (sa.or_(exposure.is_(None), exposure <= 0), "no_exposure"),
        (limit.is_(None), "no_limit"),
        (exposure > limit, "over"),
        (exposure > 0.8 * limit, "80_100"),
        (exposure > 0.5 * limit, "50_80"),
        else_="under_50",
    ).label("band")
    query = sa.select(band, sa.func.count().label("n")).group_by(band)
    found = {str(r.band): int(r.n) for r in conn.execute(query)}
    return [BandRow(b, found.get(b, 0)) for b in BANDS]


def _flags(
    conn: Connection, dialect: str, snap: sa.Table, severities: Mapping[str, str]
) -> list[FlagRow]:
    """How many accounts carry each flag, by grade: the flags array unnested in SQL."""
    cur = _a.alias("cur_row")
    if dialect == "sqlite":
        each = sa.func.json_each(cur.c.flags).table_valued("value")
    else:
        each = sa.func.json_array_elements_text(cur.c.flags).table_valued("value")
    code = sa.cast(each.c.value, sa.String).label("code")
    query = (
        sa.select(code, snap.c.grade, sa.func.count().label("n"))
        .select_from(snap.join(cur, cur.c.id == snap.c.id).join(each, sa.true()))
        .group_by(code, snap.c.grade)
    )
    by_code: dict[str, dict[str, int]] = {}
    for r in conn.execute(query):
        by_code.setdefault(str(r.code), {})[str(r.grade)] = int(r.n)
    order = {c: i for i, c in enumerate(severities)}
    rows = [
        FlagRow(c, severities.get(c, ""), sum(g.values()), dict(sorted(g.items())))
        for c, g in by_code.items()
    ]
    rank = {"high": 0, "medium": 1, "low": 2}
    rows.sort(key=lambda f: (-f.accounts, rank.get(f.severity, 3), order.get(f.code, 99), f.code))
    return rows


def _completeness(conn: Connection, snap: sa.Table, flags: list[FlagRow]) -> list[CompletenessRow]:
    stale = next((f.by_grade for f in flags if f.code == "STALE_FINANCIALS"), {})
    c = snap.c
    query = (
        sa.select(
            c.grade,
            sa.func.count().label("accounts"),
            sa.func.avg(c.completeness).label("average"),
            _sum(sa.case((c.completeness < 60, 1), else_=0)).label("under_60"),
            _sum(sa.case((c.has_statement == 0, 1), else_=0)).label("no_statement"),
        )
        .group_by(c.grade)
        .order_by(c.grade)
    )
    return [
        CompletenessRow(
            r.grade,
            int(r.accounts),
            None if r.average is None else round(float(r.average), 1),
            int(r.under_60),
            int(r.no_statement),
            stale.get(r.grade, 0),
        )
        for r in conn.execute(query)
    ]


def _migration(conn: Connection, snap: sa.Table) -> list[MigrationCell]:
    c = snap.c
    before = sa.case((c.prev_id.is_(None), NEW), else_=c.prev_grade).label("before")
    query = sa.select(before, c.grade, sa.func.count().label("n")).group_by(before, c.grade)
    return sorted(
        (MigrationCell(str(r.before), str(r.grade), int(r.n)) for r in conn.execute(query)),
        key=lambda m: (m.previous == NEW, m.previous, m.current),
    )


def _changes(
    conn: Connection,
    snap: sa.Table,
    severities: Mapping[str, str],
    record_url: Callable[[str], str | None] | None,
    readable: Callable[[Any], list[dict[str, Any]]],
) -> Changes:
    """Stream the accounts whose latest row changed since the previous portfolio (only
    those) and count what moved; the largest downgrades and new severe flags are kept."""
    c = snap.c
    cur, prev = _a.alias("cur_row"), _a.alias("prev_row")
    query = (
        sa.select(
            c.account_id,
            cur.c.name,
            c.grade,
            c.prev_grade.label("previous_grade"),
            c.exposure,
            c.currency,
            c.credit_limit.label("limit"),
            prev.c.credit_limit.label("previous_limit"),
            cur.c.flags,
            prev.c.flags.label("previous_flags"),
            cur.c.reasons,
        )
        .select_from(snap.join(cur, cur.c.id == c.id).join(prev, prev.c.id == c.prev_id))
        .where(c.prev_id != c.id)
    )
    changes = Changes()
    new_flags: Counter[str] = Counter()
    limits: dict[str, list[float]] = {}  # [cuts, cut total, rises, rise total]
    downgraded: list[tuple[float, str, Change]] = []
    severe: list[tuple[float, str, Change]] = []
    for r in _stream(conn, query):
        changes.compared += 1
        grade, before = str(r.grade), str(r.previous_grade)
        added = [f for f in (r.flags or []) if f not in set(r.previous_flags or [])]
        new_flags.update(added)
        if r.limit is not None and r.previous_limit is not None and r.limit != r.previous_limit:
            entry = limits.setdefault(str(r.currency), [0.0, 0.0, 0.0, 0.0])
            delta = float(r.limit) - float(r.previous_limit)
            entry[0 if delta < 0 else 2] += 1
            entry[1 if delta < 0 else 3] += delta
        severe_added = [f for f in added if severities.get(f) == SEVERE]
        down = grade in GRADE_WEIGHT and before in GRADE_WEIGHT and grade > before
        if grade in GRADE_WEIGHT and before in GRADE_WEIGHT and grade < before:
            changes.upgrades += 1
        if not (down or severe_added):
            continue
        change = Change(
            account_id=str(r.account_id),
            name=str(r.name or r.account_id),
            previous_grade=before,
            grade=grade,
            exposure=None if r.exposure is None else float(r.exposure),
            currency=str(r.currency),
            new_flags=added,
            reasons=readable(r.reasons),
            url=_url(record_url, str(r.account_id)),
        )
        key = (float(r.exposure or 0) * GRADE_WEIGHT.get(grade, 0), str(r.account_id))
        if down:
            changes.downgrades += 1
            _keep(downgraded, (*key, change))
        if severe_added:
            changes.new_severe_accounts += 1
            _keep(severe, (*key, change))
    changes.new_flags = dict(new_flags.most_common())
    changes.limits = [
        LimitChange(c, int(v[0]), float(v[1]), int(v[2]), float(v[3]))
        for c, v in sorted(limits.items())
    ]
    changes.downgraded = [c for *_, c in sorted(downgraded, key=_largest)]
    changes.new_severe = [c for *_, c in sorted(severe, key=_largest)]
    return changes


def _largest(item: tuple[float, str, Change]) -> tuple[float, str]:
    return (-item[0], item[1])


def _keep(heap: list[tuple[float, str, Change]], item: tuple[float, str, Change]) -> None:
    """Keep the :data:`LISTED` largest items (by exposure × grade weight)."""
    if len(heap) < LISTED:
        heapq.heappush(heap, item)
    elif item[:2] > heap[0][:2]:
        heapq.heapreplace(heap, item)


def _stream(conn: Connection, query: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
    """Rows in batches from a server-side cursor, never all at once."""
    # Options on the statement: on the connection they would stay for every later one.
    result = conn.execute(query.execution_options(stream_results=True, yield_per=2000))
    yield from result


def _url(record_url: Callable[[str], str | None] | None, account_id: str) -> str | None:
    return None if record_url is None else record_url(account_id)


def _due(
    conn: Connection,
    target: str,
    review_days: Mapping[str, int],
    at: datetime,
    before: datetime | None,
) -> tuple[int, int]:
    """Accounts due for review at ``at``, and of those, how many were not due at ``before``."""
    col = schedule.c
    default = review_days.get("E", 30)

    def due_at(moment: datetime) -> sa.ColumnElement[bool]:
        known = [
            sa.and_(col.grade == g, col.assessed_at <= moment - timedelta(days=d))
            for g, d in review_days.items()
        ]
        other = sa.or_(col.grade.is_(None), col.grade.not_in(list(review_days)))
        known.append(sa.and_(other, col.assessed_at <= moment - timedelta(days=default)))
        return sa.or_(*known)

    now_due = due_at(at)
    newly = sa.and_(now_due, sa.not_(due_at(before))) if before is not None else now_due
    query = sa.select(
        _sum(sa.case((now_due, 1), else_=0)), _sum(sa.case((newly, 1), else_=0))
    ).where(col.target == target)
    due_now, newly_due = conn.execute(query).one()
    return int(due_now), int(newly_due)


def _top(
    conn: Connection,
    snap: sa.Table,
    first: list[Change],
    new_severe: set[str],
    record_url: Callable[[str], str | None] | None,
    readable: Callable[[Any], list[dict[str, Any]]],
) -> list[TopAccount]:
    """The accounts to look at first: new severe flags first, then by exposure × grade
    weight (worst grade, largest exposure), in SQL."""
    c = snap.c
    cur = _a.alias("cur_row")
    weight = sa.case(*((c.grade == g, w) for g, w in GRADE_WEIGHT.items()), else_=0)
    risk = sa.func.coalesce(c.exposure, 0) * weight
    columns = (
        c.account_id,
        cur.c.name,
        c.grade,
        c.score,
        c.status,
        c.exposure,
        c.currency,
        c.credit_limit,
        cur.c.flags,
        cur.c.reasons,
    )
    joined = snap.join(cur, cur.c.id == c.id)
    ids = [x.account_id for x in first[:TOP]]
    chosen: list[Any] = []
    if ids:
        query = sa.select(*columns).select_from(joined).where(c.account_id.in_(ids))
        found = {r.account_id: r for r in conn.execute(query)}
        chosen = [found[i] for i in ids if i in found]
    ranked = (
        sa.select(c.id)
        .order_by(risk.desc(), c.score.asc(), c.account_id)
        .limit(TOP + len(chosen))
        .subquery("ranked")
    )
    rest = (
        sa.select(*columns)
        .select_from(joined.join(ranked, ranked.c.id == c.id))
        .order_by(risk.desc(), c.score.asc(), c.account_id)
    )
    for r in conn.execute(rest):
        if len(chosen) >= TOP:
            break
        if r.account_id not in new_severe:
            chosen.append(r)
    return [
        TopAccount(
            account_id=str(r.account_id),
            name=str(r.name or r.account_id),
            grade=str(r.grade),
            score=None if r.score is None else float(r.score),
            status=str(r.status),
            exposure=None if r.exposure is None else float(r.exposure),
            currency=str(r.currency),
            credit_limit=None if r.credit_limit is None else float(r.credit_limit),
            flags=list(r.flags or []),
            new_severe=r.account_id in new_severe,
            reasons=readable(r.reasons)[:3],
            url=_url(record_url, str(r.account_id)),
        )
        for r in chosen
    ]


def _stability(conn: Connection, target: str, cut: int) -> list[dict[str, Any]]:
    """The policy lab's population stability of the score, as each of the last runs up to
    ``cut`` recorded it in its summary (``crmqual.stability``): run, the run compared with,
    the score's PSI, the level, the indicators to watch and to act on."""
    query = (
        sa.select(runs.c.id, runs.c.summary)
        .where(runs.c.target == target, runs.c.id <= cut)
        .order_by(runs.c.id.desc())
        .limit(RUNS)
    )
    rows = []
    for run_id, summary in conn.execute(query):
        found = dict(summary or {}).get("stability")
        if not isinstance(found, dict) or not isinstance(found.get("psi"), dict):
            continue
        score = found["psi"].get("score")
        rows.append(
            {
                "run": int(run_id),
                "compared_with": found.get("compared_with_run", ""),
                "score": "" if score is None else f"{float(score):.3f}",
                "level": str(found.get("level", "")),
                "watch": ", ".join(found.get("watch") or []),
                "act": ", ".join(found.get("act") or []),
            }
        )
    return rows[::-1]


def _runs(conn: Connection, target: str, cut: int) -> list[RunLine]:
    query = (
        sa.select(runs)
        .where(runs.c.target == target, runs.c.id <= cut)
        .order_by(runs.c.id.desc())
        .limit(RUNS)
    )
    lines = []
    for r in conn.execute(query):
        counts, summary = dict(r.counts or {}), dict(r.summary or {})
        kind = "sync" if r.mode in SYNC_MODES else str(r.mode)
        duration = summary.get("duration_s")
        if duration is None and r.finished_at is not None:
            duration = (r.finished_at - r.started_at).total_seconds()
        exit_code = summary.get("exit_code")
        lines.append(
            RunLine(
                run_id=int(r.id),
                kind=kind,
                status=str(r.status),
                started_at=_iso(r.started_at) or "",
                duration_s=None if duration is None else round(float(duration), 1),
                read=int(counts.get("read", 0)),
                written=int(counts.get("written", counts.get("restored")) or 0),
                failed=int(counts.get("failed", 0)),
                api_calls=int(counts.get("api_calls", summary.get("api_calls", 0)) or 0),
                exit_code=None if exit_code is None else int(exit_code),
            )
        )
    return lines[::-1]
