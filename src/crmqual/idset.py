"""A set of record ids that stays small when a run reads millions of records.

A sync remembers every id it has read, to drop the duplicates of a boundary re-read and to
skip ids it would re-read by id. As a Python set of strings that costs about 100 bytes an
id (100 MB at a million). CRMs whose ids are decimal numbers (Zoho's are 19 digits) are
kept here as 8-byte integers in a sorted array, fed by a small set of recent ids that is
merged in when it fills; any other id is kept as the string. Membership stays exact.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left

#: Recent numeric ids held in a plain set before they are merged into the sorted array.
MERGE_AT = 1 << 16
_UNSIGNED_64 = 1 << 64


def _as_number(record_id: str) -> int | None:
    """The id as an integer when the integer gives back exactly this string, else None."""
    if not (record_id.isascii() and record_id.isdigit()):
        return None
    if len(record_id) > 1 and record_id[0] == "0":  # "007" and "7" are different ids
        return None
    number = int(record_id)
    return number if number < _UNSIGNED_64 else None


class IdSet:
    """``add`` and ``in`` for record ids; numeric ids take 8 bytes each."""

    def __init__(self, merge_at: int = MERGE_AT) -> None:
        self._merge_at = merge_at
        self._sorted = array("Q")
        self._recent: set[int] = set()
        self._other: set[str] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent) + len(self._other)

    def __contains__(self, record_id: object) -> bool:
        if not isinstance(record_id, str):
            return False
        number = _as_number(record_id)
        if number is None:
            return record_id in self._other
        return self._has(number)

    def add(self, record_id: str) -> None:
        number = _as_number(record_id)
        if number is None:
            self._other.add(record_id)
            return
        if self._has(number):
            return
        self._recent.add(number)
        # Merging copies the array: let the recent set grow with it (an eighth of it), so
        # the copies stay linear in all.
        if len(self._recent) >= max(self._merge_at, len(self._sorted) >> 3):
            self._merge()

    def _has(self, number: int) -> bool:
        if number in self._recent:
            return True
        at = bisect_left(self._sorted, number)
        return at < len(self._sorted) and self._sorted[at] == number

    def _merge(self) -> None:
        # heapq.merge streams both sorted runs: the peak is the two arrays, never a list.
        merged = array("Q", heapq.merge(self._sorted, sorted(self._recent)))
        self._sorted, self._recent = merged, set()
