"""The compact id set behaves exactly like a set of strings."""

from __future__ import annotations

import random
import string

from hypothesis import given
from hypothesis import strategies as st

from crmqual.idset import IdSet


def test_numeric_ids_survive_merges() -> None:
    rng = random.Random(7)
    ids = [str(5725767000000000000 + rng.randrange(10**12)) for _ in range(5000)]
    ids += [str(n) for n in range(1, 300)]
    seen = IdSet(merge_at=100)
    for record_id in ids[:2500]:
        seen.add(record_id)
    assert all(record_id in seen for record_id in ids[:2500])
    missing = [i for i in ids[2500:] if i not in set(ids[:2500])]
    assert not any(record_id in seen for record_id in missing)
    assert len(seen) == len(set(ids[:2500]))
    assert "٣" not in seen and 7 not in seen


def test_merge_keeps_every_id() -> None:
    seen = IdSet(merge_at=7)
    numbers = random.Random(1).sample(range(10**18), 100)
    for n in numbers:
        seen.add(str(n))
        seen.add(str(n))  # a duplicate neither grows the set nor breaks the order
    assert len(seen) == 100
    assert all(str(n) in seen for n in numbers)
    assert str(max(numbers) + 1) not in seen


def test_ids_that_are_not_plain_numbers_stay_distinct() -> None:
    seen = IdSet()
    for record_id in ("7", "007", "0", "001Dn00000AbCdEIAZ", "٣", str(1 << 64)):
        seen.add(record_id)
    assert "7" in seen and "007" in seen and "07" not in seen
    assert "٣" in seen and "3" not in seen
    assert str(1 << 64) in seen and str((1 << 64) - 1) not in seen
    assert len(seen) == 6


def test_salesforce_ids_survive_merges_and_case_matters() -> None:
    rng = random.Random(3)
    alphabet = string.digits + string.ascii_letters
    ids = ["001" + "".join(rng.choices(alphabet, k=15)) for _ in range(3000)]
    seen = IdSet(merge_at=50)
    for record_id in ids[:1500]:
        seen.add(record_id)
        seen.add(record_id)
    assert len(seen) == len(set(ids[:1500]))
    assert all(record_id in seen for record_id in ids[:1500])
    assert not any(record_id in seen for record_id in set(ids[1500:]) - set(ids[:1500]))
    flipped = ids[0].swapcase()
    assert flipped != ids[0] and flipped not in seen  # Salesforce ids are case-sensitive


ID_TEXT = st.text(alphabet="0123456789aZz-", min_size=1, max_size=23)


@given(
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=(1 << 64) + 5).map(str),
            st.text(alphabet="0123456789aZ", min_size=1, max_size=4),
            ID_TEXT,
        ),
        max_size=60,
    ),
    st.lists(st.one_of(st.text(alphabet="0123456789aZ", min_size=1, max_size=4), ID_TEXT)),
)
def test_same_answers_as_a_set(added: list[str], probes: list[str]) -> None:
    seen, reference = IdSet(merge_at=3), set()
    for record_id in added:
        seen.add(record_id)
        reference.add(record_id)
    assert len(seen) == len(reference)
    for probe in probes + added:
        assert (probe in seen) == (probe in reference)
