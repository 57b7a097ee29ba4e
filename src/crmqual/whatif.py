"""What-if: the same accounts under two policies, and what would change (`crmqual policy diff`).

``Comparison`` takes each account assessed under the old and the new policy and tallies the
grade migration matrix (counts, and exposure per currency in each cell), admission changes,
limits per currency before and after (raised, cut), payment terms changed, flags appearing
and vanishing, and keeps the accounts most affected. Nothing is written anywhere.

Both sides are assessed without the account's history (``previous=None``): a grade
downgrade flag depends on what the CRM showed before, not on the policy, so it is left out
of the comparison rather than counted for one side only.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmqual.compiled import CompiledPolicy
from crmqual.engine import Assessment, assess
from crmqual.model import Account
from crmqual.policy import GRADES
from crmqual.values import Unreadable

#: Admission results from the most to the least favourable.
STATUSES = ("approved", "conditional", "review", "rejected")
#: How many of the most affected accounts a comparison keeps.
MOST_AFFECTED = 20


def changed(old: Assessment, new: Assessment) -> bool:
    """Do the two differ in status, grade, limit (or its currency) or payment terms?"""
    return (
        old.status != new.status
        or old.grade != new.grade
        or old.credit_limit != new.credit_limit
        or old.limit_currency != new.limit_currency
        or old.payment_terms != new.payment_terms
    )


def impact(old: Assessment, new: Assessment) -> tuple[int, float, int]:
    """How much an account is affected, for ranking: (admission steps + grade steps moved,
    the limit's relative change (no limit counts as 0), score points moved)."""
    steps = abs(STATUSES.index(new.status) - STATUSES.index(old.status)) + abs(
        GRADES.index(new.grade) - GRADES.index(old.grade)
    )
    before, after = old.credit_limit or 0, new.credit_limit or 0
    relative = abs(after - before) / max(before, after) if max(before, after) > 0 else 0.0
    if (old.credit_limit is None) != (new.credit_limit is None):
        relative = max(relative, 1.0)  # a limit set where there was none, or the reverse
    return steps, relative, abs(new.score - old.score)


@dataclass
class LimitTotals:
    """Credit limits in one currency before and after."""

    before: int = 0
    after: int = 0
    raised: int = 0
    raised_by: int = 0
    cut: int = 0
    cut_by: int = 0
    no_limit_before: int = 0
    no_limit_after: int = 0

    def as_json(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Case:
    """One account under both policies."""

    account: Account
    old: Assessment
    new: Assessment

    @property
    def exposure_currency(self) -> str:
        return self.account.currency or self.old.limit_currency or ""


def side_json(a: Assessment) -> dict[str, Any]:
    return {
        "status": a.status,
        "grade": a.grade,
        "score": a.score,
        "credit_limit": a.credit_limit,
        "limit_currency": a.limit_currency,
        "payment_terms": a.payment_terms,
        "flags": list(a.flags),
        "reasons": [r.as_dict() for r in a.reasons],
    }


@dataclass
class Comparison:
    """The tally of a what-if over a portfolio; ``add`` each account, then read the figures."""

    old: CompiledPolicy
    new: CompiledPolicy
    as_of: datetime
    accounts: int = 0
    changed: int = 0
    migration: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: dict.fromkeys(GRADES, 0) for g in GRADES}
    )
    #: {from grade: {to grade: {currency: exposure}}}; accounts without exposure add nothing.
    migration_exposure: dict[str, dict[str, dict[str, float]]] = field(
        default_factory=lambda: {g: {h: {} for h in GRADES} for g in GRADES}
    )
    exposure: dict[str, float] = field(default_factory=dict)
    admission: Counter[tuple[str, str]] = field(default_factory=Counter)
    terms: Counter[tuple[str, str]] = field(default_factory=Counter)
    flags_appear: Counter[str] = field(default_factory=Counter)
    flags_vanish: Counter[str] = field(default_factory=Counter)
    limits: dict[str, LimitTotals] = field(default_factory=lambda: defaultdict(LimitTotals))
    _top: list[tuple[tuple[int, float, int, float, int], Case]] = field(default_factory=list)

    def assess(self, account: Account, unreadable: Sequence[Unreadable] = ()) -> Case:
        """Assess ``account`` under both policies, tally it, and return both results."""
        old = assess(account, self.old, as_of=self.as_of, unreadable=unreadable)
        new = assess(account, self.new, as_of=self.as_of, unreadable=unreadable)
        case = Case(account, old, new)
        self.add(case)
        return case

    def add(self, case: Case) -> None:
        old, new = case.old, case.new
        self.accounts += 1
        self.migration[old.grade][new.grade] += 1
        exposure = case.account.current_exposure
        if exposure is not None:
            ccy = case.exposure_currency
            cell = self.migration_exposure[old.grade][new.grade]
            cell[ccy] = cell.get(ccy, 0.0) + exposure
            self.exposure[ccy] = self.exposure.get(ccy, 0.0) + exposure
        if old.status != new.status:
            self.admission[old.status, new.status] += 1
        if old.payment_terms != new.payment_terms:
            self.terms[old.payment_terms, new.payment_terms] += 1
        before, after = set(old.flags), set(new.flags)
        self.flags_appear.update(after - before)
        self.flags_vanish.update(before - after)
        for a, which in ((old, "before"), (new, "after")):
            if a.limit_currency is None:
                continue
            totals = self.limits[a.limit_currency]
            if a.credit_limit is None:
                if which == "before":
                    totals.no_limit_before += 1
                else:
                    totals.no_limit_after += 1
            elif which == "before":
                totals.before += a.credit_limit
            else:
                totals.after += a.credit_limit
        if (
            old.credit_limit is not None
            and new.credit_limit is not None
            and old.limit_currency == new.limit_currency
            and old.limit_currency is not None
        ):
            totals = self.limits[old.limit_currency]
            if new.credit_limit > old.credit_limit:
                totals.raised += 1
                totals.raised_by += new.credit_limit - old.credit_limit
            elif new.credit_limit < old.credit_limit:
                totals.cut += 1
                totals.cut_by += old.credit_limit - new.credit_limit
        if changed(old, new):
            self.changed += 1
            steps, relative, points = impact(old, new)
            key = (steps, relative, points, exposure or 0.0, -self.accounts)
            item = (key, case)
            if len(self._top) < MOST_AFFECTED:
                heapq.heappush(self._top, item)
            elif key > self._top[0][0]:
                heapq.heapreplace(self._top, item)

    def most_affected(self) -> list[Case]:
        """Up to 20 changed accounts, the most affected first (ties: larger exposure, then
        the order they came in)."""
        return [case for _, case in sorted(self._top, key=lambda item: item[0], reverse=True)]

    def flag_changes(self) -> dict[str, dict[str, int]]:
        """{flag: {"appear": n, "vanish": m}} for flags that change on some account, in the
        new policy's order (then the old one's)."""
        order = {code: i for i, code in enumerate([*self.new.flag_order, *self.old.flag_order])}
        codes = sorted(set(self.flags_appear) | set(self.flags_vanish), key=order.get)  # type: ignore[arg-type]
        return {c: {"appear": self.flags_appear[c], "vanish": self.flags_vanish[c]} for c in codes}

    def as_json(self) -> dict[str, Any]:
        admission: dict[str, dict[str, int]] = {}
        for (a, b), n in sorted(self.admission.items()):
            admission.setdefault(a, {})[b] = n
        terms: dict[str, dict[str, int]] = {}
        for (a, b), n in sorted(self.terms.items()):
            terms.setdefault(a, {})[b] = n
        return {
            "old": {"version": self.old.version},
            "new": {"version": self.new.version},
            "as_of": self.as_of.isoformat(),
            "accounts": self.accounts,
            "changed": self.changed,
            "migration": self.migration,
            "migration_exposure": self.migration_exposure,
            "exposure": self.exposure,
            "admission": admission,
            "limits": {ccy: t.as_json() for ccy, t in sorted(self.limits.items())},
            "terms": terms,
            "flags": self.flag_changes(),
            "most_affected": [
                {
                    "id": c.account.id,
                    "name": c.account.name,
                    "exposure": c.account.current_exposure,
                    "currency": c.exposure_currency or None,
                    "old": side_json(c.old),
                    "new": side_json(c.new),
                }
                for c in self.most_affected()
            ],
        }


