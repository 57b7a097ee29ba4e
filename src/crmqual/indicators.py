"""The indicators a policy can refer to: raw account fields and derived ratios.

Each indicator has a name (what a policy writes), bilingual labels (what a salesperson
reads in a reason) and a function of the account and the assessment date. Ratios are
derived here and nowhere else; an undefined ratio (a missing input, a zero divisor) is
``None``, which the policy's missing treatment then scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import itemgetter

from crmqual.model import Account

Value = float | str | bool | None


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    en: str
    zh: str
    kind: str  # "number", "bool" or "text"


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or not den:
        return None
    return num / den


def altman_z2(a: Account) -> float | None:
    """Altman's Z'' for non-manufacturers and private firms (1995 form, no constant)."""
    ta, tl = a.total_assets, a.total_liabilities
    ca, cl = a.current_assets, a.current_liabilities
    re, ebit, eq = a.retained_earnings, a.ebit, a.equity
    if not ta or not tl or ca is None or cl is None or re is None or ebit is None or eq is None:
        return None
    return 6.56 * (ca - cl) / ta + 3.26 * re / ta + 6.72 * ebit / ta + 1.05 * eq / tl


def indicator_values(a: Account, today: date) -> dict[str, Value]:
    """Every indicator of an account as of a day; undefined ratios are None.

    One function rather than one per indicator: this is the engine's hot path. Only the
    ``AGES`` depend on the day (a stability snapshot bins them anew, and no other); a
    change to how an indicator is worked out must change ``stability.KEPT_FORM``.
    """
    d = a.__dict__
    values: dict[str, Value] = dict(zip(RAW_NAMES, _raw(d), strict=True))
    ta, tl, eq = d["total_assets"], d["total_liabilities"], d["equity"]
    ca, cl, inv = d["current_assets"], d["current_liabilities"], d["inventory"]
    ni, rev, dep = d["net_income"], d["revenue"], d["depreciation"]
    ebit, interest = d["ebit"], d["interest_expense"]
    values["debt_ratio"] = _ratio(tl, ta)
    values["equity_ratio"] = _ratio(eq, ta)
    values["current_ratio"] = _ratio(ca, cl)
    values["quick_ratio"] = None if ca is None else _ratio(ca - (inv or 0.0), cl)
    values["net_margin"] = _ratio(ni, rev)
    values["roa"] = _ratio(ni, ta)
    if ebit is None or interest is None:
        values["interest_cover"] = None
    elif interest == 0:
        # No interest to pay: as safe as the best band when profitable, unknown otherwise.
        values["interest_cover"] = NO_INTEREST_COVER if ebit >= 0 else None
    else:
        values["interest_cover"] = ebit / interest
    ebitda = None if ebit is None or dep is None else ebit + dep
    values["ebitda_margin"] = _ratio(ebitda, rev)
    # Years of cash earnings to repay all debt; no earnings to repay from is the worst case.
    if ebitda is None or tl is None:
        values["debt_to_ebitda"] = None
    else:
        values["debt_to_ebitda"] = tl / ebitda if ebitda > 0 else NO_EARNINGS_DEBT_YEARS
    # Beaver's (1966) cash flow to total debt, cash flow as net income + depreciation.
    values["cash_flow_to_debt"] = None if ni is None or dep is None else _ratio(ni + dep, tl)
    growth = _ratio(rev, d["prior_revenue"])
    values["revenue_growth"] = None if growth is None else growth - 1.0
    values["altman_z2"] = altman_z2(a)
    founded, period_end = d["founding_date"], d["period_end"]
    values["company_age_years"] = None if founded is None else age((today - founded).days, YEAR)
    values["statement_age_months"] = (
        None if period_end is None else age((today - period_end).days, MONTH)
    )
    score, low, high = d["external_score"], d["external_score_min"], d["external_score_max"]
    low = 0.0 if low is None else low
    high = 100.0 if high is None else high
    if score is None or high <= low:  # no score, or a scale that cannot place it
        values["external_score_pct"] = None
    else:
        values["external_score_pct"] = max(0.0, min(100.0, 100.0 * (score - low) / (high - low)))
    status = d["business_status"]
    values["abnormal_status"] = None if status is None else status != "active"
    return values


#: Days in the units of the ages below.
YEAR, MONTH = 365.25, 30.44

#: The indicators that are ages, which grow by the day they are taken on: the account field
#: each counts from, and its unit in days. (The others are the account's inputs alone.)
AGES: dict[str, tuple[str, float]] = {
    "company_age_years": ("founding_date", YEAR),
    "statement_age_months": ("period_end", MONTH),
}


def age(days: int, unit: float) -> float:
    """An age of ``days`` in units of ``unit`` days, never below zero."""
    return max(0.0, days / unit)


