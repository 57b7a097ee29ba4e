"""Backtest: grade the portfolio as it stood at a past date (each account's stored inputs)
under a policy, and compare with what happened in the following window.

An account is in the sample when it had a written assessment on or before ``as_of`` and no
bad outcome on or before ``as_of`` (it was already bad). It is *bad* when a bad outcome
(defaulted, 90+ days overdue, written off) is dated within the window after ``as_of``,
otherwise *good*. The policy ranks accounts by grade, then by score within a grade (a
knock-out puts an account in the worst grade whatever its score), and that ranking is what
ROC AUC, Gini and KS measure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import Any

from crmqual.compiled import CompiledPolicy
from crmqual.engine import Assessment, assess
from crmqual.metrics import auc, gini, ks
from crmqual.model import Account
from crmqual.outcomes import BAD, Outcome, add_months
from crmqual.policy import GRADES
from crmqual.state.lab import OutcomeRecord, PortfolioRow

#: Grades whose bad exposure counts as caught.
CAUGHT_GRADES = ("D", "E")
#: Score bands of the calibration table (lower bounds; the last band includes 100).
SCORE_BANDS = tuple(range(0, 100, 10))
#: Statuses that let an account buy on credit.
APPROVED = ("approved", "conditional")


@dataclass(frozen=True, slots=True)
class Observation:
    """One account of the sample: the stored row scored, its inputs, and whether it went bad."""

    row_id: int
    account: Account
    bad: bool


@dataclass(frozen=True)
class Sample:
    observations: list[Observation]
    #: Accounts left out: already bad at ``as_of``.
    already_bad: int
    #: Accounts left out: stored inputs that no longer validate, with why.
    unreadable: list[tuple[str, str]]
    start: datetime
    end: datetime


def stored_account(data: dict[str, Any]) -> Account:
    """An Account from the inputs a state store kept (validated when they were read, so a
    date is not checked against today again)."""
    return Account.model_validate(data, context={"today": date.max})


def row_account(row: PortfolioRow) -> Account:
    """A portfolio row's Account: ``model`` where the store gave one (the snapshot's
    ``scores_only`` read), else its inputs validated (``stored_account``, which raises
    ValueError for inputs the model refuses)."""
    return row.model if row.model is not None else stored_account(row.account)


def sample(
    portfolio: Iterable[PortfolioRow],
    outcomes: Iterable[OutcomeRecord],
    as_of: datetime,
    window_months: int,
) -> Sample:
    """The accounts a backtest scores: ``portfolio`` is each account's latest row at
    ``as_of``; bad when a bad outcome falls in (``as_of``, ``as_of`` + window]."""
    end = add_months(as_of, window_months)
    first_bad: dict[str, date] = {}
    for o in outcomes:
        if Outcome(o.outcome) in BAD:
            seen = first_bad.get(o.account_id)
            if seen is None or o.occurred_on < seen:
                first_bad[o.account_id] = o.occurred_on
    observations = []
    already = 0
    unreadable = []
    for row in portfolio:
        day = first_bad.get(row.account_id)
        moment = None if day is None else datetime.combine(day, time(), tzinfo=UTC)
        if moment is not None and moment <= as_of:
            already += 1
            continue
        try:
            account = row_account(row)
        except ValueError as exc:
            unreadable.append((row.account_id, " ".join(str(exc).split())[:200]))
            continue
        bad = moment is not None and moment <= end
        observations.append(Observation(row.id, account, bad))
    return Sample(observations, already, unreadable, as_of, end)


def risk(a: Assessment) -> float:
    """The policy's ranking as one number, higher is riskier: grade first, then score."""
    return GRADES.index(a.grade) * 101 + (100 - a.score)


def _rate(bad: int, count: int) -> float | None:
    return bad / count if count else None


def evaluate(
    policy: CompiledPolicy, observations: Sequence[Observation], as_of: datetime
) -> dict[str, Any]:
    """The figures of one policy over a sample (JSON-able)."""
    results = [assess(o.account, policy, as_of=as_of) for o in observations]
    bads = [o.bad for o in observations]
    risks = [risk(a) for a in results]
    area = auc(risks, bads)
    per_grade = {g: {"count": 0, "bad": 0} for g in GRADES}
    bands = {b: {"count": 0, "bad": 0, "score_total": 0} for b in SCORE_BANDS}
    bad_exposure: dict[str, float] = {}
    caught_exposure: dict[str, float] = {}
    approved = 0
    for o, a in zip(observations, results, strict=True):
        cell = per_grade[a.grade]
        cell["count"] += 1
        cell["bad"] += o.bad
        band = bands[min(a.score // 10 * 10, 90)]
        band["count"] += 1
        band["bad"] += o.bad
        band["score_total"] += a.score
        approved += a.status in APPROVED
        exposure = o.account.current_exposure
        if o.bad and exposure is not None:
            ccy = o.account.currency or a.limit_currency or ""
            bad_exposure[ccy] = bad_exposure.get(ccy, 0.0) + exposure
            if a.grade in CAUGHT_GRADES:
                caught_exposure[ccy] = caught_exposure.get(ccy, 0.0) + exposure
    grades = {
        g: {"count": c["count"], "bad": c["bad"], "bad_rate": _rate(c["bad"], c["count"])}
        for g, c in per_grade.items()
    }
    rates = [r["bad_rate"] for r in grades.values() if r["bad_rate"] is not None]
    total_bad = sum(bads)
    caught_bad = sum(
        1 for o, a in zip(observations, results, strict=True) if o.bad and a.grade in CAUGHT_GRADES
    )
    return {
        "policy_version": policy.version,
        "accounts": len(observations),
        "bad": total_bad,
        "bad_rate": _rate(total_bad, len(observations)),
        "auc": area,
        "gini": gini(area),
        "ks": ks(risks, bads),
        "grades": grades,
        "monotone": all(a <= b for a, b in pairwise(rates)),
        "bad_caught_de": _rate(caught_bad, total_bad),
        "bad_exposure_caught_de": {
            ccy: caught_exposure.get(ccy, 0.0) / total
            for ccy, total in sorted(bad_exposure.items())
            if total > 0
        },
        "approval_rate": _rate(approved, len(observations)),
        "calibration": [
            {
                "band": f"{b}-{b + 9 if b < 90 else 100}",
                "count": c["count"],
                "bad": c["bad"],
                "bad_rate": _rate(c["bad"], c["count"]),
                "mean_score": c["score_total"] / c["count"] if c["count"] else None,
            }
            for b, c in bands.items()
        ],
    }