#: CSV columns of `policy diff --csv`: one row per account.
CSV_COLUMNS = (
    "id",
    "name",
    "changed",
    "exposure",
    "currency",
    *(
        f"{side}_{name}"
        for side in ("old", "new")
        for name in (
            "status",
            "grade",
            "score",
            "credit_limit",
            "limit_currency",
            "payment_terms",
            "flags",
            "reasons",
        )
    ),
)


def csv_row(case: Case) -> dict[str, str]:
    exposure = case.account.current_exposure
    row = {
        "id": case.account.id,
        "name": case.account.name or "",
        "changed": "yes" if changed(case.old, case.new) else "no",
        "exposure": "" if exposure is None else f"{exposure:.2f}",
        "currency": case.exposure_currency,
    }
    for side, a in (("old", case.old), ("new", case.new)):
        row |= {
            f"{side}_status": a.status,
            f"{side}_grade": a.grade,
            f"{side}_score": str(a.score),
            f"{side}_credit_limit": "" if a.credit_limit is None else str(a.credit_limit),
            f"{side}_limit_currency": a.limit_currency or "",
            f"{side}_payment_terms": a.payment_terms,
            f"{side}_flags": ";".join(a.flags),
            f"{side}_reasons": ";".join(r.code for r in a.reasons),
        }
    return row
