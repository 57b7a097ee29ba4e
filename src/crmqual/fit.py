"""Fit a scorecard to a company's own history, written as an ordinary policy.

Each numeric indicator is binned monotonically against the outcome (optbinning); a
regularised logistic regression gives every band (and missing) its own log-odds, pooled
back into the binning's direction where the regression turned two bands round. The
log-odds each band adds become its points: every indicator's points run
over 0-100 and its weight is its share of the card's whole log-odds range, so the
engine's score (points x weights) is a straight line of the log-odds, and the points to
double the odds follow from the range (stated, never chosen). Grade floors are re-cut so
each grade keeps the base policy's share of accounts (its approval rate) unless an
approval rate is given. Knock-outs, limits, flags and texts are the base policy's.

Only out-of-sample figures are reported: k-fold, and out-of-time when the rows are dated.
optbinning, scikit-learn and numpy come with the ``fit`` extra and are imported when a
fit runs, so the rest of crmqual works without them.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crmqual.errors import InputError
from crmqual.indicators import INDICATORS, Value
from crmqual.metrics import auc
from crmqual.policy import GRADES, Policy, parse_policy
from crmqual.texts import t

#: Fewer bad outcomes than this and the fit is refused: each of the 5 folds that measure
#: it out of sample must hold at least 10 bads, or its AUC is noise (one bad moves it by
#: a tenth of the goods' share) and the bins' bad rates rest on two or three defaults.
MIN_BAD = 50
#: The same floor for good outcomes (the bins' rates need both).
MIN_GOOD = 50
FOLDS = 5
SEED = 0
#: Ridge strength of the logistic regression (scikit-learn's C; smaller is stronger). One
#: coefficient per band spreads an indicator over up to nine of them; 0.1 ranked best
#: out of sample on the Polish files (bench/score_quality.py) among 0.03-1.
REGULARISATION = 0.1
MAX_BINS = 8
#: An indicator whose bins tell bad from good less than this (information value) is left
#: out: below 0.02 it is "not predictive" in scorecard practice (Siddiqi, 2006).
MIN_IV = 0.02

#: Amounts in a currency are not fitted: their bands would mean something else in another
#: currency. Ratios, counts, ages and 0-100 scores are.
AMOUNTS = frozenset(
    {
        "revenue",
        "equity",
        "operating_cash_flow",
        "registered_capital",
        "current_exposure",
        "overdue_amount",
    }
)
FIT_INDICATORS: tuple[str, ...] = tuple(
    name for name, ind in INDICATORS.items() if ind.kind == "number" and name not in AMOUNTS
)

#: The dimension an indicator joins when the base policy does not score it.
DIMENSION_OF = {
    "debt_ratio": "financial_health",
    "equity_ratio": "financial_health",
    "current_ratio": "financial_health",
    "quick_ratio": "financial_health",
    "altman_z2": "financial_health",
    "net_margin": "profitability",
    "roa": "profitability",
    "ebitda_margin": "profitability",
    "interest_cover": "repayment_capacity",
    "cash_flow_to_debt": "repayment_capacity",
    "debt_to_ebitda": "repayment_capacity",
    "overdue_count": "credit_record",
    "overdue_max_days": "credit_record",
    "defaults": "credit_record",
    "external_score_pct": "credit_record",
    "company_age_years": "business_stability",
    "revenue_growth": "business_stability",
    "relationship_years": "business_stability",
    "employees": "business_stability",
    "statement_age_months": "business_stability",
    "lawsuits_defendant": "legal_compliance",
    "enforcement_records": "legal_compliance",
    "penalties": "legal_compliance",
    "reputation_score": "reputation_operations",
    "operations_score": "reputation_operations",
    "esg_score": "esg",
}


class FitRefused(InputError):
    """The data cannot give a card worth writing; says why in both languages."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(t(key, "en", **values), zh=t(key, "zh", **values))


class TooFewOutcomes(FitRefused):
    """Not enough bad (or good) outcomes to fit and measure a card."""

    def __init__(self, bad: int, good: int) -> None:
        self.bad, self.good = bad, good
        super().__init__("fit.too_few", bad=bad, good=good, min_bad=MIN_BAD, min_good=MIN_GOOD)


class MissingExtra(FitRefused):
    """The ``fit`` extra is not installed."""

    def __init__(self, module: str) -> None:
        super().__init__("fit.no_extra", module=module)


