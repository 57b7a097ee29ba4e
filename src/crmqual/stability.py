"""Population stability: has the portfolio shifted since the last snapshot?

A snapshot is the whole portfolio at the end of a run (each account's latest written
assessment: a nightly run assesses only the accounts that changed, so its own rows are not
the portfolio), binned: the score in bands of ten points, each scored indicator in the
policy's own bands, plus a bin for missing values. The population stability index of each
between two snapshots is sum((a - e) x ln(a / e)) over the bins' shares (an empty bin counts
as 0.0001); above 0.1 the shift is worth watching, above 0.25 worth acting on.

A sync keeps each written account's bins with its row (``SnapshotCounts.kept``), and the
days its ages count from: a later snapshot counts the account from them, binning only its
ages anew for the day (``portfolio_snapshot``), instead of reading back its inputs and
working out every indicator again. Rows kept before, or by other bands, are read back.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgpack

from crmqual.backtest import row_account
from crmqual.compiled import CompiledPolicy
from crmqual.indicators import AGES, age, indicator_values
from crmqual.model import Account
from crmqual.state.lab import Lab, PortfolioRow

WATCH = 0.1
ACT = 0.25
#: Score bands: below 10, 10-19, ..., 90 and above.
SCORE_EDGES = tuple(float(x) for x in range(10, 100, 10))
#: The share an empty bin counts as (the index is undefined for a share of zero).
EMPTY_SHARE = 1e-4
#: How bins are kept (``SnapshotCounts.kept``) and worked out (``crmqual.indicators``): a
#: change to either must change this, so that rows kept before are read back instead.
KEPT_FORM = 1
#: Kept bins counted at once: their unpacked rows are held meanwhile.
KEPT_CHUNK = 10_000


def edges_of(policy: CompiledPolicy) -> dict[str, tuple[float, ...]]:
    """The bins of a snapshot: the score's, then each scored indicator's policy bands."""
    edges = {"score": SCORE_EDGES}
    for line in policy.lines:
        edges.setdefault(line.name, tuple(line.bands))
    return edges


def kept_key(edges: Mapping[str, Sequence[float]]) -> int:
    """The key of bins kept by these bands, with these ages, in this form (``KEPT_FORM``):
    63 bits of a hash, so that two different keepings never share one."""
    kept = {"form": KEPT_FORM, "edges": list(edges.items()), "ages": list(AGES.items())}
    digest = hashlib.blake2b(json.dumps(kept).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # fits a signed 64-bit column


class SnapshotCounts:
    """A snapshot being counted: each account's values binned, and added."""

    def __init__(self, policy: CompiledPolicy) -> None:
        self.edges = edges_of(policy)
        self.counts = {name: [0] * (len(e) + 2) for name, e in self.edges.items()}
        self.accounts = 0
        self._edges = tuple(item for item in self.edges.items() if item[0] != "score")
        #: Which bands (and form) a row's kept bins are by: only those of the same key count.
        self.key = kept_key(self.edges)
        #: The ages among the bins: (position, bands, the field counted from, unit in days).
        self._ages = tuple(
            (i, bands, *AGES[name])
            for i, (name, bands) in enumerate(self.edges.items())
            if name in AGES
        )

    def bins(self, values: Mapping[str, Any], score: Any) -> list[int]:
        """Which bin of each name the indicator values and the score fall in (-1: the
        missing ones' bin)."""
        get = values.get
        missing = score is None or score.__class__ is str
        found = [-1 if missing else bisect_right(self.edges["score"], score)]
        for name, bands in self._edges:  # every account of a run passes here: kept lean
            value = get(name)
            if value is None or value.__class__ is str:
                found.append(-1)
            else:
                found.append(bisect_right(bands, value))
        return found

    def add(self, bins: Sequence[int]) -> None:
        """One account, binned by ``bins``."""
        self.accounts += 1
        for counts, i in zip(self.counts.values(), bins, strict=True):
            counts[i] += 1

    def add_all(self, binned: Sequence[Sequence[int]]) -> None:
        """Accounts, each binned by its ``bins``: counted name by name, each name's bins
        counted at once (a snapshot adds up to millions: no Python loop per account)."""
        if not binned:
            return
        self.accounts += len(binned)
        for counts, column in zip(self.counts.values(), zip(*binned, strict=True), strict=True):
            _add_column(counts, column)

    def kept(self, bins: Sequence[int], account: Account) -> bytes:
        """An account's ``bins`` as its row keeps them (under ``key``): the bins, then the
        day (ordinal) each of its ages counts from, None where it has none."""
        days = [getattr(account, field) for _, _, field, _ in self._ages]
        ordinals = [None if d is None else d.toordinal() for d in days]
        return msgpack.packb([*bins, *ordinals])  # type: ignore[no-any-return]

    def add_kept(self, packed: Iterable[bytes], today: date) -> None:
        """Accounts from the bins their rows kept (``kept``), their ages binned as of
        ``today``: each age once per day it counts from, not once per account."""
        names = len(self.counts)
        ages = {position: (bands, unit) for position, bands, _, unit in self._ages}
        day = today.toordinal()
        for chunk in _chunks(packed, KEPT_CHUNK):
            # the chunk's rows unpacked in one go, then a column per name
            columns = list(zip(*msgpack.Unpacker(io.BytesIO(b"".join(chunk))), strict=True))
            self.accounts += len(chunk)
            days = iter(columns[names:])  # the ages' days, in the order of their names
            for position, counts in enumerate(self.counts.values()):
                if position in ages:
                    bands, unit = ages[position]
                    for since, n in Counter(next(days)).items():
                        i = -1 if since is None else bisect_right(bands, age(day - since, unit))
                        counts[i] += n
                else:
                    _add_column(counts, columns[position])

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "edges": {k: list(v) for k, v in self.edges.items()},
            "counts": self.counts,
        }


