"""The assessment engine: one pure function from an account to an assessment.

``assess(account, policy, previous=None, as_of=...)`` reads no clock, file, network or
environment. The policy is compiled once (``compiled.py``) so the per-account path does
arithmetic and lookups only. Every result carries what it needs to be explained and
reproduced: the policy version, each dimension's contribution, the scored indicators,
the steps of the limit.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from crmqual.compiled import CompiledPolicy, Reason, compiled
from crmqual.indicators import Value, indicator_values
from crmqual.model import Account
from crmqual.policy import DEFAULT_UNREADABLE_REASON, GRADES, Policy
from crmqual.values import Unreadable

__all__ = ["Assessment", "Reason", "assess"]

_FIRST = itemgetter(0)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What crmqual concludes about one account, with what it needs to explain itself."""

    account_id: str
    status: str
    grade: str
    score: int
    credit_limit: int | None
    limit_currency: str | None
    payment_terms: str
    flags: tuple[str, ...]
    reasons: tuple[Reason, ...]
    data_completeness: int  # percent of the scorecard's (weighted) inputs on file
    policy_version: str
    assessed_at: datetime
    #: When the downgrade behind a raised GRADE_DOWNGRADE happened.
    downgraded_at: datetime | None = None
    #: Each scorecard dimension's contribution to the score, in the policy's order.
    contributions: tuple[float, ...] = ()
    indicators: dict[str, Value] = field(default_factory=dict)


def assess(
    account: Account,
    policy: Policy | CompiledPolicy,
    previous: Assessment | None = None,
    *,
    as_of: datetime,
    unreadable: Sequence[Unreadable] = (),
) -> Assessment:
    """Assess one account under a policy as of a given moment (never the wall clock).

    ``unreadable``: inputs whose values could not be read (missing in ``account``); each
    becomes a reason naming the field and the raw value, and raises the policy's
    ``unreadable_flag``.
    """
    cp = compiled(policy)
    values = indicator_values(account, as_of.date())

    # Scorecard: banded points per indicator, weighted into dimensions and the score;
    # what each indicator fell short of its best band is kept for the reasons.
    dims = [0.0] * len(cp.dimension_names)
    present = 0.0
    short: list[tuple[float, int, Value]] = []
    below = cp.reason_below
    for i, name, bands, pts, weight, missing, dim, best in cp.hot_lines:
        v = values[name]
        if v is None:
            p = missing
        else:
            p = pts[bisect_right(bands, v)]
            present += weight
        dims[dim] += p * weight
        if p < below:
            short.append(((best - p) * weight, i, v))
    score = math.floor(sum(dims) + 0.5)
    grade = next(g for floor, g in cp.grade_floors if score >= floor)

    balanced = _balanced(account, cp.balance_tolerance)
    values["data_completeness"] = present
    values["statements_balanced"] = balanced

    # Admission: knock-outs reject and cap the grade; reviews and conditions set the status.
    findings = [reason for test, reason in cp.knockouts if test(values)]
    knocked = bool(findings)
    if knocked:
        grade = max(grade, cp.knockout_grade)  # letters sort from best to worst
    values["grade_rank"] = float(GRADES.index(grade))
    reviews = [reason for test, reason in cp.reviews if test(values)]
    conditions = [reason for test, reason in cp.conditions if test(values)]
    findings += reviews + conditions

    rule = cp.grade_rules[grade]
    terms = cp.rejected_terms if knocked else rule.terms
    limit, currency, limit_note = credit_limit(account, cp, grade, knocked)
    if limit_note is not None:
        findings.append(cp.limit_reasons[limit_note])

    if knocked:
        status = "rejected"
    elif reviews or limit_note is not None:
        status = "review"
    elif conditions or grade in cp.conditional_grades:
        status = "conditional"
    else:
        status = "approved"

    flags = []
    for code, name, compare, threshold, test in cp.flag_checks:
        if test is None:
            x = values[name]
            if x is not None and compare(x, threshold):  # type: ignore[misc]
                flags.append(code)
        elif test(values):
            flags.append(code)
    exposure = account.current_exposure
    if cp.over_limit_flag and limit is not None and exposure is not None and exposure > limit:
        flags.append(cp.over_limit_flag)
    if unreadable and cp.unreadable_flag is not None and cp.unreadable_flag not in flags:
        flags.append(cp.unreadable_flag)
        flags.sort(key=cp.flag_order.__getitem__)
    downgraded_at = _downgrade(cp, previous, grade, as_of)
    if cp.downgrade_flag and downgraded_at is not None:
        flags.append(cp.downgrade_flag)
        flags.sort(key=cp.flag_order.__getitem__)

    if balanced is False:
        findings.append(cp.unbalanced_reason)
    if unreadable:
        findings += [_unreadable_reason(cp, u) for u in unreadable]
    room = cp.max_reasons - len(findings)
    if room > 0 and short:
        short.sort(key=_FIRST, reverse=True)  # stable: ties keep the policy's order
        for _, i, v in short[:room]:
            line = cp.lines[i]
            if v is None:
                findings.append(line.missing_reason)
            else:
                text = line.negative if line.negative is not None and v < 0 else line.reason  # type: ignore[operator]
                findings.append(Reason(line.code, text.en, text.zh, v))  # type: ignore[arg-type]

    return Assessment(
        account_id=account.id,
        status=status,
        grade=grade,
        score=score,
        credit_limit=limit,
        limit_currency=currency,
        payment_terms=terms,
        flags=tuple(flags),
        reasons=tuple(findings),
        data_completeness=math.floor(present * 100 + 0.5),
        policy_version=cp.version,
        assessed_at=as_of,
        downgraded_at=downgraded_at,
        contributions=tuple(dims),
        indicators=values,
    )


