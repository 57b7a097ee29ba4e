"""A set of record ids that stays small when a run reads millions of records.

A sync remembers every id it has read, to drop the duplicates of a boundary re-read and to
skip ids it would re-read by id. As a Python set of strings that costs about 100 bytes an
id (100 MB at a million). So ids are kept as integers in sorted arrays of 64-bit words, each
fed by a small set of recent ids that is merged in when it fills:
- decimal numbers (Zoho's 19 digits) as one word each, 8 bytes;
- letters and digits up to 21 characters (Salesforce's 18-character ids) packed 6 bits a
  character behind a leading 1 bit (which keeps the length, so "7" and "07" differ) into
  two words, 16 bytes;
- any other id as the string.
Which of the three holds an id follows from the id alone, so membership stays exact.
"""

from __future__ import annotations

import heapq
import string
from array import array
from bisect import bisect_left
from collections.abc import Iterator

#: Recent keys held in a plain set before they are merged into the sorted arrays.
MERGE_AT = 1 << 16
_UNSIGNED_64 = 1 << 64
_WORD = (1 << 64) - 1
_CODE = {c: i for i, c in enumerate(string.digits + string.ascii_letters)}
#: 1 + 6 x 21 = 127 bits: the longest id that packs into two words.
PACKED_LENGTH = 21


def _as_number(record_id: str) -> int | None:
    """The id as an integer when the integer gives back exactly this string, else None."""
    if not (record_id.isascii() and record_id.isdigit()):
        return None
    if len(record_id) > 1 and record_id[0] == "0":  # "007" and "7" are different ids
        return None
    number = int(record_id)
    return number if number < _UNSIGNED_64 else None


def _packed(record_id: str) -> int | None:
    """Letters and digits, 6 bits each after a leading 1 bit; None for any other id."""
    if len(record_id) > PACKED_LENGTH or not (record_id.isascii() and record_id.isalnum()):
        return None
    key = 1
    for char in record_id:
        key = (key << 6) | _CODE[char]
    return key


class _Wide:
    """Two word arrays read as one sorted sequence of 128-bit keys (for ``bisect``)."""

    def __init__(self, high: array[int], low: array[int]) -> None:
        self.high, self.low = high, low

    def __len__(self) -> int:
        return len(self.high)

    def __getitem__(self, i: int) -> int:
        return (self.high[i] << 64) | self.low[i]

    def __iter__(self) -> Iterator[int]:
        return ((h << 64) | lo for h, lo in zip(self.high, self.low, strict=True))


class _SortedKeys:
    """Distinct integer keys of one or two 64-bit words: sorted arrays plus a recent set."""

    def __init__(self, merge_at: int, wide: bool) -> None:
        self._merge_at, self._wide = merge_at, wide
        self._sorted: array[int] | _Wide = _Wide(array("Q"), array("Q")) if wide else array("Q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, key: int) -> bool:
        if key in self._recent:
            return True
        at = bisect_left(self._sorted, key)
        return at < len(self._sorted) and self._sorted[at] == key

    def add(self, key: int) -> None:
        if key in self:
            return
        self._recent.add(key)
        # Merging copies the arrays: let the recent set grow with them (an eighth), so the
        # copies stay linear in all.
        if len(self._recent) >= max(self._merge_at, len(self._sorted) >> 3):
            self._merge()

    def _merge(self) -> None:
        # heapq.merge streams both sorted runs: the peak is the arrays, never a list.
        merged = heapq.merge(self._sorted, sorted(self._recent))
        if isinstance(self._sorted, _Wide):
            high, low = array("Q"), array("Q")
            for key in merged:
                high.append(key >> 64)
                low.append(key & _WORD)
            self._sorted = _Wide(high, low)
        else:
            self._sorted = array("Q", merged)
        self._recent = set()


class IdSet:
    """``add`` and ``in`` for record ids; numeric ids take 8 bytes, alphanumeric ones 16."""

    def __init__(self, merge_at: int = MERGE_AT) -> None:
        self._numbers = _SortedKeys(merge_at, wide=False)
        self._packed = _SortedKeys(merge_at, wide=True)
        self._other: set[str] = set()

    def __len__(self) -> int:
        return len(self._numbers) + len(self._packed) + len(self._other)

    def __contains__(self, record_id: object) -> bool:
        if not isinstance(record_id, str):
            return False
        number = _as_number(record_id)
        if number is not None:
            return number in self._numbers
        key = _packed(record_id)
        return record_id in self._other if key is None else key in self._packed

    def add(self, record_id: str) -> None:
        number = _as_number(record_id)
        if number is not None:
            self._numbers.add(number)
            return
        key = _packed(record_id)
        if key is None:
            self._other.add(record_id)
        else:
            self._packed.add(key)
