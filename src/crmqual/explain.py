"""A readable account of how an assessment came about (``crmqual assess --explain``)."""

from __future__ import annotations

import math
from typing import Any

from crmqual.compiled import CompiledPolicy, compiled
from crmqual.engine import Assessment, credit_limit
from crmqual.indicators import INDICATORS, Value
from crmqual.model import Account
from crmqual.policy import Policy
from crmqual.texts import amount, pad, pct, t, t_or

#: Indicators that are ratios (shown as percentages) and amounts (in a currency).
RATIOS = frozenset(
    {
        "debt_ratio",
        "equity_ratio",
        "net_margin",
        "roa",
        "cash_flow_to_debt",
        "ebitda_margin",
        "revenue_growth",
        "data_completeness",
    }
)
MULTIPLES = frozenset(
    {"current_ratio", "quick_ratio", "interest_cover", "altman_z2", "debt_to_ebitda"}
)
AMOUNTS = frozenset({"revenue", "operating_cash_flow", "equity", "registered_capital"})
CREDIT_AMOUNTS = frozenset({"overdue_amount", "current_exposure"})
#: Steps of the credit limit that are amounts in the limit's currency.
STEP_AMOUNTS = frozenset(
    {
        "cap",
        "capacity_equity",
        "capacity_revenue",
        "capacity_working_capital",
        "need",
        "requested",
        "limit",
    }
)


def fmt_indicator(name: str, value: Value, account: Account, lang: str) -> str:
    """An indicator's value as an admin reads it: ratios as percentages, amounts with
    thousands separators (万 / 亿 for CNY in Chinese), multiples with two decimals."""
    if value is None:
        return t("ex.missing", lang)
    if isinstance(value, bool | str):
        return str(value)
    if name in RATIOS:
        return pct(value, lang)
    if name in MULTIPLES:
        return f"{value:,.2f}"
    if name in AMOUNTS:
        return amount(value, account.statement_currency or account.currency, lang)
    if name in CREDIT_AMOUNTS:
        return amount(value, account.currency or account.statement_currency, lang)
    if name in ("company_age_years", "statement_age_months"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def _label(text: Any, lang: str) -> str:
    return str(text.zh if lang == "zh" else text.en)


def explain(
    account: Account, result: Assessment, policy: Policy | CompiledPolicy, lang: str = "en"
) -> str:
    """Every step from the account's inputs to the grade, limit, flags and reasons."""
    cp = compiled(policy)
    pol = cp.policy
    zh = lang == "zh"
    status = _label(pol.statuses[result.status], lang)  # type: ignore[index]
    term = _label(pol.term(result.payment_terms).label, lang)
    grade = _grade_label(pol, result.grade, zh)
    head = 8 if not zh else 6

    def named(code: str, label: str) -> str:
        return label if zh else f"{code} ({label})"

    lines = [
        f"{t('ex.account', lang)} {account.id}" + (f" — {account.name}" if account.name else ""),
        t("ex.policy", lang, version=result.policy_version, date=result.assessed_at.isoformat()),
        "",
        f"{pad(t('ex.status', lang), head)}{named(result.status, status)}",
        f"{pad(t('ex.grade', lang), head)}{result.grade} ({grade})",
        f"{pad(t('ex.score', lang), head)}{result.score} / 100   {t('ex.completeness', lang)}"
        f" {result.data_completeness}" + ("%" if zh else " %"),
        f"{pad(t('ex.limit', lang), head)}{_limit(result, lang)}   {t('ex.terms', lang)}"
        f" {named(result.payment_terms, term)}",
        "",
        t("ex.scorecard", lang),
    ]
    total = sum(d.weight for d in pol.scorecard.dimensions)
    if not math.isclose(total, 100):
        lines.append("  " + t("ex.normalised", lang, total=f"{total:g}"))
    for d_index, name in enumerate(cp.dimension_names):
        # The weight shown is the share the score is computed with (normalised).
        weight = cp.dimension_weights[d_index]
        contribution = result.contributions[d_index]
        dim = pol.scorecard.dimensions[d_index]
        detail = t(
            "ex.dimension",
            lang,
            weight=pct(weight, lang),
            points=f"{contribution / weight:.1f}",
            adds=f"{contribution:.1f}",
        )
        lines.append(f"  {named(name, _label(dim.label, lang))}: {detail}")
        for line in cp.lines:
            if line.dimension != d_index:
                continue
            value = result.indicators.get(line.name)
            points = line.points_for(value)
            shown = f"{points:g}" + (f" ({t('ex.missing', lang)})" if value is None else "")
            meta = INDICATORS[line.name]
            label = meta.zh if zh else line.name
            shown_value = fmt_indicator(line.name, value, account, lang)
            lines.append(
                f"    {pad(label, 22)} {pad(shown_value, 14, True)}"
                f"  {t('ex.points', lang)} {pad(shown, 14)}"
                f" {t('ex.weight', lang)} {pad(pct(line.weight, lang), 7, True)}"
                + ("" if zh else f"  [{meta.en}]")
            )
    lines += ["", t("ex.rules", lang)]
    fired = [
        (kind, reason)
        for kind, rules in (
            ("ex.knockout", cp.knockouts),
            ("ex.review", cp.reviews),
            ("ex.condition", cp.conditions),
        )
        for test, reason in rules
        if test(result.indicators)
    ]
    lines += [f"  {t(kind, lang)}: {r.code} — {getattr(r, lang)}" for kind, r in fired] or [
        f"  {t('ex.none', lang)}"
    ]
    lines += ["", t("ex.credit_limit", lang)]
    steps: dict[str, Any] = {}
    credit_limit(account, cp, result.grade, result.status == "rejected", steps)
    currency = account.currency or account.statement_currency
    for key, value in steps.items():
        if key == "rule":
            rule, values = value if isinstance(value, tuple) else (value, {})
            shown = t_or(f"rule.{rule}", lang, str(rule)).format(**values)
        elif key in STEP_AMOUNTS:
            shown = amount(value, currency, lang)
        else:
            shown = f"{value:,.0f}"
        lines.append(f"  {t_or(f'step.{key}', lang, key)}: {shown}")
    lines += ["", t("ex.flags", lang)]
    for code in result.flags:
        flag = next(f for f in pol.flags if f.code == code)
        severity = t(f"severity.{flag.severity}", lang)
        lines.append(f"  {code} ({severity}) — {_label(flag.label, lang)}")
    if not result.flags:
        lines.append(f"  {t('ex.none', lang)}")
    lines += ["", t("ex.reasons", lang)]
    lines += [f"  {i}. {r.code}: {getattr(r, lang)}" for i, r in enumerate(result.reasons, 1)]
    return "\n".join(lines)


def _grade_label(pol: Policy, grade: str, zh: bool) -> str:
    band = next(g for g in pol.grades if g.grade == grade)
    return band.label.zh if zh else band.label.en


def _limit(result: Assessment, lang: str = "en") -> str:
    if result.credit_limit is None:
        return t("ex.no_limit", lang)
    if result.credit_limit == 0:
        zero = f"0 {result.limit_currency or ''}".rstrip()
        return f"{zero} ({t('ex.prepayment', lang)})"
    return amount(result.credit_limit, result.limit_currency, lang)