def _libs() -> tuple[Any, Any, Any, Any, Any]:
    """numpy, optbinning's OptimalBinning, LogisticRegression, StratifiedKFold,
    IsotonicRegression."""
    try:
        import numpy as np
        from optbinning import OptimalBinning
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
    except ImportError as exc:
        raise MissingExtra(exc.name or "optbinning") from None
    return np, OptimalBinning, LogisticRegression, StratifiedKFold, IsotonicRegression


@dataclass(frozen=True)
class Sample:
    """Indicator values per row (None = missing), the outcomes, and each row's date."""

    values: list[dict[str, Value]]
    bad: list[bool]
    dates: list[date | None] = field(default_factory=list)

    def take(self, rows: Sequence[int]) -> Sample:
        dates = [self.dates[i] for i in rows] if self.dates else []
        return Sample([self.values[i] for i in rows], [self.bad[i] for i in rows], dates)


@dataclass(frozen=True)
class FittedLine:
    """One indicator of a fitted card: bands, the points of each, missing points, weight."""

    indicator: str
    direction: str
    bands: tuple[float, ...]
    points: tuple[float, ...]
    missing: float
    weight: float  # the indicator's log-odds range: its share of the card

    def points_for(self, value: Value) -> float:
        if value is None or isinstance(value, str | bool):
            return self.missing
        return self.points[bisect_right(self.bands, value)]


@dataclass(frozen=True)
class Card:
    lines: tuple[FittedLine, ...]
    #: Score points that double the odds of a good outcome.
    points_to_double_odds: float

    def score(self, values: dict[str, Value]) -> float:
        """The score the engine gives these values (before rounding)."""
        total = sum(x.weight for x in self.lines)
        return sum(x.points_for(values.get(x.indicator)) * x.weight for x in self.lines) / total


def check_counts(bad: Sequence[bool]) -> None:
    bads = sum(bad)
    if bads < MIN_BAD or len(bad) - bads < MIN_GOOD:
        raise TooFewOutcomes(bads, len(bad) - bads)


def _column(np: Any, sample: Sample, name: str) -> Any:
    return np.array(
        [
            math.nan if not isinstance(v.get(name), int | float) else float(v[name])  # type: ignore[arg-type]
            for v in sample.values
        ],
        dtype=float,
    )


def fit_card(sample: Sample, regularisation: float = REGULARISATION) -> Card:
    """Bin, weigh and scale: the card for this sample (in-sample; measure it with
    ``cross_validate``)."""
    np, optimal_binning, logistic, _, isotonic = _libs()
    y = np.array(sample.bad, dtype=int)
    binned: dict[str, tuple[Any, Any]] = {}
    for name in FIT_INDICATORS:
        x = _column(np, sample, name)
        if np.isnan(x).all() or np.nanmin(x) == np.nanmax(x):
            continue
        binning = optimal_binning(
            name=name,
            dtype="numerical",
            solver="cp",
            monotonic_trend="auto_asc_desc",
            max_n_bins=MAX_BINS,
        )
        with warnings.catch_warnings():  # pandas' deprecation notes from inside optbinning
            warnings.simplefilter("ignore")
            binning.fit(x, y)
            table = binning.binning_table.build()
        if len(binning.splits) == 0 or float(table.loc["Totals", "IV"]) < MIN_IV:
            continue
        binned[name] = (binning, x)
    if not binned:
        raise FitRefused("fit.nothing")
    # One column per bin and one for missing (dummy coding): each band gets its own
    # log-odds rather than a single slope through its weight of evidence, which lets the
    # regression discount what other indicators already tell.
    columns, layout = [], []
    for name, (binning, x) in binned.items():
        n_bins = len(binning.splits) + 1
        index = np.where(np.isnan(x), n_bins, np.searchsorted(binning.splits, x, side="right"))
        dummies = np.zeros((len(x), n_bins + 1))
        dummies[np.arange(len(x)), index] = 1.0
        columns.append(dummies)
        layout.append((name, binning, n_bins, dummies[:, :n_bins].sum(axis=0)))
    model = logistic(C=regularisation, max_iter=5000).fit(np.hstack(columns), y)
    safety = -model.coef_[0]  # log-odds of a good outcome each band adds
    contributions = []
    start = 0
    for name, binning, n_bins, counts in layout:
        logodds, missing = safety[start : start + n_bins], float(safety[start + n_bins])
        start += n_bins + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            woes = binning.binning_table.build()["WoE"].iloc[:n_bins]
        # The bins' bad rates are monotone; the regression's bands may not be. They are
        # pooled back into the bins' own direction (isotonic, weighted by the rows in
        # each band), so the card stays a monotone points table.
        rises = float(woes.iloc[-1]) >= float(woes.iloc[0])
        pooled = isotonic(increasing=rises).fit_transform(
            np.arange(n_bins), logodds, sample_weight=counts
        )
        splits = [float(s) for s in binning.splits]
        contributions.append((name, splits, [float(v) for v in pooled], missing, rises))
    spans = [max(*c, m) - min(*c, m) for _, _, c, m, _ in contributions]
    total = sum(spans)
    if not total:
        raise FitRefused("fit.nothing")
    lines = []
    for (name, splits, logodds, missing, rises), span in zip(contributions, spans, strict=True):
        low = min(*logodds, missing)
        points = [_round(100 * (v - low) / span) if span else 50.0 for v in logodds]
        bands, points = _merge_equal([_round_band(s) for s in splits], _monotone(points, rises))
        lines.append(
            FittedLine(
                indicator=name,
                direction="safer" if rises else "riskier",
                bands=tuple(bands),
                points=tuple(points),
                missing=_round(100 * (missing - low) / span) if span else 50.0,
                weight=round(span / total * 100, 2),
            )
        )
    # An indicator whose weight rounds to nothing moves no score: it is left out.
    kept_lines = tuple(x for x in lines if x.weight > 0)
    # The score is 100 / total x log-odds (+ a constant): ln 2 of log-odds is this many points.
    return Card(kept_lines, points_to_double_odds=round(100 / total * math.log(2), 2))


