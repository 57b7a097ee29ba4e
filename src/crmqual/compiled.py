"""A policy compiled for the per-account path: tuples, dicts and small closures.

Everything the engine would otherwise look up or build per account (reason objects of
rules, missing-data reasons, caps per currency, term days) is prepared here once.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crmqual.indicators import INDICATORS, Value, inputs_of
from crmqual.policy import LIMIT_TEXTS, Condition, FieldText, Policy, Text

Test = Callable[[dict[str, Value]], bool]


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding as a salesperson reads it: a stable code and its texts.

    A text may hold ``{value}`` (the indicator's value); it is rendered when read, so
    that assessing does not pay for formatting texts nobody displays.
    """

    code: str
    en_template: str
    zh_template: str
    value: float | None = None

    @property
    def en(self) -> str:
        return self.en_template if self.value is None else self.en_template.format(value=self.value)

    @property
    def zh(self) -> str:
        return self.zh_template if self.value is None else self.zh_template.format(value=self.value)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "en": self.en, "zh": self.zh}


@dataclass(frozen=True, slots=True)
class Line:
    """One scored indicator; ``weight`` is its share of the whole score (all sum to 1)."""

    index: int
    name: str
    code: str
    dimension: int
    bands: tuple[float, ...]
    points: tuple[float, ...]
    weight: float
    missing: float
    best: float
    reason: Text
    missing_reason: Reason
    #: The reason's wording for a value below zero (``reason.negative`` in the policy).
    negative: Text | None = None

    def points_for(self, value: Value) -> float:
        """The points this line gives a value (the policy's missing points for None)."""
        if value is None or isinstance(value, str):
            return self.missing
        return self.points[bisect_right(self.bands, value)]


@dataclass(frozen=True, slots=True)
class GradeRule:
    terms: str
    term_days: int
    equity_share: float
    revenue_share: float
    working_capital_share: float | None
    cap_share: float


@dataclass(frozen=True)
class CompiledPolicy:
    policy: Policy
    version: str
    lines: tuple[Line, ...]
    #: (index, name, bands, points, weight, missing points, dimension, best) per line.
    hot_lines: tuple[
        tuple[int, str, tuple[float, ...], tuple[float, ...], float, float, int, float], ...
    ]
    #: Shortfalls only become reasons when the points fall below this.
    reason_below: float
    dimension_names: tuple[str, ...]
    dimension_weights: tuple[float, ...]
    grade_floors: tuple[tuple[float, str], ...]  # (min_score, grade), best first
    knockouts: tuple[tuple[Test, Reason], ...]
    reviews: tuple[tuple[Test, Reason], ...]
    conditions: tuple[tuple[Test, Reason], ...]
    conditional_grades: frozenset[str]
    knockout_grade: str
    #: (code, indicator, comparison, threshold, None) for a plain numeric test, inlined by
    #: the engine; (code, "", None, 0.0, test) for any other condition.
    flag_checks: tuple[tuple[str, str, Callable[[Any, Any], bool] | None, float, Test | None], ...]
    flag_order: dict[str, int]
    over_limit_flag: str | None
    downgrade_flag: str | None
    downgrade_hold: timedelta
    grade_rules: dict[str, GradeRule]
    rejected_terms: str
    caps: dict[str, float]  # the largest limit per currency, rates applied
    units_per_base: dict[str, float]
    rounding: float
    tolerated_delay_days: int
    limit_reasons: dict[str, Reason]
    unbalanced_reason: Reason
    balance_tolerance: float
    max_reasons: int
    #: Account fields the knock-outs read: an unreadable one fails the record.
    knockout_inputs: frozenset[str] = frozenset()
    #: The flag and reason of an account with an unreadable input.
    unreadable_flag: str | None = None
    unreadable_reason: FieldText | None = None


_OPS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}


def compile_condition(cond: Condition) -> Test:
    """A closure testing the condition against an account's indicator values."""
    if cond.any is not None:
        anyof = tuple(compile_condition(c) for c in cond.any)

        def any_holds(v: dict[str, Value]) -> bool:
            # A plain loop: any() over a generator costs more on the per-account path.
            for part in anyof:  # noqa: SIM110
                if part(v):
                    return True
            return False

        return any_holds
    if cond.all is not None:
        allof = tuple(compile_condition(c) for c in cond.all)

        def all_hold(v: dict[str, Value]) -> bool:
            for part in allof:  # noqa: SIM110
                if not part(v):
                    return False
            return True

        return all_hold
    name = cond.indicator
    assert name is not None  # guaranteed by Condition's validator
    if cond.missing is not None:
        want_missing = cond.missing
        return lambda v: (v[name] is None) == want_missing
    if cond.in_ is not None:
        allowed = frozenset(cond.in_)
        return lambda v: v[name] in allowed
    if cond.is_ is not None:
        wanted = cond.is_
        return lambda v: v[name] is wanted
    op, threshold = next(
        (op, t)
        for op, t in (("lt", cond.lt), ("le", cond.le), ("gt", cond.gt), ("ge", cond.ge))
        if t is not None
    )
    compare = _OPS[op]

    def numeric(v: dict[str, Value]) -> bool:
        x = v[name]
        return x is not None and compare(x, threshold)

    return numeric


