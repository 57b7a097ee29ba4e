"""How well scores rank real bankruptcies: the default policy, Altman's Z'', an
equal-weight card, a card fitted with `crmqual policy fit`'s code, and a boosting model.

Run by hand: ``python bench/score_quality.py [--data DIR]`` (needs the ``fit`` extra).
Reads the labelled Polish bankruptcy files (``../shared/data/polish_{1,5}year.csv``),
rebuilds absolute amounts from the ratios as the data set's README describes, maps every
row onto the common model and prints, per file, the ROC AUC (bankrupt = 1, lower score =
riskier) of:

- ``auc_policy``: the default policy's score;
- ``auc_zscore``: Altman's Z'' from the ratios (the data README's formula);
- ``auc_equal_weight``: an untrained card of the default policy's statement ratios, each
  with the policy's own bands, points spread evenly over them, equal weights, missing =
  the middle;
- ``auc_policy_statements_only`` (and ``auc_equal_weight_statements_only``): the same with
  the credit record, the cash-flow inputs (depreciation, operating cash flow) and the
  prior period masked, as where only statements are on file;
- ``auc_fitted_cv``: `crmqual.fit`'s card, 5-fold (each fold scored by a card fitted on
  the other four), scored as the engine scores it (rounded to whole points);
- ``auc_fitted_cross``: the card fitted on the other file, written as a policy and
  assessed by the engine on this one;
- ``auc_gbm_cv``: scikit-learn's HistGradientBoostingClassifier(random_state=0), defaults,
  on the same indicator values the fit bins (missing = NaN) and the same folds
  (StratifiedKFold(5, shuffle=True, random_state=0)); ``auc_gbm_cv_with_amounts`` gives it
  the rebuilt statement amounts too (size, which no ratio of the card carries).

Rows where Z'' is undefined are left out of every figure. Writes
``bench/results/score_quality.json``.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crmqual.engine import assess
from crmqual.fit import (
    FIT_INDICATORS,
    Sample,
    cross_validate,
    fit_card,
    fitted_policy,
    folds,
    grade_floors,
    grade_shares,
)
from crmqual.indicators import indicator_values
from crmqual.metrics import auc
from crmqual.model import Account
from crmqual.policy import Policy, load_policy

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
AS_OF = datetime(2013, 12, 31, tzinfo=UTC)  # the data's last observation year


def _num(row: dict[str, str], col: str) -> float | None:
    text = row.get(col, "")
    return float(text) if text not in ("", "?") else None


def _mul(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a * b


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def rebuild(row: dict[str, str]) -> dict[str, Any]:
    """Absolute amounts from the ratios (data README, "Rebuilding absolute amounts").

    Revenue is X9 x TA ("sales / TA"); X36 and the base behind X23 are other notions.
    Depreciation is (X26 x TL) - net income, X26 being (net profit + depreciation) / TL.
    """
    x = {f"X{i}": _num(row, f"X{i}") for i in range(1, 65)}
    ta = None if x["X29"] is None else 10 ** x["X29"]
    tl = _mul(x["X2"], ta)
    cl = _mul(x["X51"], ta)
    revenue = _mul(x["X9"], ta)
    net_income = _mul(x["X1"], ta)
    op_profit = _mul(x["X22"], ta)
    funds = _mul(x["X26"], tl)
    depreciation = None if funds is None or net_income is None else funds - net_income
    interest = _div(op_profit, x["X27"])
    values = {
        "total_assets": ta,
        "total_liabilities": tl,
        "equity": _mul(x["X10"], ta),
        "current_liabilities": cl,
        "current_assets": _mul(x["X4"], cl),
        "retained_earnings": _mul(x["X6"], ta),
        "ebit": _mul(x["X7"], ta),
        "net_income": net_income,
        "interest_expense": interest,
        "revenue": revenue,
        "prior_revenue": _div(revenue, x["X21"]),
        "inventory": None if revenue is None or x["X20"] is None else x["X20"] * revenue / 365,
        "depreciation": depreciation,
    }
    return values


def z2_from_ratios(row: dict[str, str]) -> float | None:
    """Altman Z'' (non-manufacturers) with the UCI mapping, as in the data README."""
    x3, x6, x7, x8 = (_num(row, c) for c in ("X3", "X6", "X7", "X8"))
    if x3 is None or x6 is None or x7 is None or x8 is None:
        return None
    return 6.56 * x3 + 3.26 * x6 + 6.72 * x7 + 1.05 * x8


def to_account(index: int, values: dict[str, Any]) -> tuple[Account, list[str]]:
    """Validate; an impossible value (e.g. negative sales) becomes missing, and is named."""
    data = {"id": str(index), "currency": "PLN", "statement_currency": "PLN"} | {
        k: v for k, v in values.items() if v is not None
    }
    dropped: list[str] = []
    while True:
        try:
            return Account.model_validate(data), dropped
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0])
                dropped.append(name)
                data.pop(name, None)


#: Masked for the statements-only figures: the credit record, the cash-flow inputs and the
#: prior period.
STATEMENTS_ONLY_MASK: dict[str, Any] = {
    "depreciation": None,
    "operating_cash_flow": None,
    "prior_revenue": None,
    "overdue_count": None,
    "overdue_max_days": None,
    "overdue_amount": None,
    "defaults": None,
    "external_score": None,
}
#: The statement ratios of the default policy (those this data can give).
STATEMENT_RATIOS = (
    "debt_ratio",
    "equity_ratio",
    "current_ratio",
    "quick_ratio",
    "altman_z2",
    "net_margin",
    "roa",
    "cash_flow_to_debt",
    "interest_cover",
    "revenue_growth",
)


def equal_weight_card(policy: Policy) -> list[tuple[str, list[float], bool]]:
    """(indicator, the policy's bands, rises with safety) for each statement ratio."""
    return [
        (i.indicator, i.bands, i.direction == "safer")
        for d in policy.scorecard.dimensions
        for i in d.indicators
        if i.indicator in STATEMENT_RATIOS
    ]


def equal_weight_score(card: list[tuple[str, list[float], bool]], values: dict[str, Any]) -> float:
    total = 0.0
    for name, bands, safer in card:
        v = values[name]
        if v is None:
            total += 0.5
            continue
        share = bisect.bisect_right(bands, v) / len(bands)
        total += share if safer else 1 - share
    return total / len(card)


def load(path: Path) -> dict[str, Any]:
    accounts, zscores, labels = [], [], []
    skipped_z = dropped_fields = 0
    with path.open(newline="") as f:
        for index, row in enumerate(csv.DictReader(f)):
            z = z2_from_ratios(row)
            if z is None or not math.isfinite(z):
                skipped_z += 1
                continue
            account, dropped = to_account(index, rebuild(row))
            dropped_fields += len(dropped)
            accounts.append(account)
            zscores.append(z)
            labels.append(int(row["class"]) == 1)
    return {
        "accounts": accounts,
        "z": zscores,
        "bad": labels,
        "skipped_z": skipped_z,
        "dropped": dropped_fields,
    }


def sample(accounts: list[Account], bad: list[bool]) -> Sample:
    return Sample([indicator_values(a, AS_OF.date()) for a in accounts], bad)


#: The statement amounts rebuilt from the ratios (for the boosting model's second figure).
AMOUNTS = (
    "total_assets",
    "total_liabilities",
    "equity",
    "current_liabilities",
    "current_assets",
    "retained_earnings",
    "ebit",
    "net_income",
    "interest_expense",
    "revenue",
    "prior_revenue",
    "inventory",
    "depreciation",
)


def gbm_cv(data: Sample, accounts: list[Account] | None = None) -> float | None:
    """The pinned boosting model on the fit's indicator values and folds; with
    ``accounts``, their statement amounts (size among them) are added to its inputs."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    def number(v: Any) -> float:
        return math.nan if not isinstance(v, int | float) else float(v)

    rows = [[number(v[n]) for n in FIT_INDICATORS] for v in data.values]
    if accounts is not None:
        amounts = [[number(getattr(a, n)) for n in AMOUNTS] for a in accounts]
        rows = [r + m for r, m in zip(rows, amounts, strict=True)]
    x = np.array(rows, dtype=float)
    x = x[:, ~np.isnan(x).all(axis=0)]  # inputs this data never has (the credit record)
    y = np.array(data.bad, dtype=int)
    risk = np.zeros(len(y))
    for train, test in folds(data.bad):
        model = HistGradientBoostingClassifier(random_state=0).fit(x[train], y[train])
        risk[test] = model.predict_proba(x[test])[:, 1]
    return auc(list(risk), data.bad)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evaluate(loaded: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    policy = load_policy()
    accounts, bad = loaded["accounts"], loaded["bad"]
    masked = [a.model_copy(update=STATEMENTS_ONLY_MASK) for a in accounts]
    full = sample(accounts, bad)
    only = sample(masked, bad)
    card = equal_weight_card(policy)
    started = time.perf_counter()
    fitted_cv = cross_validate(full)
    fit_seconds = time.perf_counter() - started
    base_grades = [assess(a, policy, as_of=AS_OF).grade for a in other["accounts"]]
    other_sample = sample(other["accounts"], other["bad"])
    fitted_card = fit_card(other_sample)
    other_scores = [fitted_card.score(v) for v in other_sample.values]
    fitted = fitted_policy(
        policy,
        fitted_card,
        grade_floors(other_scores, grade_shares(base_grades)),
        "bench-fitted",
        "fitted by bench/score_quality.py on the other file",
    )
    return {
        "rows": len(bad),
        "bankrupt": sum(bad),
        "rows_without_z2": loaded["skipped_z"],
        "fields_dropped_as_impossible": loaded["dropped"],
        "auc_policy": _r(auc([-assess(a, policy, as_of=AS_OF).score for a in accounts], bad)),
        "auc_zscore": _r(auc([-z for z in loaded["z"]], bad)),
        "auc_equal_weight": _r(auc([-equal_weight_score(card, v) for v in full.values], bad)),
        "auc_fitted_cv": _r(fitted_cv),
        "auc_fitted_cross": _r(auc([-assess(a, fitted, as_of=AS_OF).score for a in accounts], bad)),
        "auc_gbm_cv": _r(gbm_cv(full)),
        "auc_gbm_cv_with_amounts": _r(gbm_cv(full, accounts)),
        "auc_policy_statements_only": _r(
            auc([-assess(a, policy, as_of=AS_OF).score for a in masked], bad)
        ),
        "auc_equal_weight_statements_only": _r(
            auc([-equal_weight_score(card, v) for v in only.values], bad)
        ),
        "fitted_cv_seconds": round(fit_seconds, 1),
        "fitted_cross_indicators": [x.indicator for x in fitted_card.lines],
        "fitted_cross_points_to_double_odds": fitted_card.points_to_double_odds,
        "policy_version": policy.version,
    }


KEYS = (
    ("auc_policy", "default policy"),
    ("auc_zscore", "Altman Z''"),
    ("auc_equal_weight", "equal-weight card"),
    ("auc_fitted_cv", "fitted card, 5-fold"),
    ("auc_fitted_cross", "fitted card, other file"),
    ("auc_gbm_cv", "boosting, 5-fold"),
    ("auc_gbm_cv_with_amounts", "boosting, 5-fold, + statement amounts"),
    ("auc_policy_statements_only", "default policy, statements only"),
    ("auc_equal_weight_statements_only", "equal-weight card, statements only"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "score_quality.json")
    args = parser.parse_args()
    names = ("polish_1year", "polish_5year")
    loaded = {n: load(args.data / f"{n}.csv") for n in names}
    results: dict[str, Any] = {}
    for name, other in zip(names, reversed(names), strict=True):
        r = evaluate(loaded[name], loaded[other])
        ratio = r["auc_fitted_cv"] / r["auc_gbm_cv"]
        r["fitted_cv_to_gbm"] = round(ratio, 4)
        results[name] = r
        print(
            f"{name}: {r['rows']} rows, {r['bankrupt']} bankrupt"
            f" ({r['rows_without_z2']} without Z'' left out)"
        )
        for key, label in KEYS:
            print(f"  {label:38s} {r[key]:.4f}")
        print(f"  {'fitted 5-fold / boosting':38s} {ratio:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