UNREADABLE_CODE = "UNREADABLE_VALUE"


def _unreadable_reason(cp: CompiledPolicy, u: Unreadable) -> Reason:
    text = cp.unreadable_reason or DEFAULT_UNREADABLE_REASON
    # Rendered here, once: the raw value is an argument of format, never a template.
    return Reason(
        UNREADABLE_CODE,
        text.en.format(field=u.source, value=u.raw),
        text.zh.format(field=u.source, value=u.raw),
    )


def _balanced(a: Account, tolerance: float) -> bool | None:
    """Do the statements add up? None when the balance sheet is not on file."""
    ta, tl, eq = a.total_assets, a.total_liabilities, a.equity
    if ta is None or tl is None or eq is None:
        return None
    slack = tolerance * max(ta, 1.0)
    if a.current_assets is not None and a.current_assets > ta + slack:
        return False
    return abs(ta - tl - eq) <= slack


def _downgrade(
    cp: CompiledPolicy, previous: Assessment | None, grade: str, as_of: datetime
) -> datetime | None:
    """When the current downgrade happened, if GRADE_DOWNGRADE is to be raised now."""
    if previous is None or grade < previous.grade:  # first assessment, or an upgrade
        return None
    if grade > previous.grade:
        return as_of
    since = previous.downgraded_at
    if since is None and cp.downgrade_flag in previous.flags:
        since = previous.assessed_at  # the previous values were rebuilt from the CRM
    if since is not None and as_of - since < cp.downgrade_hold:
        return since
    return None


def credit_limit(
    a: Account, cp: CompiledPolicy, grade: str, knocked: bool, steps: dict[str, Any] | None = None
) -> tuple[int | None, str | None, str | None]:
    """(limit, currency, a finding's code when no limit can be set).

    Limit = the smallest of need, capacity, the request and the cap, rounded down;
    0 means prepayment. Pass ``steps`` to have each step written into it (for explain;
    ``rule`` is a key of ``crmqual.texts``' ``rule.*`` texts, or (key, its values)).
    """
    trace: dict[str, Any] = {} if steps is None else steps
    currency = a.currency or a.statement_currency
    if knocked:
        trace["rule"] = "rejected"
        return 0, currency, None
    if currency is None:
        trace["rule"] = "no_currency"
        return None, None, "CURRENCY_MISSING"
    rule = cp.grade_rules[grade]
    trace["terms_days"] = rule.term_days
    if rule.term_days == 0:
        trace["rule"] = "prepayment_terms"
        return 0, currency, None
    cap = cp.caps.get(currency)
    if cap is None:
        trace["rule"] = ("no_cap", {"currency": currency})
        return None, currency, "CURRENCY_NO_RATE"
    factor = 1.0
    statement_currency = a.statement_currency or currency
    if statement_currency != currency:
        units = cp.units_per_base
        if statement_currency not in units or currency not in units:
            trace["rule"] = ("no_rate", {"source": statement_currency, "target": currency})
            return None, currency, "CURRENCY_NO_RATE"
        factor = units[currency] / units[statement_currency]
    limit = trace["cap"] = cap * rule.cap_share
    capacity = None
    if a.equity is not None:
        capacity = trace["capacity_equity"] = max(0.0, a.equity * factor) * rule.equity_share
    if a.revenue is not None:
        by_revenue = trace["capacity_revenue"] = a.revenue * factor * rule.revenue_share
        capacity = by_revenue if capacity is None else min(capacity, by_revenue)
    share = rule.working_capital_share
    if share is not None and a.current_assets is not None and a.current_liabilities is not None:
        by_wc = max(0.0, (a.current_assets - a.current_liabilities) * factor) * share
        trace["capacity_working_capital"] = by_wc
        capacity = by_wc if capacity is None else min(capacity, by_wc)
    if capacity is None:
        trace["rule"] = "no_financials"
        return None, currency, "LIMIT_NO_FINANCIALS"
    limit = min(limit, capacity)
    if a.expected_monthly_purchases is not None:
        need = a.expected_monthly_purchases * (rule.term_days + cp.tolerated_delay_days) / 30.0
        limit = min(limit, need)
        trace["need"] = need
    if a.requested_limit is not None:
        limit = min(limit, a.requested_limit)
        trace["requested"] = a.requested_limit
    rounded = int(limit // cp.rounding * cp.rounding)
    trace["limit"] = rounded
    return rounded, currency, None
