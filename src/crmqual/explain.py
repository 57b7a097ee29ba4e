"""A readable account of how an assessment came about (``crmqual assess --explain``)."""

from __future__ import annotations

from typing import Any

from crmqual.compiled import CompiledPolicy, compiled
from crmqual.engine import Assessment, credit_limit
from crmqual.indicators import INDICATORS, Value
from crmqual.model import Account
from crmqual.policy import Policy


def _fmt(value: Value) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool | str):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def explain(
    account: Account, result: Assessment, policy: Policy | CompiledPolicy, lang: str = "en"
) -> str:
    """Every step from the account's inputs to the grade, limit, flags and reasons."""
    cp = compiled(policy)
    pol = cp.policy
    zh = lang == "zh"
    lines = [
        f"Account {account.id}" + (f" — {account.name}" if account.name else ""),
        f"Policy {result.policy_version}, as of {result.assessed_at.isoformat()}",
        "",
        f"Status  {result.status} ({getattr(pol.statuses[result.status], lang)})",  # type: ignore[index]
        f"Grade   {result.grade} ({_grade_label(pol, result.grade, zh)})",
        f"Score   {result.score} / 100   data completeness {result.data_completeness}%",
        f"Limit   {_limit(result)}   terms {result.payment_terms}"
        f" ({getattr(pol.term(result.payment_terms).label, lang)})",
        "",
        "Scorecard (points 0-100 per indicator; weight = share of the whole score):",
    ]
    for d_index, name in enumerate(cp.dimension_names):
        weight = cp.dimension_weights[d_index]
        contribution = result.contributions[d_index]
        dim = pol.scorecard.dimensions[d_index]
        lines.append(
            f"  {name} ({getattr(dim.label, lang)}): weight {weight:.0%},"
            f" {contribution / weight:.1f} points, adds {contribution:.1f} to the score"
        )
        for line in cp.lines:
            if line.dimension != d_index:
                continue
            value = result.indicators.get(line.name)
            points = line.points_for(value)
            shown = f"{points:g}" + (" (missing)" if value is None else "")
            label = INDICATORS[line.name].zh if zh else INDICATORS[line.name].en
            lines.append(
                f"    {line.name:<22} {_fmt(result.indicators.get(line.name)):>12}"
                f"  points {shown:<14} weight {line.weight:.1%}  [{label}]"
            )
    lines += ["", "Admission rules that hold:"]
    fired = [
        (kind, reason)
        for kind, rules in (
            ("knock-out", cp.knockouts),
            ("review", cp.reviews),
            ("condition", cp.conditions),
        )
        for test, reason in rules
        if test(result.indicators)
    ]
    lines += [f"  {kind}: {r.code} — {getattr(r, lang)}" for kind, r in fired] or ["  none"]
    lines += ["", "Credit limit:"]
    steps: dict[str, Any] = {}
    credit_limit(account, cp, result.grade, result.status == "rejected", steps)
    lines += [f"  {key}: {_fmt(value)}" for key, value in steps.items()]
    lines += ["", "Flags:"]
    for code in result.flags:
        flag = next(f for f in pol.flags if f.code == code)
        lines.append(f"  {code} ({flag.severity}) — {getattr(flag.label, lang)}")
    if not result.flags:
        lines.append("  none")
    lines += ["", "Reasons:"]
    lines += [f"  {i}. {r.code}: {getattr(r, lang)}" for i, r in enumerate(result.reasons, 1)]
    return "\n".join(lines)


def _grade_label(pol: Policy, grade: str, zh: bool) -> str:
    band = next(g for g in pol.grades if g.grade == grade)
    return band.label.zh if zh else band.label.en


def _limit(result: Assessment) -> str:
    if result.credit_limit is None:
        return "none (needs review)"
    if result.credit_limit == 0:
        return f"0 {result.limit_currency or ''} (prepayment)".rstrip()
    return f"{result.credit_limit:,} {result.limit_currency or ''}".rstrip()
