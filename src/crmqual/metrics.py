"""How well a ranking separates bad accounts from good ones: ROC AUC, Gini and KS.

Plain Python, one sort each (O(n log n)); ties are counted as half (AUC) and move together
(KS), so a ranking that cannot tell two accounts apart gets no credit for either order.
``risk`` is higher for the riskier account; ``bad`` says which accounts went bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

__all__ = ["auc", "gini", "ks"]

_FIRST = itemgetter(0)


def _groups(risk: Sequence[float], bad: Sequence[bool]) -> list[tuple[int, int]]:
    """(bads, goods) per distinct risk value, from the safest to the riskiest."""
    if len(risk) != len(bad):
        raise ValueError("risk and bad must be as long as each other")
    pairs = sorted(zip(risk, bad, strict=True), key=_FIRST)
    out = []
    for _, group in groupby(pairs, key=_FIRST):
        flags = [b for _, b in group]
        bads = sum(flags)
        out.append((bads, len(flags) - bads))
    return out


def auc(risk: Sequence[float], bad: Sequence[bool]) -> float | None:
    """P(a bad account ranks riskier than a good one), ties counting half; None without
    both a bad and a good account."""
    groups = _groups(risk, bad)
    total_bad = sum(b for b, _ in groups)
    total_good = sum(g for _, g in groups)
    if not total_bad or not total_good:
        return None
    goods_below = 0
    wins = 0.0
    for bads, goods in groups:
        wins += bads * (goods_below + goods / 2)
        goods_below += goods
    return wins / (total_bad * total_good)


def gini(area: float | None) -> float | None:
    """The Gini coefficient (accuracy ratio) of an AUC: 2 x AUC - 1."""
    return None if area is None else 2 * area - 1


def ks(risk: Sequence[float], bad: Sequence[bool]) -> float | None:
    """Kolmogorov-Smirnov statistic: the largest gap between the share of bads and the share
    of goods at or below a risk threshold; None without both a bad and a good account."""
    groups = _groups(risk, bad)
    total_bad = sum(b for b, _ in groups)
    total_good = sum(g for _, g in groups)
    if not total_bad or not total_good:
        return None
    seen_bad = seen_good = 0
    best = 0.0
    for bads, goods in groups:
        seen_bad += bads
        seen_good += goods
        best = max(best, abs(seen_good / total_good - seen_bad / total_bad))
    return best