def _add_column(counts: list[int], bins: Iterable[int]) -> None:
    """One name's bins of many accounts into its counts, each bin's accounts counted at once."""
    for i, n in Counter(bins).items():
        counts[i] += n


def _chunks(items: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    rest = iter(items)
    while chunk := list(itertools.islice(rest, size)):
        yield chunk


def stored_indicators(row: PortfolioRow, as_of: datetime) -> Mapping[str, Any]:
    """The indicators a snapshot bins of a stored account, as of the day (its score is in
    its outputs)."""
    try:
        return indicator_values(row_account(row), as_of.date())
    except ValueError:
        return {}


def portfolio_snapshot(
    store: Lab,
    target: str,
    policy: CompiledPolicy,
    as_of: datetime,
    counted: SnapshotCounts | None = None,
    *,
    not_of_run: int | None = None,
) -> dict[str, Any]:
    """``snapshot`` of a target's stored portfolio (each account's latest written row, but
    those ``not_of_run`` recorded): rows that kept their bins by these bands count from
    them, the others from their inputs."""
    counts = counted or SnapshotCounts(policy)
    today = as_of.date()
    # Two reads: nothing writes the target's rows between them (a run holds its lock).
    counts.add_kept(store.iter_kept_bins(target, counts.key, not_of_run=not_of_run), today)
    others = store.iter_portfolio(
        target, scores_only=True, not_of_run=not_of_run, not_kept_by=counts.key
    )
    return snapshot(others, policy, as_of, counts)


def snapshot(
    rows: Iterable[PortfolioRow],
    policy: CompiledPolicy,
    as_of: datetime,
    counted: SnapshotCounts | None = None,
) -> dict[str, Any]:
    """The binned portfolio: ``{"accounts", "edges": {name: [...]}, "counts": {name: [...]}}``
    (counts: one per band, then the missing ones); ``counted``: accounts already counted
    (a sync's own writes, binned as it assessed them), to which ``rows`` are added."""
    counts = counted or SnapshotCounts(policy)
    for row in rows:
        counts.add(counts.bins(stored_indicators(row, as_of), row.outputs.get("score")))
    return counts.as_json()


def psi(expected: Sequence[int], actual: Sequence[int]) -> float | None:
    """The population stability index of two binned populations (None if either is empty)."""
    if len(expected) != len(actual):
        raise ValueError("the two populations must have the same bins")
    total_e, total_a = sum(expected), sum(actual)
    if not total_e or not total_a:
        return None
    index = 0.0
    for e, a in zip(expected, actual, strict=True):
        pe, pa = max(e / total_e, EMPTY_SHARE), max(a / total_a, EMPTY_SHARE)
        index += (pa - pe) * math.log(pa / pe)
    return index


def level(value: float | None) -> str:
    if value is None or value < WATCH:
        return "stable"
    return "act" if value >= ACT else "watch"


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """PSI of the score and of every indicator binned alike in both snapshots:
    ``{"psi": {name: value}, "watch": [...], "act": [...], "level": worst}``."""
    values: dict[str, float] = {}
    for name, counts in after["counts"].items():
        if before["edges"].get(name) != after["edges"][name]:
            continue  # the policy's bands changed: not comparable
        value = psi(before["counts"][name], counts)
        if value is not None:
            values[name] = round(value, 4)
    watch = [n for n, v in values.items() if level(v) == "watch"]
    act = [n for n, v in values.items() if level(v) == "act"]
    worst = "act" if act else "watch" if watch else "stable"
    return {"psi": values, "watch": watch, "act": act, "level": worst}
