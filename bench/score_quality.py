"""How well the default policy's score ranks real bankruptcies, next to Altman's Z''.

Run by hand: ``python bench/score_quality.py [--data DIR]``. Reads the labelled Polish
bankruptcy files (``../shared/data/polish_{1,5}year.csv``), rebuilds absolute amounts
from the ratios as the data set's README describes, maps every row onto the common
model, assesses it with the default policy, and prints the ROC AUC of the score (lower
score = riskier) against the bankruptcy label, next to the AUC of Z'' computed here on
the same rows. Rows where Z'' is undefined are left out of both. Writes
``bench/results/score_quality.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crmqual.engine import assess
from crmqual.model import Account
from crmqual.policy import load_policy

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
AS_OF = datetime(2013, 12, 31, tzinfo=UTC)  # the data's last observation year
#: The statement items the bench rebuilds; "complete" rows have every one of them.
FINANCIAL_INPUTS = (
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


def roc_auc(scores: list[float], labels: list[int]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def evaluate(path: Path) -> dict[str, Any]:
    policy = load_policy()
    risk, zrisk, labels, complete = [], [], [], []
    skipped_z = 0
    dropped_fields = 0
    with path.open(newline="") as f:
        for index, row in enumerate(csv.DictReader(f)):
            z = z2_from_ratios(row)
            if z is None or not math.isfinite(z):
                skipped_z += 1
                continue
            values = rebuild(row)
            account, dropped = to_account(index, values)
            dropped_fields += len(dropped)
            result = assess(account, policy, as_of=AS_OF)
            risk.append(-float(result.score))
            zrisk.append(-z)
            labels.append(int(row["class"]))
            complete.append(all(getattr(account, k) is not None for k in FINANCIAL_INPUTS))
    picked = [i for i, ok in enumerate(complete) if ok]
    return {
        "rows": len(labels),
        "bankrupt": sum(labels),
        "rows_without_z2": skipped_z,
        "fields_dropped_as_impossible": dropped_fields,
        "auc_policy": round(roc_auc(risk, labels), 4),
        "auc_zscore": round(roc_auc(zrisk, labels), 4),
        "complete_rows": len(picked),
        "auc_policy_complete": round(
            roc_auc([risk[i] for i in picked], [labels[i] for i in picked]), 4
        ),
        "auc_zscore_complete": round(
            roc_auc([zrisk[i] for i in picked], [labels[i] for i in picked]), 4
        ),
        "policy_version": policy.version,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "score_quality.json")
    args = parser.parse_args()
    results = {}
    for name in ("polish_1year", "polish_5year"):
        r = evaluate(args.data / f"{name}.csv")
        results[name] = r
        print(
            f"{name}: {r['rows']} rows ({r['bankrupt']} bankrupt; {r['rows_without_z2']} without"
            f" Z'' left out)  AUC policy {r['auc_policy']:.4f}  Z'' {r['auc_zscore']:.4f}"
        )
        print(
            f"{name}, complete rows only: {r['complete_rows']} rows"
            f"  AUC policy {r['auc_policy_complete']:.4f}  Z'' {r['auc_zscore_complete']:.4f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