def _round(points: float) -> float:
    return round(float(min(100.0, max(0.0, points))), 1)


def _round_band(threshold: float) -> float:
    """Thresholds to 4 significant digits: readable, and the bins barely move."""
    return float(f"{float(threshold):.4g}")


def _monotone(points: list[float], rises: bool) -> list[float]:
    """Rounding can leave two equal bins a tenth out of order; the declared direction
    holds exactly (the binning's own trend is monotone)."""
    out = list(points)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1]) if rises else min(out[i], out[i - 1])
    return out


def _merge_equal(bands: list[float], points: list[float]) -> tuple[list[float], list[float]]:
    """Neighbouring bands the regression pooled to the same points become one band: the
    same scores, a shorter table to read. A policy line needs one threshold at least."""
    kept_bands, kept_points = [], [points[0]]
    for threshold, value in zip(bands, points[1:], strict=True):
        if value != kept_points[-1]:
            kept_bands.append(threshold)
            kept_points.append(value)
    if not kept_bands:
        return bands[:1], points[:2]
    return kept_bands, kept_points


def folds(bad: Sequence[bool], k: int = FOLDS) -> list[tuple[list[int], list[int]]]:
    """scikit-learn's StratifiedKFold(k, shuffle=True, random_state=0): the folds the
    benchmark's boosting model uses too."""
    np, _, _, stratified, _ = _libs()
    y = np.array(bad, dtype=int)
    split = stratified(k, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y)
    return [(list(map(int, a)), list(map(int, b))) for a, b in split]


def cross_validate(sample: Sample, k: int = FOLDS) -> float | None:
    """ROC AUC of the engine's (rounded) score, each fold scored by a card fitted on the
    others."""
    risk = [0.0] * len(sample.bad)
    for train, test in folds(sample.bad, k):
        card = fit_card(sample.take(train))
        for i in test:
            risk[i] = -math.floor(card.score(sample.values[i]) + 0.5)
    return auc(risk, sample.bad)


def out_of_time(sample: Sample, share: float = 0.3) -> dict[str, Any] | None:
    """Fit on the earlier rows, score the later ones: the later part starts at the date
    the latest ``share`` of the rows begins with (a whole cohort stays on one side). None
    when the rows are not dated, all share one date, or the earlier part holds too few
    bad outcomes or the later part no bad or no good one."""
    if not sample.dates or any(d is None for d in sample.dates):
        return None
    days: list[date] = [d for d in sample.dates if d is not None]
    start = sorted(days)[min(len(days) - 1, int(len(days) * (1 - share)))]
    early = sample.take([i for i, d in enumerate(days) if d < start])
    late = sample.take([i for i, d in enumerate(days) if d >= start])
    if sum(early.bad) < MIN_BAD or not any(late.bad) or all(late.bad):
        return None
    card = fit_card(early)
    risk = [-math.floor(card.score(v) + 0.5) for v in late.values]
    return {
        "auc": auc(risk, late.bad),
        "fitted_until": str(max(d for d in early.dates if d is not None)),
        "scored_from": str(start),
        "scored_rows": len(late.bad),
        "scored_bad": sum(late.bad),
    }