def condition_inputs(cond: Condition) -> set[str]:
    """Every account field a condition reads, through the indicators it names."""
    fields: set[str] = set()
    for part in (*(cond.any or ()), *(cond.all or ())):
        fields |= condition_inputs(part)
    if cond.indicator is not None:
        fields.update(inputs_of(cond.indicator))
    return fields


def _flag_check(
    code: str, cond: Condition
) -> tuple[str, str, Callable[[Any, Any], bool] | None, float, Test | None]:
    for op in ("lt", "le", "gt", "ge"):
        threshold = getattr(cond, op)
        if threshold is not None and cond.indicator is not None:
            return code, cond.indicator, _OPS[op], threshold, None
    return code, "", None, 0.0, compile_condition(cond)


def compile_policy(policy: Policy) -> CompiledPolicy:
    card = policy.scorecard
    total = sum(d.weight for d in card.dimensions)
    lines: list[Line] = []
    for d_index, dim in enumerate(card.dimensions):
        in_dim = sum(i.weight for i in dim.indicators)
        for ind in dim.indicators:
            meta = INDICATORS[ind.indicator]
            lines.append(
                Line(
                    index=len(lines),
                    name=ind.indicator,
                    code=ind.indicator.upper(),
                    dimension=d_index,
                    bands=tuple(ind.bands),
                    points=tuple(ind.points),
                    weight=dim.weight / total * ind.weight / in_dim,
                    missing=card.missing_points if ind.missing is None else ind.missing,
                    best=max(ind.points),
                    reason=ind.reason,
                    negative=ind.reason.negative,
                    missing_reason=Reason(
                        f"{ind.indicator.upper()}_MISSING",
                        card.missing_reason.en.format(value=meta.en),
                        card.missing_reason.zh.format(value=meta.zh),
                    ),
                )
            )
    adm = policy.admission
    cl = policy.credit_limit
    units = dict(cl.rates.per_base) | {cl.rates.base: 1.0}
    caps = dict(cl.max_limit)
    base_cap = cl.max_limit.get(cl.rates.base)
    if base_cap is not None:
        for currency, per in units.items():
            caps.setdefault(currency, base_cap * per)
    days = {t.code: t.days for t in policy.payment_terms}

    def rules(items: list[object]) -> tuple[tuple[Test, Reason], ...]:
        return tuple(
            (compile_condition(r.when), Reason(r.code, r.text.en, r.text.zh))  # type: ignore[attr-defined]
            for r in items
        )

    def builtin(kind: str) -> str | None:
        return next((f.code for f in policy.flags if f.builtin == kind), None)

    return CompiledPolicy(
        policy=policy,
        version=policy.version,
        lines=tuple(lines),
        hot_lines=tuple(
            (x.index, x.name, x.bands, x.points, x.weight, x.missing, x.dimension, x.best)
            for x in lines
        ),
        dimension_names=tuple(d.name for d in card.dimensions),
        dimension_weights=tuple(d.weight / total for d in card.dimensions),
        grade_floors=tuple(
            (g.min_score, g.grade) for g in sorted(policy.grades, key=lambda g: g.grade)
        ),
        knockouts=rules(list(adm.knockouts)),
        reviews=rules(list(adm.review)),
        conditions=rules(list(adm.conditions)),
        conditional_grades=frozenset(adm.conditional_grades),
        knockout_grade=adm.knockout_grade,
        flag_checks=tuple(_flag_check(f.code, f.when) for f in policy.flags if f.when is not None),
        flag_order={f.code: i for i, f in enumerate(policy.flags)},
        over_limit_flag=builtin("over_limit"),
        downgrade_flag=builtin("grade_downgrade"),
        downgrade_hold=timedelta(days=policy.grade_downgrade_hold_days),
        grade_rules={
            grade: GradeRule(
                terms=policy.grade_terms[grade],
                term_days=days[policy.grade_terms[grade]],
                equity_share=rule.equity_share,
                revenue_share=rule.revenue_share,
                working_capital_share=rule.working_capital_share,
                cap_share=rule.cap_share,
            )
            for grade, rule in cl.grades.items()
        },
        rejected_terms=policy.rejected_terms,
        caps=caps,
        units_per_base=units,
        rounding=cl.rounding,
        tolerated_delay_days=cl.tolerated_delay_days,
        limit_reasons={
            code: Reason(code, cl.texts[code].en, cl.texts[code].zh) for code in LIMIT_TEXTS
        },
        unbalanced_reason=Reason(
            "STATEMENTS_UNBALANCED", card.unbalanced_reason.en, card.unbalanced_reason.zh
        ),
        balance_tolerance=card.balance_tolerance,
        max_reasons=card.max_reasons,
        reason_below=card.reason_below_points,
        knockout_inputs=frozenset(
            field for rule in adm.knockouts for field in condition_inputs(rule.when)
        ),
        unreadable_flag=(
            card.unreadable_flag
            if any(f.code == card.unreadable_flag for f in policy.flags)
            else None
        ),
        unreadable_reason=card.unreadable_reason,
    )


_CACHE: dict[int, tuple[Policy, CompiledPolicy]] = {}


def compiled(policy: Policy | CompiledPolicy) -> CompiledPolicy:
    """The compiled form of a policy, compiled once per policy object."""
    if isinstance(policy, CompiledPolicy):
        return policy
    hit = _CACHE.get(id(policy))
    if hit is None or hit[0] is not policy:
        hit = (policy, compile_policy(policy))
        _CACHE[id(policy)] = hit
    return hit[1]