#: Debt to EBITDA reported when EBITDA is zero or negative: debt cannot be repaid from it.
NO_EARNINGS_DEBT_YEARS = 99.0
#: Interest cover reported when there is no interest expense and EBIT is not negative.
NO_INTEREST_COVER = 99.0

_DERIVED: tuple[tuple[str, str, str, str], ...] = (
    ("debt_ratio", "debt ratio", "资产负债率", "number"),
    ("equity_ratio", "equity ratio", "权益比率", "number"),
    ("current_ratio", "current ratio", "流动比率", "number"),
    ("quick_ratio", "quick ratio", "速动比率", "number"),
    ("net_margin", "net profit margin", "净利润率", "number"),
    ("roa", "return on assets", "资产回报率", "number"),
    ("interest_cover", "interest cover", "利息保障倍数", "number"),
    ("cash_flow_to_debt", "cash flow to debt", "现金流负债比", "number"),
    ("ebitda_margin", "EBITDA margin", "EBITDA利润率", "number"),
    ("debt_to_ebitda", "debt to EBITDA", "负债与EBITDA之比", "number"),
    ("revenue_growth", "revenue growth", "营收增长率", "number"),
    ("altman_z2", "Altman Z'' score", "Altman Z''值", "number"),
    ("company_age_years", "company age", "成立年限", "number"),
    ("statement_age_months", "age of the latest financial statement", "最新财报距今月数", "number"),
    ("external_score_pct", "external credit score", "外部信用评分", "number"),
    ("abnormal_status", "abnormal business status", "登记状态异常", "bool"),
)

_RAW: tuple[tuple[str, str, str, str], ...] = (
    ("overdue_count", "overdue payments (12 months)", "逾期次数（12个月）", "number"),
    ("overdue_max_days", "longest overdue (days)", "最长逾期天数", "number"),
    ("overdue_amount", "overdue amount", "逾期金额", "number"),
    ("defaults", "defaults", "违约记录", "number"),
    ("current_exposure", "open receivables", "当前应收敞口", "number"),
    ("lawsuits_defendant", "open lawsuits as defendant", "作为被告的未结诉讼", "number"),
    ("enforcement_records", "enforcement records", "被执行记录", "number"),
    ("penalties", "regulatory penalties", "行政处罚", "number"),
    ("sanctions_hit", "sanctions list match", "制裁名单命中", "bool"),
    ("business_status", "business registration status", "登记状态", "text"),
    ("reputation_score", "industry reputation", "行业信誉", "number"),
    ("operations_score", "operational capability", "运营能力", "number"),
    ("esg_score", "ESG score", "ESG评分", "number"),
    ("relationship_years", "length of relationship (years)", "合作年限", "number"),
    ("signed_agreement", "signed agreement", "已签署协议", "bool"),
    ("employees", "employees", "员工人数", "number"),
    ("revenue", "revenue", "营业收入", "number"),
    ("operating_cash_flow", "operating cash flow", "经营现金流", "number"),
    ("equity", "equity", "所有者权益", "number"),
    ("registered_capital", "registered capital", "注册资本", "number"),
)

RAW_NAMES: tuple[str, ...] = tuple(r[0] for r in _RAW)

#: The account fields each derived indicator reads (a raw indicator reads its own field).
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "debt_ratio": ("total_liabilities", "total_assets"),
    "equity_ratio": ("equity", "total_assets"),
    "current_ratio": ("current_assets", "current_liabilities"),
    "quick_ratio": ("current_assets", "inventory", "current_liabilities"),
    "net_margin": ("net_income", "revenue"),
    "roa": ("net_income", "total_assets"),
    "interest_cover": ("ebit", "interest_expense"),
    "cash_flow_to_debt": ("net_income", "depreciation", "total_liabilities"),
    "ebitda_margin": ("ebit", "depreciation", "revenue"),
    "debt_to_ebitda": ("total_liabilities", "ebit", "depreciation"),
    "revenue_growth": ("revenue", "prior_revenue"),
    "altman_z2": (
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "retained_earnings",
        "ebit",
        "equity",
    ),
    "company_age_years": ("founding_date",),
    "statement_age_months": ("period_end",),
    "external_score_pct": ("external_score", "external_score_min", "external_score_max"),
    "abnormal_status": ("business_status",),
}


def inputs_of(indicator: str) -> tuple[str, ...]:
    """The account fields an indicator is computed from (none for the engine's own)."""
    if indicator in DERIVED_INPUTS:
        return DERIVED_INPUTS[indicator]
    return (indicator,) if indicator in RAW_NAMES else ()


_raw = itemgetter(*RAW_NAMES)

INDICATORS: dict[str, Indicator] = {
    name: Indicator(name, en, zh, kind) for name, en, zh, kind in _DERIVED + _RAW
}