def grade_floors(
    scores: Sequence[float], shares: dict[str, float], approval_rate: float | None = None
) -> dict[str, int]:
    """Score floors giving each grade ``shares`` of ``scores`` (the base policy's shares,
    best grade first); with ``approval_rate``, that share scores above E instead and A-D
    keep their relative shares. Floors fall strictly from A to E (0)."""
    if approval_rate is not None:
        above = sum(shares[g] for g in GRADES[:-1]) or 1.0
        shares = {g: shares[g] / above * approval_rate for g in GRADES[:-1]} | {
            "E": 1 - approval_rate
        }
    ordered = sorted(scores, reverse=True)
    floors: dict[str, int] = {}
    cumulative = 0.0
    previous = 101
    for grade in GRADES[:-1]:
        cumulative += shares[grade]
        index = min(len(ordered) - 1, max(0, math.ceil(cumulative * len(ordered)) - 1))
        floor = math.floor(ordered[index] + 0.5) if ordered else 50
        left = len(GRADES) - 1 - GRADES.index(grade)  # grades still to place above 0
        floor = max(left, min(previous - 1, floor))
        floors[grade] = floor
        previous = floor
    floors["E"] = 0
    return floors


def fitted_policy(
    base: Policy,
    card: Card,
    floors: dict[str, int],
    name: str,
    description: str,
) -> Policy:
    """The base policy with the fitted scorecard and grade floors (validated)."""
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    reasons: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for dim in data["scorecard"]["dimensions"]:
        labels[dim["name"]] = dim["label"]
        for ind in dim["indicators"]:
            reasons[ind["indicator"]] = ind["reason"]
    dimensions: dict[str, dict[str, Any]] = {}
    for line in card.lines:
        dim_name = DIMENSION_OF[line.indicator]
        dim = dimensions.setdefault(
            dim_name,
            {
                "name": dim_name,
                "label": labels.get(dim_name) or _label(dim_name),
                "weight": 0.0,
                "indicators": [],
            },
        )
        dim["weight"] = round(dim["weight"] + line.weight, 2)
        dim["indicators"].append(
            {
                "indicator": line.indicator,
                "direction": line.direction,
                "weight": line.weight,
                "missing": line.missing,
                "bands": list(line.bands),
                "points": list(line.points),
                "reason": reasons.get(line.indicator) or _reason(line),
            }
        )
    data["name"] = name
    data["description"] = description
    dims = list(dimensions.values())
    # Rounding leaves the weights a hundredth or two off 100; the largest absorbs it, so
    # `policy check` sees them add up.
    largest = max(dims, key=lambda d: d["weight"])
    largest["weight"] = round(100 - sum(d["weight"] for d in dims if d is not largest), 2)
    data["scorecard"]["dimensions"] = dims
    data["grades"] = [{**g, "min_score": floors[g["grade"]]} for g in data["grades"]]
    return parse_policy(data, name)


def _label(dimension: str) -> dict[str, str]:
    return {"en": t(f"fit.dim.{dimension}", "en"), "zh": t(f"fit.dim.{dimension}", "zh")}


def _reason(line: FittedLine) -> dict[str, str]:
    meta = INDICATORS[line.indicator]
    key = "fit.reason_low" if line.direction == "safer" else "fit.reason_high"
    return {
        "en": t(key, "en", label=meta.en, value="{value:.2f}"),
        "zh": t(key, "zh", label=meta.zh, value="{value:.2f}"),
    }


def grade_shares(grades: Sequence[str]) -> dict[str, float]:
    n = len(grades) or 1
    return {g: sum(1 for x in grades if x == g) / n for g in GRADES}


__all__ = [
    "FIT_INDICATORS",
    "MIN_BAD",
    "MIN_GOOD",
    "Card",
    "FitRefused",
    "MissingExtra",
    "Sample",
    "TooFewOutcomes",
    "check_counts",
    "cross_validate",
    "fit_card",
    "fitted_policy",
    "folds",
    "grade_floors",
    "grade_shares",
    "out_of_time",
]
