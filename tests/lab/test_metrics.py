"""ROC AUC, Gini and KS against their definitions (every bad/good pair; every threshold)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmqual.metrics import auc, gini, ks

SAMPLES = st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=80)


def pairwise_auc(risk: list[float], bad: list[bool]) -> float | None:
    bads = [r for r, b in zip(risk, bad, strict=True) if b]
    goods = [r for r, b in zip(risk, bad, strict=True) if not b]
    if not bads or not goods:
        return None
    wins = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in bads for y in goods)
    return wins / (len(bads) * len(goods))


def threshold_ks(risk: list[float], bad: list[bool]) -> float | None:
    nb, ng = sum(bad), len(bad) - sum(bad)
    if not nb or not ng:
        return None
    gaps = []
    for cut in sorted(set(risk)):
        sb = sum(1 for r, b in zip(risk, bad, strict=True) if b and r <= cut)
        sg = sum(1 for r, b in zip(risk, bad, strict=True) if not b and r <= cut)
        gaps.append(abs(sg / ng - sb / nb))
    return max(gaps)


@given(SAMPLES)
def test_auc_is_the_share_of_bad_good_pairs_ranked_right(sample: list[tuple[int, bool]]) -> None:
    risk, bad = [float(r) for r, _ in sample], [b for _, b in sample]
    expected = pairwise_auc(risk, bad)
    got = auc(risk, bad)
    assert (got is None) == (expected is None)
    if got is not None and expected is not None:
        assert got == pytest.approx(expected)
        assert gini(got) == pytest.approx(2 * expected - 1)


@given(SAMPLES)
def test_ks_is_the_largest_gap_over_every_threshold(sample: list[tuple[int, bool]]) -> None:
    risk, bad = [float(r) for r, _ in sample], [b for _, b in sample]
    expected = threshold_ks(risk, bad)
    got = ks(risk, bad)
    assert (got is None) == (expected is None)
    if got is not None:
        assert got == pytest.approx(expected)


def test_a_perfect_ranking_an_inverted_one_and_a_blind_one() -> None:
    risk = [1.0, 2.0, 3.0, 4.0]
    assert auc(risk, [False, False, True, True]) == 1.0
    assert ks(risk, [False, False, True, True]) == 1.0
    assert auc(risk, [True, True, False, False]) == 0.0
    assert auc([5.0] * 4, [False, True, False, True]) == 0.5  # ties count half
    assert gini(None) is None and auc(risk, [False] * 4) is None
    with pytest.raises(ValueError):
        auc(risk, [True])


def test_random_outcomes_give_an_auc_near_one_half() -> None:
    rng = random.Random(11)
    risk = [rng.random() for _ in range(20_000)]
    bad = [rng.random() < 0.1 for _ in risk]
    area = auc(risk, bad)
    assert area is not None and abs(area - 0.5) < 0.02
